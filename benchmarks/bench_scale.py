"""Workflow scaling: the main target `results/loso_summary.csv` on CHB-MIT twins of growing size,
with wall time, CPU time and peak memory per stage (from Snakemake's `benchmark:` files), jobs per
stage, disk, hours of EEG and patients/cases/folds. Not a test: run it by hand and paste its table
into docs/PERFORMANCE.md.

    python -m benchmarks.bench_scale --metadata-root ../shared/chbmit --patients 4 8 \\
        --workdir /work/scale --models logreg xgboost --cores 2 [--files-per-case 3] [--sha256]

Patients are chosen deterministically: the patients with the fewest hours of recording first
(hours from the summaries' clock times; chb24, which has none, counts 1 h per RECORDS file, as the
twin writes it), ties by case name. A patient is all its cases (`patients:` of workflow_config.yaml:
chb21 goes with chb01). `--files-per-case N` keeps only each case's first N files of RECORDS
(`synthetic.files`): a smoke mode to check the script, NOT the real size of those patients.

Each size gets its own work dir (`<workdir>/p<N>[_f<N>]`) and config file there. The rows go to
`benchmarks/results/scale.csv` (one per size x stage, and a `TOTAL` row per size); a markdown table
is printed, with per-stage seconds per hour of EEG so that growth is comparable across sizes.
Each case's generated EDFs are deleted once it is cached (`synthetic.keep_edfs: false`, bounded
disk) unless `--keep-edfs`.
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
TARGET = "results/loso_summary.csv"
BENCH_DIR = "results/benchmarks"
# Stages for which jobs are counted per fold (grow with patients) rather than per case.
FOLD_STAGES = ("make_split", "train_baseline", "evaluate_fold", "train_fusion")


# --- Parsing and aggregation (pure, tested in tests/benchmarks/test_bench_scale.py) -------------


def stage_of(tsv: Path, bench_root: Path) -> str:
    """The stage (rule) of one benchmark file: its first folder under results/benchmarks, or the
    file stem for a file directly there (`synthetic_dataset.tsv`)."""
    rel = tsv.relative_to(bench_root)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def read_benchmarks(bench_root: Path) -> pd.DataFrame:
    """One row per Snakemake benchmark file: stage, job, wall_s, cpu_s, max_rss_mb.

    Snakemake writes a header line and one line per repeat (s, h:m:s, max_rss, max_vms, max_uss,
    max_pss, io_in, io_out, mean_load, cpu_time); repeats are averaged. "NA" (a job too short for
    the memory sampler) becomes NaN.
    """
    rows = []
    for tsv in sorted(Path(bench_root).rglob("*.tsv")):
        table = pd.read_csv(tsv, sep="\t", na_values=["NA", "-"])
        if table.empty:
            continue
        rows.append(
            {
                "stage": stage_of(tsv, Path(bench_root)),
                "job": tsv.relative_to(bench_root).with_suffix("").as_posix(),
                "wall_s": float(table["s"].mean()),
                "cpu_s": float(table["cpu_time"].mean()) if "cpu_time" in table else float("nan"),
                "max_rss_mb": float(table["max_rss"].max()) if "max_rss" in table else float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=["stage", "job", "wall_s", "cpu_s", "max_rss_mb"])


def aggregate_stages(jobs: pd.DataFrame) -> pd.DataFrame:
    """Per stage: jobs, wall_s and cpu_s summed, max_rss_mb the largest, wall_s_max the slowest
    job; sorted by summed wall time, largest first."""
    if jobs.empty:
        return pd.DataFrame(
            columns=["stage", "jobs", "wall_s", "cpu_s", "max_rss_mb", "wall_s_max"]
        )
    out = jobs.groupby("stage").agg(
        jobs=("job", "size"),
        wall_s=("wall_s", "sum"),
        cpu_s=("cpu_s", "sum"),
        max_rss_mb=("max_rss_mb", "max"),
        wall_s_max=("wall_s", "max"),
    )
    return out.sort_values("wall_s", ascending=False).reset_index()


def scale_rows(stages: pd.DataFrame, size: dict) -> list[dict]:
    """The CSV rows of one size: one per stage, with the size's columns and seconds per hour of
    EEG, then a TOTAL row (the end-to-end wall time, summed job times, the largest job's memory)."""
    hours = size["hours"]
    rows = []
    for rec in stages.to_dict("records"):
        rows.append(
            {
                **size,
                **rec,
                "wall_s_per_h": rec["wall_s"] / hours if hours else float("nan"),
                "cpu_s_per_h": rec["cpu_s"] / hours if hours else float("nan"),
            }
        )
    total = {
        **size,
        "stage": "TOTAL",
        "jobs": int(stages["jobs"].sum()) if len(stages) else 0,
        "wall_s": size["end_to_end_s"],
        "cpu_s": float(stages["cpu_s"].sum()) if len(stages) else 0.0,
        "max_rss_mb": float(stages["max_rss_mb"].max()) if len(stages) else float("nan"),
        "wall_s_max": float(stages["wall_s_max"].max()) if len(stages) else float("nan"),
    }
    total["wall_s_per_h"] = total["wall_s"] / hours if hours else float("nan")
    total["cpu_s_per_h"] = total["cpu_s"] / hours if hours else float("nan")
    rows.append(total)
    return rows


def _int_or_dash(value) -> str:
    return "-" if value is None or pd.isna(value) else str(int(value))


def markdown_table(rows: list[dict]) -> str:
    """Sizes side by side: per stage, jobs / wall s (summed) / s per hour of EEG / peak MB."""
    table = pd.DataFrame(rows)
    labels = list(dict.fromkeys(table["label"]))
    stages = [s for s in dict.fromkeys(table["stage"]) if s != "TOTAL"] + ["TOTAL"]
    head = (
        "| stage | " + " | ".join(f"{lab}: jobs, wall s, s/h EEG, peak MB" for lab in labels) + " |"
    )
    lines = [head, "| --- | " + " | ".join("---:" for _ in labels) + " |"]
    for stage in stages:
        cells = []
        for lab in labels:
            hit = table[(table.label == lab) & (table.stage == stage)]
            if hit.empty:
                cells.append("-")
                continue
            r = hit.iloc[0]
            rss = "-" if pd.isna(r.max_rss_mb) else f"{r.max_rss_mb:.0f}"
            cells.append(f"{int(r.jobs)}, {r.wall_s:.1f}, {r.wall_s_per_h:.2f}, {rss}")
        name = f"**{stage}**" if stage == "TOTAL" else stage
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        "| size | patients | cases | folds | hours EEG | jobs (all) | end-to-end s | data GB | results GB | peak disk GB |"
    )
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for lab in labels:
        r = table[(table.label == lab) & (table.stage == "TOTAL")].iloc[0]
        lines.append(
            f"| {lab} | {r.patients} | {r.cases} | {r.folds} | {r.hours:.1f} | {_int_or_dash(r.get('snakemake_jobs'))} "
            f"| {r.end_to_end_s:.0f} "
            f"| {r.data_gb:.2f} | {r.results_gb:.2f} | {r.peak_disk_gb:.2f} |"
        )
    return "\n".join(lines)


def snakemake_jobs(log: Path) -> int | None:
    """All jobs of the run (rules without `benchmark:` included), from the console's last job
    line (`... [N/M]`, profiles/default's logger) or Snakemake's own "N of M steps"."""
    text = Path(log).read_text() if Path(log).exists() else ""
    hits = re.findall(r"(\d+) of (\d+) steps|\[(\d+)/(\d+)\]$", text, flags=re.M)
    return int(hits[-1][1] or hits[-1][3]) if hits else None


# --- Choosing patients ---------------------------------------------------------------------------


def case_hours(metadata_root: Path, case: str) -> float:
    """Hours of recording of one case from its summary; chb24 (no clock times) 1 h per RECORDS file."""
    from preictal.chbmit.index import build_case_index_in

    logging.disable(logging.WARNING)  # "not on disk" for every file of a metadata-only folder
    try:
        files, _ = build_case_index_in(metadata_root, case, patients={})
    finally:
        logging.disable(logging.NOTSET)
    hours = float(files["duration_sec"].fillna(0).sum()) / 3600
    if hours == 0:
        records = (metadata_root / "RECORDS").read_text().split()
        hours = float(sum(1 for r in records if r.startswith(f"{case}/")))
    return hours


def choose_patients(
    hours: dict[str, float], patients_map: dict[str, str], n: int
) -> list[list[str]]:
    """The n patients with the fewest hours (all their cases summed), ties by name; each patient is
    the sorted list of its cases."""
    groups: dict[str, list[str]] = {}
    for case in sorted(hours):
        groups.setdefault(patients_map.get(case, case), []).append(case)
    order = sorted(groups, key=lambda p: (sum(hours[c] for c in groups[p]), p))
    if n > len(order):
        raise SystemExit(f"{n} patients asked, {len(order)} in the metadata")
    return [groups[p] for p in order[:n]]


def first_files(metadata_root: Path, cases: list[str], k: int) -> list[str]:
    """Each case's first k files of RECORDS (smoke mode)."""
    records = (metadata_root / "RECORDS").read_text().split()
    out = []
    for case in cases:
        out += [Path(r).name for r in records if r.startswith(f"{case}/")][:k]
    return out


# --- Running -------------------------------------------------------------------------------------


def du_bytes(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_blocks * 512
            except OSError:
                pass
    return total


class DiskPoller(threading.Thread):
    """Polls the work dir's size every `every` seconds; `peak` is the largest seen."""

    def __init__(self, path: Path, every: float = 5.0):
        super().__init__(daemon=True)
        self.path, self.every, self.peak = path, every, 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak = max(self.peak, du_bytes(self.path))
            self._stop_event.wait(self.every)

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        self.peak = max(self.peak, du_bytes(self.path))
        return self.peak


@dataclass
class Size:
    label: str
    patients: list[list[str]]
    files: list[str] | None


def write_config(workdir: Path, size: Size, args) -> Path:
    cases = sorted(c for p in size.patients for c in p)
    config = {
        "data_root": "resources/synthetic_chbmit",
        "synthetic": {
            "out_dir": "resources/synthetic_chbmit",
            "structure": "chbmit",
            "metadata_root": str(Path(args.metadata_root).resolve()),
            "cases": cases,
            "files": size.files,
            "keep_edfs": bool(args.keep_edfs),
        },
        "models": list(args.models),
        "report": {"figures_model": args.models[0]},
        "verification": {"sha256": bool(args.sha256)},
    }
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "bench_config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run_measured(
    cmd: list[str], workdir: Path, log_path: Path, *, every: float = 5.0, what: str = ""
) -> tuple[float, int]:
    """Run ``cmd`` (Snakemake) from the repository with its console in ``log_path``, polling
    ``workdir``'s size: (wall seconds, peak bytes). A failed run stops the benchmark."""
    print("$", " ".join(cmd), flush=True)
    poller = DiskPoller(workdir, every=every)
    poller.start()
    start = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.run(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - start
    peak = poller.stop()
    if proc.returncode:
        raise SystemExit(f"snakemake failed{what}: see {log_path}")
    return wall, peak


def run_size(size: Size, args) -> list[dict]:
    workdir = Path(args.workdir).resolve() / size.label
    config = write_config(workdir, size, args)
    cmd = [
        str(Path(sys.executable).parent / "snakemake"),
        TARGET, "-s", str(REPO / "Snakefile"), "-d", str(workdir), "--configfile", str(config),
        "--cores", str(args.cores),
    ]  # fmt: skip
    end_to_end, peak = run_measured(
        cmd, workdir, workdir / "bench_snakemake.log", every=args.poll_s, what=f" for {size.label}"
    )
    cases = sorted(c for p in size.patients for c in p)
    hours = (
        sum(
            float(
                pd.read_parquet(workdir / f"results/index/{c}/files.parquet")["duration_sec"].sum()
            )
            for c in cases
        )
        / 3600
    )
    folds = len(list((workdir / "results/splits/loso").glob("*"))) or len(size.patients)
    data_root = workdir / "resources/synthetic_chbmit"
    info = {
        "label": size.label,
        "smoke": size.files is not None,
        "patients": len(size.patients),
        "cases": len(cases),
        "case_list": " ".join(cases),
        "folds": folds,
        "hours": hours,
        "models": " ".join(args.models),
        "cores": args.cores,
        "end_to_end_s": end_to_end,
        "snakemake_jobs": snakemake_jobs(workdir / "bench_snakemake.log"),
        "data_gb": du_bytes(data_root) / 1e9,
        "results_gb": du_bytes(workdir / "results") / 1e9,
        "peak_disk_gb": peak / 1e9,
    }
    stages = aggregate_stages(read_benchmarks(workdir / BENCH_DIR))
    return scale_rows(stages, info)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--metadata-root", required=True, help="CHB-MIT metadata folder")
    parser.add_argument("--patients", type=int, nargs="+", required=True, help="sizes (>= 4 each)")
    parser.add_argument("--workdir", default="/tmp/preictal_scale", help="one sub-folder per size")
    parser.add_argument("--models", nargs="+", default=["logreg"], help="models: (first = figures)")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument(
        "--files-per-case", type=int, default=None, help="smoke mode: first N files"
    )
    parser.add_argument("--sha256", action="store_true", help="keep verification.sha256 on")
    parser.add_argument(
        "--keep-edfs", action="store_true", help="keep the twin's EDFs (synthetic.keep_edfs)"
    )
    parser.add_argument("--poll-s", type=float, default=5.0, help="disk poll interval (s)")
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/scale.csv"))
    args = parser.parse_args(argv)
    meta = Path(args.metadata_root).resolve()
    patients_map = yaml.safe_load((REPO / "workflow_config.yaml").read_text()).get("patients") or {}
    cases = sorted(re.match(r"(chb\d+)", p.name).group(1) for p in meta.glob("chb*-summary.txt"))
    hours = {c: case_hours(meta, c) for c in cases}
    rows = []
    for n in args.patients:
        if n < 4:
            raise SystemExit("loso needs at least 4 patients (splits.val_patients: 2)")
        chosen = choose_patients(hours, patients_map, n)
        flat = sorted(c for p in chosen for c in p)
        files = first_files(meta, flat, args.files_per_case) if args.files_per_case else None
        label = f"p{n}" + (f"_f{args.files_per_case}" if files else "")
        print(f"{label}: {flat} ({sum(hours[c] for c in flat):.1f} h in the metadata)", flush=True)
        rows += run_size(Size(label, chosen, files), args)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", newline="") as f:  # after every size, so a stopped run keeps its rows
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    print(markdown_table(rows))
    print(f"\nrows: {args.out}")


if __name__ == "__main__":
    main()
