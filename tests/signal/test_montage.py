"""Canonical channel selection and the montage ledger, on CHB-MIT's real channel lists."""

from __future__ import annotations

import numpy as np

from preictal.chbmit.summary_file import parse_summary
from preictal.signal.montage import CANONICAL_CHANNELS, normalise_label, plan_montage
from preictal.synthetic.plan import DUMMY_MONTAGE, STANDARD_MONTAGE


def test_standard_montage_uses_the_first_t8_p8():
    plan = plan_montage(STANDARD_MONTAGE)
    assert not plan.excluded and plan.kind == "bipolar"
    rows = plan.weights.argmax(axis=1)
    assert [STANDARD_MONTAGE[i] for i in rows] == list(CANONICAL_CHANNELS)
    assert rows[CANONICAL_CHANNELS.index("T8-P8")] == 14  # not the duplicate at 22
    assert set(plan.dropped) == {"P7-T7", "T7-FT9", "FT9-FT10", "FT10-T8", "T8-P8"}
    assert (np.abs(plan.weights).sum(axis=1) == 1).all()


def test_dummy_channels_are_dropped_and_order_is_fixed():
    plan = plan_montage(DUMMY_MONTAGE)
    assert not plan.excluded
    assert "-" in plan.dropped
    assert [DUMMY_MONTAGE[i] for i in plan.weights.argmax(axis=1)] == list(CANONICAL_CHANNELS)


def test_case_insensitive_and_mne_duplicate_suffixes():
    labels = [c.lower() for c in CANONICAL_CHANNELS[:14]] + [
        "T8-P8-0",
        "P8-O2",
        "Fz-Cz",
        "CZ-PZ",
        "T8-P8-1",
    ]
    plan = plan_montage(labels)
    assert not plan.excluded
    assert normalise_label("t8-p8-1") == "T8-P8"
    assert normalise_label("01") == "O1" and normalise_label("P3-01") == "P3-O1"


def test_referential_files_are_rederived(chbmit_meta):
    chb12 = parse_summary(chbmit_meta / "chb12-summary.txt")
    by_file = {f.name: f.channels for f in chb12.files}
    for name in ("chb12_27.edf", "chb12_28.edf", "chb12_29.edf"):
        plan = plan_montage(by_file[name])
        assert not plan.excluded, (name, plan.missing)
        assert plan.kind == "referential"
        assert len(plan.derived) == 18
    # Re-derivation is a difference of two referential channels.
    labels = by_file["chb12_28.edf"]
    plan = plan_montage(labels)
    row = plan.weights[CANONICAL_CHANNELS.index("P3-O1")]
    assert row[list(labels).index("P3")] == 1 and row[list(labels).index("O1")] == -1
    x = np.random.default_rng(0).normal(size=(len(labels), 50)).astype(np.float32)
    out = plan.weights @ x
    np.testing.assert_allclose(
        out[CANONICAL_CHANNELS.index("P3-O1")],
        x[list(labels).index("P3")] - x[list(labels).index("O1")],
    )


def test_every_real_montage_is_usable_or_explained(chbmit_meta):
    """Every montage of the 24 real summaries gives 18 channels, or an exclusion reason."""
    seen = 0
    for i in range(1, 25):
        summary = parse_summary(chbmit_meta / f"chb{i:02d}-summary.txt")
        for montage in summary.montages:
            plan = plan_montage(montage)
            seen += 1
            if plan.excluded:
                assert plan.ledger()["reason"].startswith("canonical channels neither present")
            else:
                assert plan.weights.shape == (18, len(montage))
    assert seen == 24 + 16  # the first block of each summary plus 16 'Channels changed' blocks


def test_too_few_channels_excludes_with_reason():
    plan = plan_montage(["FP1-F7", "F7-T7", "-", "ECG"])
    assert plan.excluded
    ledger = plan.ledger()
    assert ledger["excluded"] and "T7-P7" in ledger["reason"] and "CZ-PZ" in ledger["reason"]
    assert len(plan.missing) == 16
