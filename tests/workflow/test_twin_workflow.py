"""The workflow on the CHB-MIT twin of chb12, chb16 and chb24 (65 h: CHB-MIT's real files,
lengths, clock times, montages and seizures, with synthetic signals): generated case by case,
indexed exactly as CHB-MIT's metadata alone index (chb24's chosen times aside), verified, and
carried to results/loso_summary.csv with logistic regression, each case's EDFs deleted once it is
cached (`synthetic.keep_edfs: false`). About 4 minutes on 2 cores and
5 GB in tmp; skips where ../shared/chbmit is absent."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from preictal import layout
from preictal.chbmit.index import build_case_index_in
from preictal.io import read_parquet_metadata
from preictal.synthetic.twin import index_differences
from tests.workflow.test_workflow import snakemake

pytestmark = pytest.mark.workflow

CASES = ["chb12", "chb16", "chb24"]  # chb12's referential blocks and 01, chb24 without clocks


def twin_config(meta, cases) -> dict:
    return {
        "synthetic": {
            "structure": "chbmit",
            "metadata_root": str(meta),
            "cases": cases,
            "keep_edfs": False,  # bounded disk: each case's EDFs go once it is cached
        },
        "models": ["logreg"],
        "report": {"figures_model": "logreg"},
        "splits": {"modes": ["loso"], "val_patients": 1},
    }


@pytest.fixture(scope="module")
def run(tmp_path_factory, chbmit_meta):
    workdir = tmp_path_factory.mktemp("twin")
    config = twin_config(chbmit_meta, CASES)
    # One case's twin alone is a target of its own.
    dry = snakemake(workdir, "synthetic_twin_chb24", "-n", "--quiet", "rules", config=config)
    assert "synthetic_twin_chb24" in dry.stdout and "synthetic_twin_chb12" not in dry.stdout
    # The main target alone: it verifies the twin's EDFs before keep_edfs: false deletes them.
    proc = snakemake(workdir, "results/loso_summary.csv", config=config)
    (workdir / "console.txt").write_text(proc.stdout + proc.stderr)
    return workdir


def most_cases_with_edfs_at_once(console: str) -> int:
    """From the console's job lines: the most cases whose twin was written and whose EDFs were
    not yet all read (verify_case, index_case and preprocess_case done) at any one time."""
    readers = {"verify_case", "index_case", "preprocess_case"}
    open_cases: dict[str, set[str]] = {}
    most = 0
    for rule, case in re.findall(r"^\S+ done  (\S+)(?:  case=(\S+))?", console, flags=re.M):
        if rule.startswith("synthetic_twin_chb"):
            open_cases[rule.removeprefix("synthetic_twin_")] = set(readers)
        elif rule in readers and case in open_cases:
            open_cases[case].discard(rule)
            if not open_cases[case]:
                del open_cases[case]
        most = max(most, len(open_cases))
    return most


def test_each_case_is_cached_before_the_next_twin(run):
    """Priorities on the EDF readers: the EDFs on disk are those of at most `--cores` (2) cases,
    not of every case (Snakemake would otherwise write all twins first)."""
    console = (run / "console.txt").read_text()
    assert console.count(" done  synthetic_twin_chb") == len(CASES)
    assert most_cases_with_edfs_at_once(console) <= 2 < len(CASES)


def test_twin_indexes_as_chbmit_metadata_and_verifies(run, chbmit_meta):
    for case in CASES:
        twin = (
            pd.read_parquet(run / layout.FILES.format(case=case)),
            pd.read_parquet(run / layout.SEIZURES.format(case=case)),
        )
        meta = build_case_index_in(chbmit_meta, case, patients={})
        assert index_differences(case, twin, meta) == []
        if case == "chb24":  # its 12 summary files, then 10 that only RECORDS lists
            assert len(twin[0]) == 22 and (twin[0].time_source == "edf_header").all()
    result = json.loads((run / "results/dataset/verification.json").read_text())
    assert result["data_source"]["structure"] == "chbmit"
    # Verified from each case's checks, read while its EDFs existed; they are gone now.
    assert not list((run / "resources/synthetic_chbmit").glob("chb*/*.edf"))
    assert result["sha256"]["status"] == "ok" and result["sha256"]["absent_edfs"] == 0
    assert result["sha256"]["verified"] == result["sha256"]["listed"]
    totals = result["totals"]
    assert (totals["seizures"], totals["edfs_on_disk"]) == (40 + 10 + 16, 24 + 19 + 22)
    assert totals["files_with_seizures_in_summaries"] == totals["files_in_records_with_seizures"]
    # CHB-MIT's own quirk, reported as for the real data; nothing else.
    assert result["problems"] == [
        "chb24: 10 file(s) in RECORDS that the summary does not list (no seizures, no clock "
        "times in the summary)"
    ]


def test_twin_reaches_the_loso_summary(run):
    summary = pd.read_csv(run / "results/loso_summary.csv")
    assert set(summary.model) == {"logreg"} and summary.data_source.eq("synthetic").all()
    assert (summary.n_folds_scored == len(CASES)).all()
    assert summary.dataset_problems.eq(1).all()  # chb24's quirk, from the verification
    meta = read_parquet_metadata(run / layout.FILES.format(case="chb12"))
    assert meta["data_source"]["structure"] == "chbmit"


def test_adding_a_case_generates_and_indexes_that_case_only(run, chbmit_meta):
    config = twin_config(chbmit_meta, [*CASES, "chb08"])
    proc = snakemake(
        run, "results/dataset/verification.json", "-n", "--quiet", "rules", config=config
    )
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", proc.stdout + proc.stderr, re.MULTILINE))
    assert jobs.get("synthetic_twin_chb08") == "1" and jobs.get("index_case") == "1", jobs
    assert not any(f"synthetic_twin_{case}" in jobs for case in CASES), jobs
