"""The CHB-MIT twin checked against CHB-MIT's metadata through the workflow itself: for the chosen
cases (default all 24), `snakemake results/dataset/verification.json` writes the twin case by case
(`synthetic.keep_edfs: false`: each case's EDFs go once indexed and verified), and then

- the verification's totals are compared with CHB-MIT's (24 cases: 198 seizures, 686 EDFs, 141
  files with seizures, 676 files in the summaries) and its problems listed;
- each case's `results/index/` is compared with the index of the metadata alone
  (`preictal.synthetic.twin.index_differences`: files, durations, clock times, seizures).

Not a test (about 20-35 min and a few GB on 2 cores for all 24 cases): run it by hand.

    python -m benchmarks.check_twin --metadata-root ../shared/chbmit --workdir /work/scale/twin \\
        [--cases chb12 chb24] [--cores 2]

Writes `benchmarks/results/twin_check.json` (totals, problems, index differences, wall time, peak
disk) and prints it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
import yaml
from benchmarks.bench_scale import run_measured, snakemake_jobs

from preictal import layout
from preictal.chbmit.index import build_case_index_in
from preictal.io import write_json
from preictal.synthetic.twin import index_differences, metadata_cases

REPO = Path(__file__).resolve().parents[1]
TARGET = "results/dataset/verification.json"
# CHB-MIT's own numbers for all 24 cases (PhysioNet's RECORDS, RECORDS-WITH-SEIZURES, summaries).
CHBMIT_TOTALS = {
    "cases": 24,
    "seizures": 198,
    "edfs_on_disk": 686,
    "files_in_records": 686,
    "files_in_summaries": 676,
    "files_with_seizures_in_summaries": 141,
}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--metadata-root", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--cases", nargs="*", help="default: every case of the metadata")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--out", default=str(REPO / "benchmarks/results/twin_check.json"))
    ap.add_argument(
        "--compare-only",
        action="store_true",
        help="compare a finished run's outputs again, keeping the run's wall time, jobs and disk "
        "from --out (after a fix to the comparison, without regenerating the twin)",
    )
    args = ap.parse_args(argv)
    meta_root = Path(args.metadata_root).resolve()
    cases = args.cases or metadata_cases("chbmit", str(meta_root))
    workdir = Path(args.workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "twin_config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "data_root": "resources/synthetic_chbmit",
                "synthetic": {
                    "out_dir": "resources/synthetic_chbmit",
                    "structure": "chbmit",
                    "metadata_root": str(meta_root),
                    "cases": cases,
                    "keep_edfs": False,
                },
                "verification": {"sha256": True},
            },
            sort_keys=False,
        )
    )
    cmd = [
        str(Path(sys.executable).parent / "snakemake"), TARGET, "-s", str(REPO / "Snakefile"),
        "-d", str(workdir), "--configfile", str(config), "--cores", str(args.cores),
    ]  # fmt: skip
    if args.compare_only:
        run = {k: json.loads(Path(args.out).read_text())[k] for k in ("wall_s", "peak_disk_gb")}
    else:
        wall, peak = run_measured(cmd, workdir, workdir / "twin_snakemake.log")
        run = {"wall_s": round(wall, 1), "peak_disk_gb": round(peak / 1e9, 2)}

    verification = json.loads((workdir / TARGET).read_text())
    totals = verification["totals"]
    # The workflow's patient ids (chb21 is chb01's patient), as the twin's index has them.
    patients = yaml.safe_load((REPO / "workflow_config.yaml").read_text())["patients"]
    differences = []
    for case in cases:
        twin = (
            pd.read_parquet(workdir / layout.FILES.format(case=case)),
            pd.read_parquet(workdir / layout.SEIZURES.format(case=case)),
        )
        differences += index_differences(
            case, twin, build_case_index_in(meta_root, case, patients=patients)
        )
    result = {
        "cases": cases,
        "totals": totals,
        "chbmit_totals_reproduced": (
            {k: totals[k] == v for k, v in CHBMIT_TOTALS.items()} if len(cases) == 24 else None
        ),
        "sha256": {k: v for k, v in verification["sha256"].items() if k != "mismatched"},
        "problems": verification["problems"],
        "index_differences": differences,
        "edfs_left_on_disk": len(list((workdir / "resources/synthetic_chbmit").glob("chb*/*.edf"))),
        **run,
        "snakemake_jobs": snakemake_jobs(workdir / "twin_snakemake.log"),
    }
    write_json(args.out, result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
