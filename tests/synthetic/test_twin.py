"""The CHB-MIT twin: the plan of all 24 cases reproduces CHB-MIT's metadata, and a written twin
indexes as the metadata alone do. Skips where ../shared/chbmit is absent.

Cost: the plan, list and header-only tests take about 5 s; the written twin (4 chb12 files, one
per montage block, and 2 of chb24's) about 15 s on 2 cores and 280 MB in tmp_path.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from preictal.chbmit.dataset import data_source, read_lines, read_sha256sums
from preictal.chbmit.edf import read_edf_header
from preictal.chbmit.index import build_case_index_in
from preictal.chbmit.summary_file import parse_summary
from preictal.chbmit.timeline import build_timeline
from preictal.chbmit.verify import verify_dataset
from preictal.io import sha256_file, write_json, write_text
from preictal.synthetic.dataset import write_edf
from preictal.synthetic.head import parse_label
from preictal.synthetic.plan import SyntheticSpec, ground_truth, plan_dataset
from preictal.synthetic.twin import generate_twin, index_differences, write_twin_lists

PATIENTS = {"chb21": "chb01"}
# One chb12 file per montage block (bipolar, referential CS2, the block with '01', the last),
# and chb24's first summary file with one that only RECORDS lists.
FILES = ["chb12_06.edf", "chb12_27.edf", "chb12_28.edf", "chb12_33.edf"]
FILES += ["chb24_01.edf", "chb24_02.edf"]
# Columns of the index that come from the summary (the rest describe the EDF headers).
SUMMARY_COLUMNS = ["file", "in_summary", "montage_id", "n_channels_listed", "n_seizures"]
TIME_COLUMNS = ["start_clock", "end_clock", "start_sec", "end_sec", "duration_sec", "segment"]


def twin_spec(meta, cases="all", files=None) -> SyntheticSpec:
    cfg = {"structure": "chbmit", "metadata_root": str(meta), "cases": cases, "files": files}
    return SyntheticSpec.from_config(cfg, patients=PATIENTS)


@pytest.fixture(scope="module")
def plans(chbmit_meta):
    return {p.case: p for p in plan_dataset(twin_spec(chbmit_meta))}


def test_plan_reproduces_chbmit_counts(plans):
    assert len(plans) == 24
    assert sum(len(p.files) for p in plans.values()) == 686
    assert sum(len(p.seizures) for p in plans.values()) == 198
    assert sum(len({s.file for s in p.seizures}) for p in plans.values()) == 141
    assert plans["chb21"].patient == "chb01"  # chb01's patient profile
    assert plans["chb24"].chosen_times == [f.name for f in plans["chb24"].files]
    assert all(p.chosen_times is None for c, p in plans.items() if c != "chb24")


def test_plan_has_each_files_channels_clock_times_and_seizures(plans, chbmit_meta):
    for case, plan in plans.items():
        summary = parse_summary(chbmit_meta / f"{case}-summary.txt", case)
        assert plan.summary_text == (chbmit_meta / f"{case}-summary.txt").read_text()
        by_name = {f.name: f for f in plan.files}
        for sf in summary.files:
            f = by_name[sf.name]
            # The EDF's labels as written; the parser upper-cases them and reads 01 as O1.
            written = [ch.upper().replace("01", "O1") for ch in plan.montages[f.montage_id]]
            assert written == list(sf.channels), sf.name
            if case != "chb24":
                assert (f.start_clock, f.end_clock) == (sf.start_clock, sf.end_clock)
        for labels in plan.signal_montages or plan.montages:
            for label in labels:
                parse_label(label)  # every channel can be synthesized
        if case == "chb24":
            continue
        files, seizures = build_timeline(summary)  # the index of the metadata alone
        assert [f.start_sec for f in plan.files] == files.start_sec.tolist()
        assert [f.duration_sec for f in plan.files] == files.duration_sec.tolist()
        assert [(s.file, s.onset_sec, s.end_sec) for s in plan.seizures] == list(
            zip(seizures.file, seizures.onset_sec, seizures.end_sec, strict=True)
        )
    assert "01" in plans["chb12"].montages[2] and "T8-P8" in plans["chb01"].montages[0]
    assert plans["chb01"].montages[0].count("T8-P8") == 2
    assert "." in {ch for m in plans["chb18"].montages for ch in m}


def test_lists_are_chbmits_with_the_seizure_list_corrected(chbmit_meta, tmp_path):
    write_twin_lists(twin_spec(chbmit_meta), tmp_path)
    for name in ("RECORDS", "SUBJECT-INFO", "ANNOTATORS"):
        assert (tmp_path / name).read_bytes() == (chbmit_meta / name).read_bytes(), name
    real = set(read_lines(chbmit_meta / "RECORDS-WITH-SEIZURES"))
    twin = read_lines(tmp_path / "RECORDS-WITH-SEIZURES")
    assert len(twin) == 141
    # PhysioNet's list names chb07_18, whose seizure the summary puts in chb07_19.
    assert real - set(twin) == {"chb07/chb07_18.edf"}
    assert set(twin) - real == {"chb07/chb07_19.edf"}


def write_header_only_edf(path, labels, sfreq: int, start_sec: float, duration_sec: float):
    """An EDF whose header is the twin's (labels, start day and clock, length) and whose data are
    a sparse run of zeros: the index and the verification read headers and sizes only."""
    write_edf(path, np.zeros((len(labels), sfreq)), labels, sfreq, start_sec)
    with open(path, "r+b") as fh:
        fh.seek(236)  # the header's number of data records (1-s records)
        fh.write(f"{int(duration_sec):<8d}".encode())
    os.truncate(path, 256 * (len(labels) + 1) + 2 * sfreq * len(labels) * int(duration_sec))


def test_all_24_cases_index_and_verify_as_chbmit(plans, chbmit_meta, tmp_path):
    """The twin's summaries, lists and EDF headers of all 686 files (sparse data, 16 MB on disk):
    the index equals the metadata-only index, and the verification counts CHB-MIT's numbers."""
    spec = twin_spec(chbmit_meta)
    for case, plan in plans.items():
        write_text(tmp_path / case / f"{case}-summary.txt", plan.summary_text)
        for f in plan.files:
            labels = plan.montages[f.montage_id]
            path = tmp_path / case / f.name
            write_header_only_edf(path, labels, spec.sfreq, f.start_sec, f.duration_sec)
    write_twin_lists(spec, tmp_path)
    write_json(tmp_path / "SYNTHETIC.json", ground_truth(spec, list(plans.values()), tmp_path))
    index = {case: build_case_index_in(tmp_path, case, patients=PATIENTS) for case in plans}
    for case, twin in index.items():
        meta = build_case_index_in(chbmit_meta, case, patients=PATIENTS)
        assert index_differences(case, twin, meta) == []  # chb24: only what the summary says
    # The comparison can fail: a seizure moved by a second, a file's clock time by a minute.
    files, seizures = index["chb01"]
    meta = build_case_index_in(chbmit_meta, "chb01", patients=PATIENTS)
    moved = seizures.assign(onset_sec=seizures.onset_sec + 1)
    assert index_differences("chb01", (files, moved), meta)[0].startswith("chb01 seizures:")
    late = files.assign(start_sec=files.start_sec.where(files.index > 0, 60.0))
    assert index_differences("chb01", (late, seizures), meta)[0].startswith("chb01 files:")
    result = verify_dataset(tmp_path, list(plans), index, patients=PATIENTS, check_sha256=False)
    totals = result["totals"]
    assert totals.pop("hours") == pytest.approx(961.64 + 22, abs=0.01)  # chb24: 22 h chosen
    assert totals.pop("hours_with_clock_times") == pytest.approx(961.64 + 22, abs=0.01)
    assert totals == {
        "cases": 24,
        "seizures": 198,
        "files_in_summaries": 676,
        "files_in_records": 686,
        "files_with_seizures_in_summaries": 141,
        "files_in_records_with_seizures": 141,
        "edfs_on_disk": 686,
    }
    assert result["records_with_seizures_discrepancies"] == []  # chb07_19 listed, not chb07_18
    assert result["problems"] == [  # CHB-MIT's own, as for the real data
        "chb10/chb10_89.edf: starts 670 s before the previous file ends",
        "chb18/chb18_36.edf: starts 3369 s before the previous file ends",
        "chb24: 10 file(s) in RECORDS that the summary does not list (no seizures, no clock "
        "times in the summary)",
    ]


@pytest.fixture(scope="module")
def written(chbmit_meta, tmp_path_factory):
    root = tmp_path_factory.mktemp("twin")
    spec = twin_spec(chbmit_meta, ["chb12", "chb24"], FILES)
    return root, {p.case: p for p in generate_twin(spec, root, threads=2)}


def test_written_twin_indexes_as_the_metadata(written, chbmit_meta):
    root, plans = written
    for case in ("chb12", "chb24"):
        twin_files, twin_seizures = build_case_index_in(root, case, patients=PATIENTS)
        meta_files, meta_seizures = build_case_index_in(chbmit_meta, case, patients=PATIENTS)
        meta_files = meta_files[meta_files.file.isin(FILES)].reset_index(drop=True)
        meta_seizures = meta_seizures[meta_seizures.file.isin(FILES)].reset_index(drop=True)
        assert twin_files.edf_present.all()
        # The metadata alone hold no file that only RECORDS lists (chb24_02): it follows.
        assert twin_files.file[~twin_files.in_summary].tolist() == (
            ["chb24_02.edf"] if case == "chb24" else []
        )
        listed = twin_files[twin_files.in_summary].reset_index(drop=True)
        pd.testing.assert_frame_equal(listed[SUMMARY_COLUMNS], meta_files[SUMMARY_COLUMNS])
        in_file = ["file", "seizure_in_file", "start_in_file_sec", "end_in_file_sec"]
        pd.testing.assert_frame_equal(twin_seizures[in_file], meta_seizures[in_file])
        plan = plans[case]
        assert twin_files.start_sec.tolist() == [f.start_sec for f in plan.files]
        assert twin_files.duration_sec.tolist() == [f.duration_sec for f in plan.files]
        if case == "chb12":  # clock times, days and seizures exactly where the metadata put them
            pd.testing.assert_frame_equal(twin_files[TIME_COLUMNS], meta_files[TIME_COLUMNS])
            pd.testing.assert_frame_equal(twin_seizures, meta_seizures)
        else:  # chb24: chosen times, read from the EDF headers, in one segment
            assert (twin_files.time_source == "edf_header").all()
            assert twin_files.segment.nunique() == 1
            assert meta_files.duration_sec.isna().all()
    header = read_edf_header(root / "chb12" / "chb12_28.edf")
    assert header.labels == plans["chb12"].montages[2] and "01" in header.labels
    assert header.start_date == "02.01.01"  # day 1 of the case, as the timeline has it


def test_written_twin_verifies_with_its_marker_and_checksums(written):
    root, plans = written
    source = data_source(root)
    assert source["kind"] == "synthetic" and source["structure"] == "chbmit"
    sums = read_sha256sums(root / "SHA256SUMS.txt")
    assert {rel for rel in sums if rel.endswith(".edf")} == {
        f"{c}/{f.name}" for c, p in plans.items() for f in p.files
    }
    assert all(sha256_file(root / rel) == digest for rel, digest in sums.items())
    index = {c: build_case_index_in(root, c, patients=PATIENTS) for c in plans}
    result = verify_dataset(root, list(plans), index, patients=PATIENTS)
    assert result["sha256"]["status"] == "ok"
    # chb24's RECORDS-only file is CHB-MIT's own quirk; nothing else is reported.
    assert result["problems"] == [
        "chb24: 1 file(s) in RECORDS that the summary does not list (no seizures, no clock "
        "times in the summary)"
    ]
    truth = json.loads((root / "SYNTHETIC.json").read_text())
    assert set(truth["cases"]["chb12"]["events"]) == {f for f in FILES if f.startswith("chb12")}
    assert "summary_text" not in truth["cases"]["chb12"]
