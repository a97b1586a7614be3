"""The workflow on a real SLURM cluster (issue 18): profiles/slurm/local_cluster.sh starts munged,
slurmctld and slurmd on this machine; the main target of the tiny configuration, with a third
patient so that every leave-one-patient-out fold trains, runs through
snakemake-executor-plugin-slurm with ``--profile profiles/slurm``; one FusionNet job is cancelled
with ``scancel`` after its first checkpoint and must resume from it.

Needs root and Debian's munge, slurmctld, slurmd and slurm-client (``.ci/run`` installs them);
skipped where they are missing. Cost: a local run (about 2 min on 2 cores) and the same through
SLURM (about 7 min: job submission and status polling).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml

from tests.workflow.test_workflow import REPO, TINY, snakemake

CLUSTER = REPO / "profiles/slurm/local_cluster.sh"
TARGETS = ("results/loso_summary.csv",)
# Three patients (the tiny preset's chb21 is chb01's), so that each loso fold trains; FusionNet
# folds long enough to cancel one between its checkpoints.
CONFIG = {
    **TINY,
    "synthetic": {**TINY["synthetic"], "cases": ["chb01", "chb02", "chb03"]},
    "fusion": {"train": {"epochs": 6, "patience": 20}},
}

pytestmark = [
    pytest.mark.workflow,
    pytest.mark.skipif(
        shutil.which("slurmctld") is None or shutil.which("munged") is None or os.geteuid() != 0,
        reason="needs root and Debian's munge, slurmctld, slurmd and slurm-client",
    ),
]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A running single-node cluster; stopped afterwards, with nothing of it left running."""
    where = tmp_path_factory.mktemp("slurm")
    started = subprocess.run([CLUSTER, "start", where], capture_output=True, text=True)
    assert started.returncode == 0, started.stdout + started.stderr
    env = {**os.environ, "SLURM_CONF": str(where / "etc/slurm.conf")}
    yield where, env
    stopped = subprocess.run([CLUSTER, "stop", where], capture_output=True, text=True)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    for name in ("munged", "slurmctld", "slurmd"):
        assert not (where / "pids" / f"{name}.pid").exists()
    assert not os.path.islink("/etc/slurm/slurm.conf")


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("local")
    snakemake(work, *TARGETS, config=CONFIG)
    return work


def squeue(env) -> list[dict]:
    out = subprocess.run(
        ["squeue", "-h", "-t", "all", "-o", "%i|%T|%r|%k"], capture_output=True, text=True, env=env
    ).stdout
    return [
        dict(zip(("id", "state", "reason", "comment"), line.split("|", 3), strict=True))
        for line in out.splitlines()
    ]


def test_slurm_run_equals_local_run_and_a_cancelled_fold_resumes(cluster, local_run, tmp_path):
    where, env = cluster
    work = tmp_path / "wf"
    work.mkdir()
    (work / "cfg.yaml").write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    cmd = [sys.executable, "-m", "snakemake", *TARGETS, "-s", str(REPO / "Snakefile")]
    cmd += ["-d", str(work), "--configfile", str(work / "cfg.yaml")]
    cmd += ["--profile", str(REPO / "profiles/slurm"), "--jobs", "4"]
    # No slurmdbd here: job states from squeue (README, "Running on a cluster").
    cmd += ["--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "2"]
    # The local node's 2 cores: caps each job's threads (the twin rules ask for up to 8) and
    # stacks a case group's parallel jobs in series to fit, as a real node's cores would.
    cmd += ["--cores", "2"]
    seen: dict[str, str] = {}  # SLURM job id -> its comment (rule and wildcards)
    cancelled = None
    with open(work / "console.txt", "w") as log:
        proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 1200
            while proc.poll() is None and time.time() < deadline:
                for job in squeue(env):
                    seen[job["id"]] = job["comment"]
                    # A job the node can never run would wait until the deadline: fail now.
                    assert job["reason"] != "PartitionConfig", (job, console_tail(work))
                    fold = fusion_fold(work, job["comment"])
                    if cancelled is None and job["state"] == "RUNNING" and fold is not None:
                        if (fold / "last.pt").exists() and not (
                            fold / "predictions.parquet"
                        ).exists():
                            subprocess.run(["scancel", job["id"]], env=env, check=True)
                            epochs = len(pd.read_csv(fold / "train_curves.csv"))
                            cancelled = (job["id"], fold, epochs)
                time.sleep(0.5)
        finally:
            if proc.poll() is None:
                proc.terminate()  # Snakemake cancels its SLURM jobs
                proc.wait(60)
    assert proc.returncode == 0, console_tail(work)

    rules = {c.removeprefix("rule_").split("_wildcards_")[0] for c in seen.values()}
    assert {"train_baseline", "train_fusion", "evaluate_fold"} <= rules, seen
    # A case's small jobs as one SLURM job (a group job's name: the group, then its rules).
    assert any(r.startswith("case_tables_features_case_label_case") for r in rules), seen
    completed = (where / "log/jobcomp.txt").read_text()
    assert completed.count("JobState=COMPLETED") >= len(seen) - 1

    assert cancelled is not None, "no FusionNet job was caught between two checkpoints"
    job_id, fold, epochs_at_cancel = cancelled
    record = next(line for line in completed.splitlines() if f"JobId={job_id} " in line)
    assert "JobState=CANCELLED" in record
    # Snakemake resubmitted the fold (profile: retries 1); it went on from its last epoch.
    manifest = json.loads((fold / "manifest.json").read_text())
    assert 0 <= manifest["training"]["resumed_from"] <= epochs_at_cancel, manifest["training"]
    curves = pd.read_csv(fold / "train_curves.csv")
    assert curves.epoch.tolist() == list(range(6))

    for target in TARGETS:
        table = pd.read_csv(work / target)
        assert table.n_folds_scored.eq(3).all(), table  # every fold scored: not an empty table
        pd.testing.assert_frame_equal(table, pd.read_csv(local_run / target))


def console_tail(work) -> str:
    return (work / "console.txt").read_text()[-5000:]


def fusion_fold(work, comment: str):
    """The fold folder of a train_fusion job, from the comment the plugin gives its SLURM job:
    the rule and the wildcards' values (``rule_train_fusion_wildcards_within_chb01``)."""
    if not comment.startswith("rule_train_fusion_wildcards_"):
        return None
    split, fold = comment.removeprefix("rule_train_fusion_wildcards_").split("_", 1)
    return work / "results/folds" / split / fold / "fusion"
