"""Labels on hand-computed cases, against a scalar reference written from the definitions."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from preictal.labels import LabelParams, label_windows, seizure_ledger

P = LabelParams()  # 10 min, 30 s, 10 min, 30 min; tau 120 s; lead 30 min


def reference_label(start, end, seizures, p=P):
    """One window, straight from docs/LABELING_SCHEMA.md (no vectorisation)."""
    for onset, s_end in seizures:
        if onset < end and s_end > start:
            return "ictal"
    for _, s_end in seizures:
        if s_end < end and s_end + p.postictal_min * 60 > start:
            return "postictal"
    upcoming = [onset for onset, _ in seizures if onset >= end]
    if upcoming:
        ahead = min(upcoming) - end
        if p.gap_sec <= ahead <= p.preictal_min * 60:
            return "preictal"

    def dist(t):
        return 0.0 if start <= t <= end else min(abs(t - start), abs(t - end))

    if all(dist(t) >= p.interictal_buffer_min * 60 for sz in seizures for t in sz):
        return "interictal"
    if upcoming and min(upcoming) - end < p.gap_sec:
        return "sph"
    return "near_seizure"


def windows_over(t0, t1, w=10.0, step=5.0, segment=0):
    starts = np.arange(t0, t1 - w + 1e-9, step)
    return pd.DataFrame({"start_sec": starts, "end_sec": starts + w, "segment": segment})


def seizures_df(pairs, segment=0):
    return pd.DataFrame(
        {
            "case": "chb99",
            "patient": "chb99",
            "file": "chb99_01.edf",
            "seizure_in_file": range(1, len(pairs) + 1),
            "onset_sec": [a for a, _ in pairs],
            "end_sec": [b for _, b in pairs],
            "segment": segment,
        }
    )


def test_single_seizure_by_hand():
    onset, end = 7200.0, 7260.0
    w = windows_over(0, 14400)
    lab = label_windows(w, seizures_df([(onset, end)]), P)
    by_end = dict(zip(w.end_sec, lab.reason, strict=True))
    assert by_end[onset - 600] == "preictal"  # window end exactly SPH + SOP before onset
    assert by_end[onset - 30] == "preictal"  # ... and exactly SPH before
    assert by_end[onset - 25] == "sph"
    assert by_end[onset - 605] == "near_seizure"
    assert by_end[onset + 5] == "ictal" and by_end[end + 5] == "ictal"  # window overlaps the end
    assert by_end[end + 10] == "postictal" and by_end[end + 600 + 5] == "postictal"
    assert by_end[end + 600 + 10] == "near_seizure"
    assert by_end[onset - 1800] == "interictal" and by_end[onset - 1795] == "near_seizure"
    assert by_end[end + 1800 + 10] == "interictal" and by_end[end + 1800 + 5] == "near_seizure"
    pre = lab[lab.label == "preictal"]
    assert len(pre) == (600 - 30) // 5 + 1
    ends = w.end_sec[pre.index]
    np.testing.assert_allclose(pre.y_tte, onset - ends)
    np.testing.assert_allclose(pre.y_soft, np.exp(-(onset - ends) / 120), rtol=1e-6)
    assert (lab.y_soft[lab.label != "preictal"] == 0).all()
    assert (pre.seizure == 0).all() and (lab.seizure[lab.label != "preictal"] == -1).all()
    assert lab.y_tte[w.end_sec > end].eq(-1).all()
    assert set(lab.y_cls[lab.label == "interictal"]) == {0}
    assert set(lab.y_cls[lab.label == "excluded"]) == {-1}


def test_seizure_near_file_start_takes_preictal_from_the_previous_file():
    # File 1: 0-3600, gap of 8 s, file 2 starts at 3608 with a seizure 200 s in.
    w = pd.concat([windows_over(0, 3600), windows_over(3608, 7208)], ignore_index=True)
    onset = 3608 + 200.0
    lab = label_windows(w, seizures_df([(onset, onset + 40)]), P)
    pre = w[lab.label == "preictal"]
    assert (pre.end_sec <= 3600).sum() > 0  # preictal windows in the previous file
    assert pre.end_sec.min() == pytest.approx(onset - 600, abs=5)
    assert lab.reason[(w.end_sec > 3600) & (w.end_sec < onset - 30)].eq("preictal").all()


def test_cluster_and_lead_seizures():
    pairs = [(7200.0, 7250.0), (7250.0 + 300, 7600.0), (9600.0, 9640.0)]
    w = windows_over(0, 14400)
    lab = label_windows(w, seizures_df(pairs), P)
    # The second seizure's preictal period is the first one's ictal/postictal time: excluded.
    assert (lab.seizure == 1).sum() == 0
    ledger = seizure_ledger(
        pd.DataFrame({"start_sec": [0.0], "end_sec": [14400.0], "segment": [0]}),
        seizures_df(pairs),
        lab,
        P,
    )
    assert ledger.lead.tolist() == [True, False, True]  # 9600 - 7600 = 33 min >= 30
    assert ledger.scorable.tolist() == [True, False, True]
    assert "previous one ended 5.0 min before" in ledger.reason[1]
    assert ledger.n_preictal_windows.tolist() == [115, 0, 115]


def test_preictal_recorded_fraction_and_gap():
    files = pd.DataFrame(
        {"start_sec": [0.0, 7000.0], "end_sec": [6800.0, 10000.0], "segment": [0, 0]}
    )
    onset = 7300.0  # preictal period [6700, 7270]: 100 s + 270 s recorded out of 570 s
    ledger = seizure_ledger(files, seizures_df([(onset, onset + 30)]), None, P)
    assert ledger.preictal_recorded_sec[0] == pytest.approx(370)
    assert ledger.preictal_recorded_fraction[0] == pytest.approx(370 / 570)
    assert bool(ledger.scorable[0])
    ledger = seizure_ledger(
        files, seizures_df([(7500.0, 7530.0)]), None, P
    )  # [6900, 7470]: 0 + 470 s
    assert ledger.preictal_recorded_sec[0] == pytest.approx(470)
    strict = LabelParams(min_preictal_recorded=0.7)  # 370 / 570 = 0.65 is not enough
    ledger = seizure_ledger(files, seizures_df([(onset, onset + 30)]), None, strict)
    assert not ledger.scorable[0] and "65% of its preictal period recorded" in ledger.reason[0]


def test_segments_do_not_see_each_other_and_gap_spanning_windows_are_excluded():
    w = pd.concat(
        [windows_over(0, 3600, segment=0), windows_over(90000, 93600, segment=1)],
        ignore_index=True,
    )
    w["spans_gap"] = False
    w.loc[3, "spans_gap"] = True
    lab = label_windows(w, seizures_df([(90100.0, 90130.0)], segment=1), P)
    seg0 = lab[w.segment == 0]
    assert seg0.label.drop(index=3).eq("interictal").all()  # no seizure in its own segment
    assert lab.reason[3] == "spans_gap"
    assert seg0.y_tte.eq(-1).all()


def test_midnight_crossing_times_are_just_numbers():
    onset = 86400.0 + 200  # 00:03:20 on day 1
    w = windows_over(86400 - 3600, 86400 + 3600)
    lab = label_windows(w, seizures_df([(onset, onset + 45)]), P)
    pre = w[lab.label == "preictal"]
    assert pre.end_sec.min() == onset - 600 and pre.end_sec.max() == onset - 30
    assert (pre.end_sec < 86400).any()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vectorised_equals_scalar_reference(seed):
    rng = np.random.default_rng(seed)
    onsets = np.sort(rng.uniform(1000, 40000, size=6))
    pairs = [(float(o), float(o + rng.uniform(10, 120))) for o in onsets]
    pairs = [p for k, p in enumerate(pairs) if k == 0 or p[0] > pairs[k - 1][1]]
    w = windows_over(0, 43200, w=10, step=5)
    lab = label_windows(w, seizures_df(pairs), P)
    expected = [reference_label(s, e, pairs) for s, e in zip(w.start_sec, w.end_sec, strict=True)]
    assert lab.reason.tolist() == expected
    assert not math.isnan(lab.y_soft.sum())
