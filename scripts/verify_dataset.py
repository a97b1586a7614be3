"""Verify the dataset against PhysioNet's lists (the original verify_dataset.py)."""

import sys

sys.stderr = open(
    snakemake.log[0], "w", buffering=1
)  # before heavy imports, so errors reach the log

import logging

logging.basicConfig(
    stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
)
logging.captureWarnings(True)

from preictal.chbmit.verify import run_verification

run_verification(
    snakemake.params.data_root,
    snakemake.params.cases,
    files=snakemake.input.files,
    seizures=snakemake.input.seizures,
    patients=snakemake.params.patients,
    check_sha256=snakemake.params.verification["sha256"],
    threads=snakemake.threads,
    out_json=snakemake.output.json,
    out_md=snakemake.output.md,
    out_table=snakemake.output.table,
)
