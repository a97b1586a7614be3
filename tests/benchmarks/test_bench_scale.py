"""bench_scale's parsing and aggregation on a fabricated results/benchmarks folder (no workflow)."""

from __future__ import annotations

import argparse
import math

import yaml
from benchmarks.bench_scale import (
    Size,
    aggregate_stages,
    choose_patients,
    markdown_table,
    read_benchmarks,
    scale_rows,
    snakemake_jobs,
    write_config,
)

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def write_tsv(path, *lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(line + "\n" for line in lines))


def test_aggregate_sums_times_and_takes_peak_memory(tmp_path):
    root = tmp_path / "results/benchmarks"
    write_tsv(
        root / "train_baseline/loso.chb01.logreg.tsv", "10.0\t0:00:10\t500\t1\t1\t1\t0\t0\t90\t9.0"
    )
    write_tsv(
        root / "train_baseline/loso.chb02.logreg.tsv", "20.0\t0:00:20\t800\t1\t1\t1\t0\t0\t90\t19.0"
    )
    write_tsv(root / "index_case/chb01.tsv", "1.0\t0:00:01\tNA\tNA\tNA\tNA\tNA\tNA\tNA\t0.5")
    write_tsv(
        root / "synthetic_dataset.tsv",
        "2.0\t0:00:02\t100\t1\t1\t1\t0\t0\t90\t1.0",
        "4.0\t0:00:04\t300\t1\t1\t1\t0\t0\t90\t3.0",
    )  # two repeats: averaged
    jobs = read_benchmarks(root)
    assert sorted(jobs.stage) == [
        "index_case",
        "synthetic_dataset",
        "train_baseline",
        "train_baseline",
    ]
    stages = aggregate_stages(jobs).set_index("stage")
    assert stages.loc[
        "train_baseline", ["jobs", "wall_s", "cpu_s", "max_rss_mb", "wall_s_max"]
    ].tolist() == [2, 30.0, 28.0, 800.0, 20.0]
    assert stages.loc["synthetic_dataset", "wall_s"] == 3.0
    assert math.isnan(stages.loc["index_case", "max_rss_mb"])
    assert list(stages.index)[0] == "train_baseline"  # largest wall time first

    size = {
        "label": "p4",
        "patients": 4,
        "cases": 4,
        "folds": 4,
        "hours": 10.0,
        "end_to_end_s": 40.0,
        "data_gb": 1.0,
        "results_gb": 0.5,
        "peak_disk_gb": 1.6,
    }
    rows = scale_rows(aggregate_stages(jobs), size)
    total = rows[-1]
    assert total["stage"] == "TOTAL" and total["jobs"] == 4 and total["wall_s"] == 40.0
    assert total["cpu_s"] == 30.5 and total["max_rss_mb"] == 800.0
    assert rows[0]["wall_s_per_h"] == 3.0
    table = markdown_table(rows)
    assert "| train_baseline | 2, 30.0, 3.00, 800 |" in table
    assert "| p4 | 4 | 4 | 4 | 10.0 | - | 40 | 1.00 | 0.50 | 1.60 |" in table


def test_patients_chosen_by_fewest_hours_with_their_cases():
    hours = {"chb01": 40.0, "chb21": 33.0, "chb02": 35.0, "chb03": 38.0, "chb16": 19.0}
    chosen = choose_patients(hours, {"chb21": "chb01"}, 3)
    assert chosen == [["chb16"], ["chb02"], ["chb03"]]
    assert choose_patients(hours, {"chb21": "chb01"}, 4)[-1] == ["chb01", "chb21"]


def test_config_deletes_twin_edfs_unless_asked_to_keep_them(tmp_path):
    size = Size("p4", [["chb01", "chb21"], ["chb02"]], None)
    for keep, expected in ((False, False), (True, True)):
        args = argparse.Namespace(
            metadata_root=tmp_path, models=["logreg"], sha256=False, keep_edfs=keep
        )
        config = yaml.safe_load(write_config(tmp_path / str(keep), size, args).read_text())
        assert config["synthetic"]["keep_edfs"] is expected
        assert config["synthetic"]["cases"] == ["chb01", "chb02", "chb21"]
        assert config["synthetic"]["structure"] == "chbmit"


def test_job_count_from_either_console(tmp_path):
    ours, theirs = tmp_path / "ours.log", tmp_path / "theirs.log"
    ours.write_text(
        "09:00:01 done  index_case  case=chb01  2 s  [1/286]\n09:00:09 done  x  [2/286]\n"
    )
    theirs.write_text("1 of 39 steps (3%) done\n39 of 39 steps (100%) done\n")
    assert snakemake_jobs(ours) == 286 and snakemake_jobs(theirs) == 39
    assert snakemake_jobs(tmp_path / "missing.log") is None
