"""Verify the dataset against PhysioNet's lists (the original verify_dataset.py)."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

from preictal.chbmit.verify import run_verification

run_verification(
    snakemake.params.data_root,
    snakemake.params.cases,
    files=snakemake.input.files,
    seizures=snakemake.input.seizures,
    case_files=snakemake.input.case_files,
    patients=snakemake.params.patients,
    check_sha256=snakemake.params.verification["sha256"],
    threads=snakemake.threads,
    out_json=snakemake.output.json,
    out_md=snakemake.output.md,
    out_table=snakemake.output.table,
)
