"""The synthetic dataset: CHB-MIT layout and format, planted quirks, and exact recovery of its
ground truth by the parser and the timeline."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from preictal.chbmit.dataset import data_source, read_sha256sums, read_subject_info
from preictal.chbmit.edf import read_edf_header
from preictal.chbmit.index import build_case_index_in
from preictal.chbmit.summary_file import parse_summary
from preictal.io import sha256_file
from preictal.synthetic.dataset import generate_dataset
from preictal.synthetic.plan import (
    DUMMY_MONTAGE,
    STANDARD_MONTAGE,
    SyntheticSpec,
    dataset_paths,
    plan_dataset,
)

REPO = Path(__file__).resolve().parents[2]
TINY = SyntheticSpec.from_config(
    yaml.safe_load((REPO / "presets/tiny.yaml").read_text())["synthetic"],
    patients={"chb21": "chb01"},
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic")
    plans = generate_dataset(TINY, root, threads=2)
    return root, {p.case: p for p in plans}


def test_layout_matches_chbmit(tiny):
    root, plans = tiny
    expected = dataset_paths(TINY, root)
    for paths in expected.values():
        for path in paths:
            assert path.is_file(), path
    records = (root / "RECORDS").read_text().splitlines()
    assert records == [f"{c}/{f.name}" for c, p in plans.items() for f in p.files]
    with_seizures = (root / "RECORDS-WITH-SEIZURES").read_text().splitlines()
    assert with_seizures == sorted({f"{c}/{s.file}" for c, p in plans.items() for s in p.seizures})
    info = read_subject_info(root / "SUBJECT-INFO")
    assert set(info) == set(TINY.cases)
    assert info["chb21"]["sex"] == info["chb01"]["sex"]  # one patient
    assert info["chb21"]["age_years"] == info["chb01"]["age_years"] + 1.5
    sums = read_sha256sums(root / "SHA256SUMS.txt")
    assert {rel for rel in sums if rel.endswith(".edf")} == set(records)
    assert all(sha256_file(root / rel) == digest for rel, digest in sums.items())
    assert data_source(root)["kind"] == "synthetic"


def test_edfs_are_16_bit_256_hz_with_chbmit_montage(tiny):
    root, plans = tiny
    for case, plan in plans.items():
        for f in plan.files:
            h = read_edf_header(root / case / f.name)
            assert h.labels == plan.montages[f.montage_id]
            assert set(h.sampling_rates_hz) == {256}
            assert h.duration_sec == f.duration_sec
            assert h.start_clock_sec == int(f.start_sec) % 86400
            assert h.file_bytes == 256 * (len(h.labels) + 1) + 2 * 256 * len(h.labels) * h.n_records
    assert STANDARD_MONTAGE.count("T8-P8") == 2


def test_timeline_recovers_ground_truth_exactly(tiny):
    root, plans = tiny
    truth = json.loads((root / "SYNTHETIC.json").read_text())
    for case, plan in plans.items():
        files, seizures = build_case_index_in(root, case, patients={"chb21": "chb01"})
        # The timeline origin is midnight of the first day, as in the plan.
        assert files.start_sec.tolist() == [f.start_sec for f in plan.files]
        assert files.duration_sec.tolist() == [f.duration_sec for f in plan.files]
        assert files.time_source.eq("summary").all() and files.edf_present.all()
        assert seizures.onset_sec.tolist() == [s.onset_sec for s in plan.seizures]
        assert seizures.end_sec.tolist() == [s.end_sec for s in plan.seizures]
        assert files.patient.unique().tolist() == [truth["cases"][case]["patient"]]
        gaps = files.gap_before_sec.to_numpy()[1:]
        assert (gaps > 0).all() and (gaps > 60).sum() == 1  # short gaps and one long gap


def test_quirks_are_planted(tiny):
    root, plans = tiny
    quirks = {q: c for c, p in plans.items() for q in p.quirks}
    assert set(quirks) == {
        "seizure_near_file_start",
        "seizure_cluster",
        "montage_change",
        "midnight_crossing",
    }

    # A file runs past midnight; its end clock is written >= 24:00, later ones without a zero.
    case = quirks["midnight_crossing"]
    summary = parse_summary(root / case / f"{case}-summary.txt")
    assert any(int(f.end_clock.split(":")[0]) >= 24 for f in summary.files)
    files, _ = build_case_index_in(root, case, patients={})
    assert ((files.start_sec < 86400) & (files.end_sec > 86400)).any()

    # A seizure a few minutes into a file: its 10-minute preictal period lies in the previous file.
    case = quirks["seizure_near_file_start"]
    files, seizures = build_case_index_in(root, case, patients={})
    near = [s for s in plans[case].seizures if s.role == "near_file_start"][0]
    assert 120 <= near.start_in_file_sec <= 360
    prev = files[files.end_sec <= near.onset_sec].iloc[-1]
    assert prev.end_sec > near.onset_sec - 600

    # A cluster: two seizures within minutes of a lead seizure.
    case = quirks["seizure_cluster"]
    onsets = np.array([s.onset_sec for s in plans[case].seizures])
    assert (np.diff(onsets) < 15 * 60).sum() >= 2

    # A montage change to a montage with dummy '-' channels.
    case = quirks["montage_change"]
    summary = parse_summary(root / case / f"{case}-summary.txt")
    assert summary.montages == [STANDARD_MONTAGE, DUMMY_MONTAGE]
    assert "Channels changed:" in (root / case / f"{case}-summary.txt").read_text()
    last = read_edf_header(root / case / summary.files[-1].name)
    assert "-" in last.labels


def test_numbered_and_unnumbered_summaries(tiny):
    root, _ = tiny
    assert "Seizure Start Time:" in (root / "chb01" / "chb01-summary.txt").read_text()
    assert "Seizure 1 Start Time:" in (root / "chb21" / "chb21-summary.txt").read_text()


def test_plan_is_deterministic_and_seed_dependent():
    a, b = plan_dataset(TINY), plan_dataset(TINY)
    assert [p.to_dict() for p in a] == [p.to_dict() for p in b]
    other = plan_dataset(SyntheticSpec(**{**TINY.__dict__, "seed": 7}))
    assert [p.to_dict() for p in other] != [p.to_dict() for p in a]


def test_generation_is_deterministic(tiny, tmp_path):
    root, _ = tiny
    generate_dataset(TINY, tmp_path, threads=1)  # other thread count, same bytes
    first = read_sha256sums(root / "SHA256SUMS.txt")
    again = read_sha256sums(tmp_path / "SHA256SUMS.txt")
    assert {k: v for k, v in again.items() if k != "SYNTHETIC.json"} == {
        k: v for k, v in first.items() if k != "SYNTHETIC.json"
    }


def test_impossible_plan_is_a_clear_error():
    with pytest.raises(ValueError, match="cannot place 9 seizures"):
        plan_dataset(SyntheticSpec(**{**TINY.__dict__, "seizures_per_case": 9}))


def test_artifact_events_are_recorded_as_ground_truth(tiny):
    root, plans = tiny
    truth = json.loads((root / "SYNTHETIC.json").read_text())
    events = truth["cases"]["chb02"]["events"]
    assert set(events) == {f.name for f in plans["chb02"].files}
    kinds = {e["kind"] for file_events in events.values() for e in file_events}
    assert {"blink", "muscle"} <= kinds
    for name, file_events in events.items():
        duration = next(f.duration_sec for f in plans["chb02"].files if f.name == name)
        assert all(0 <= e["start_sec"] <= e["end_sec"] <= duration for e in file_events)
