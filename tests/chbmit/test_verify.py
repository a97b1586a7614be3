"""Dataset verification on PhysioNet's real metadata, and on a folder with EDFs."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from preictal.chbmit.dataset import SYNTHETIC_MARKER, data_source, resolve_cases
from preictal.chbmit.errors import DatasetError
from preictal.chbmit.index import build_case_index_in
from preictal.chbmit.verify import (
    render_markdown,
    run_case_files,
    run_verification,
    verify_dataset,
)

PATIENTS = {"chb21": "chb01"}
ALL_CASES = [f"chb{i:02d}" for i in range(1, 25)]


@pytest.fixture(scope="module")
def real_result(chbmit_meta):
    index = {c: build_case_index_in(chbmit_meta, c, patients=PATIENTS) for c in ALL_CASES}
    return verify_dataset(chbmit_meta, ALL_CASES, index, patients=PATIENTS, check_sha256=True)


def test_reproduces_physionet_counts(real_result):
    t = real_result["totals"]
    assert t["cases"] == 24
    assert t["seizures"] == 198
    assert sum(real_result["cases"][c]["seizures"] for c in ALL_CASES[:23]) == 182
    assert real_result["cases"]["chb24"]["seizures"] == 16
    assert t["files_with_seizures_in_summaries"] == 141
    assert t["files_in_records_with_seizures"] == 141
    assert t["files_in_summaries"] == 676
    assert t["files_in_records"] == 686
    hours = sum(real_result["cases"][c]["hours"] for c in ALL_CASES[:23])
    assert hours == pytest.approx(961.6, abs=0.05)


def test_says_metadata_only(real_result):
    assert real_result["data_source"]["kind"] == "chbmit-metadata"
    assert real_result["mode"].startswith("metadata-only")
    assert real_result["totals"]["edfs_on_disk"] == 0
    assert all(not r["missing_edfs"] for r in real_result["cases"].values())
    # The metadata files themselves are checked against PhysioNet's SHA256SUMS.txt.
    sha = real_result["sha256"]
    assert sha["mismatched"] == [] and sha["verified"] >= 24 + 3
    assert sha["absent_edfs"] == 686


def test_chb07_discrepancy_is_reported(real_result):
    found = {(d["case"], d["file"]) for d in real_result["records_with_seizures_discrepancies"]}
    assert found == {("chb07", "chb07_18.edf"), ("chb07", "chb07_19.edf")}
    md = render_markdown(real_result)
    assert "chb07/chb07_18.edf: in RECORDS-WITH-SEIZURES" in md


def test_montage_changes_patients_and_chb24(real_result):
    changed = {c for c, r in real_result["cases"].items() if r["montage_changes"]}
    assert changed == {
        f"chb{i}" for i in ("04", "09", "11", "12", "13", "15", "16", "17", "18", "19")
    }
    assert real_result["patients"]["chb01"] == ["chb01", "chb21"]
    assert real_result["subject_info"]["cases_without_info"] == ["chb24"]
    chb24 = real_result["cases"]["chb24"]
    assert chb24["segments"] == 12 and len(chb24["records_not_in_summary"]) == 10
    overlapping = {
        (c, o["file"]) for c, r in real_result["cases"].items() for o in r["overlapping_files"]
    }
    assert overlapping == {("chb10", "chb10_89.edf"), ("chb18", "chb18_36.edf")}


def test_unknown_case_is_rejected(chbmit_meta):
    with pytest.raises(DatasetError, match=r"chb99 not in .*chb01, chb02"):
        resolve_cases(["chb01", "chb99"], ["chb01", "chb02"], str(chbmit_meta))
    with pytest.raises(DatasetError, match="no CHB-MIT cases"):
        resolve_cases("all", [], "/nowhere")


def test_sha256_mismatch_and_missing_edf_are_found(tmp_path, chbmit_meta):
    """A small CHB-MIT-shaped copy with EDFs: one file corrupted, one missing."""
    from preictal.chbmit.summary_file import format_summary, parse_summary
    from preictal.io import sha256_file
    from preictal.synthetic.dataset import write_edf

    root = tmp_path / "data"
    (root / "chb05").mkdir(parents=True)
    real = parse_summary(chbmit_meta / "chb05-summary.txt")
    # Two 20-second files with chb05's real montage, so that the EDFs stay small.
    (root / "chb05" / "chb05-summary.txt").write_text(
        format_summary(
            256,
            real.montages,
            [
                {
                    "name": "chb05_01.edf",
                    "montage_id": 0,
                    "start_clock": "07:15:00",
                    "end_clock": "07:15:20",
                    "seizures": [],
                },
                {
                    "name": "chb05_02.edf",
                    "montage_id": 0,
                    "start_clock": "07:15:30",
                    "end_clock": "07:15:50",
                    "seizures": [(2, 9)],
                },
            ],
            numbered_seizures=False,
        )
    )
    data = np.random.default_rng(1).normal(0, 20, (23, 20 * 256)).astype(np.float32)
    write_edf(root / "chb05" / "chb05_01.edf", data, list(real.montages[0]), 256, start_sec=26100)
    (root / "RECORDS").write_text("chb05/chb05_01.edf\nchb05/chb05_02.edf\n")
    (root / "RECORDS-WITH-SEIZURES").write_text("chb05/chb05_02.edf\n")
    sums = []
    for rel in ("RECORDS", "chb05/chb05-summary.txt", "chb05/chb05_01.edf"):
        sums.append(f"{sha256_file(root / rel)} {rel}")
    sums.append(f"{'0' * 64} chb05/chb05_02.edf")
    (root / "SHA256SUMS.txt").write_text("\n".join(sums) + "\n")
    # Corrupt one byte of the EDF's data after the sums were taken.
    raw = bytearray((root / "chb05" / "chb05_01.edf").read_bytes())
    raw[-10] ^= 0xFF
    (root / "chb05" / "chb05_01.edf").write_bytes(bytes(raw))

    assert data_source(root)["kind"] == "chbmit"
    out = tmp_path / "out"
    files, seizures = build_case_index_in(root, "chb05", patients={})
    index_paths = {"files": out / "f.parquet", "seizures": out / "s.parquet"}
    out.mkdir()
    files.to_parquet(index_paths["files"])
    seizures.to_parquet(index_paths["seizures"])
    run_case_files(root, "chb05", check_sha256=True, out_json=out / "chb05.json")

    def verify(name):
        return run_verification(
            root,
            ["chb05"],
            files=[index_paths["files"]],
            seizures=[index_paths["seizures"]],
            case_files=[out / "chb05.json"],
            patients={},
            check_sha256=True,
            threads=2,
            out_json=out / f"{name}.json",
            out_md=out / f"{name}.md",
            out_table=out / f"{name}.csv",
        )

    result = verify("v")
    assert result["sha256"]["mismatched"] == ["chb05/chb05_01.edf"]
    assert result["cases"]["chb05"]["missing_edfs"] == ["chb05_02.edf"]
    assert "chb05: 1 EDF(s) missing" in result["problems"]
    assert json.loads((out / "v.json").read_text())["totals"]["edfs_on_disk"] == 1
    assert "chb05/chb05_01.edf: SHA-256 does not match" in (out / "v.md").read_text()
    # The per-case checks were read while the EDFs existed: deleting them afterwards (the twin's
    # synthetic.keep_edfs: false; its folder says what it is, so it stays a dataset with EDFs)
    # changes nothing in what is verified.
    (root / SYNTHETIC_MARKER).write_text(json.dumps({"data_source": {"kind": "synthetic"}}))
    (root / "chb05" / "chb05_01.edf").unlink()
    after = verify("after")
    for key in ("cases", "totals", "sha256", "problems", "records_with_seizures_discrepancies"):
        assert after[key] == result[key], key
    # Checks taken now see what is gone.
    run_case_files(root, "chb05", check_sha256=True, out_json=out / "chb05.json")
    assert verify("now")["cases"]["chb05"]["missing_edfs"] == ["chb05_01.edf", "chb05_02.edf"]
    shutil.rmtree(out)


def test_edf_headers_that_contradict_the_summary(tmp_path):
    """Another rate on every channel, or another channel count, stops the index with the file
    named; a renamed label is reported by the verification (the montage decides its use)."""
    from preictal.chbmit.summary_file import format_summary
    from preictal.chbmit.timeline import TimelineError
    from preictal.synthetic.dataset import write_edf

    root = tmp_path / "data"
    (root / "chb07").mkdir(parents=True)
    montage = ("FP1-F7", "F7-T7", "T8-P8", "T8-P8")
    (root / "chb07" / "chb07-summary.txt").write_text(
        format_summary(
            256,
            [montage],
            [
                {
                    "name": f"chb07_0{k}.edf",
                    "montage_id": 0,
                    "start_clock": f"10:0{k}:00",
                    "end_clock": f"10:0{k}:10",
                    "seizures": [],
                }
                for k in (1, 2)
            ],
            numbered_seizures=True,
        )
    )
    noise = np.random.default_rng(2).normal(0, 20, (4, 10 * 256)).astype(np.float32)
    first, second = root / "chb07" / "chb07_01.edf", root / "chb07" / "chb07_02.edf"
    write_edf(first, noise, list(montage), 256, start_sec=36060)
    write_edf(second, noise[:, ::2], list(montage), 128, start_sec=36120)
    with pytest.raises(TimelineError, match=rf"{second}: EDF header sampling rate 128 Hz on every"):
        build_case_index_in(root, "chb07", patients={})
    write_edf(second, noise[:3], list(montage[:3]), 256, start_sec=36120)
    with pytest.raises(
        TimelineError, match=rf"{second}: EDF header has 3 signals, but the summary"
    ):
        build_case_index_in(root, "chb07", patients={})
    write_edf(second, noise, ["FP1-F7", "F7-T7", "T8-P9", "T8-P8"], 256, start_sec=36120)
    index = {"chb07": build_case_index_in(root, "chb07", patients={})}
    result = verify_dataset(root, ["chb07"], index, patients={}, check_sha256=False)
    issues = {p["file"]: p["issue"] for p in result["cases"]["chb07"]["edf_header_problems"]}
    assert issues == {"chb07_02.edf": "channel labels differ from the summary"}
    assert result["sha256"]["status"].startswith("skipped")
