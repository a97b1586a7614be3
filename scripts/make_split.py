"""Train / validation / test split of one fold."""

from preictal.jobs import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

from preictal.folds import read_case_tables, run_make_split
from preictal.splits import SplitParams

i, p = snakemake.input, snakemake.params
tables = read_case_tables(
    p.cases, windows=i.windows, labels=i.labels, files=i.files, seizures=i.seizures
)
run_make_split(
    snakemake.wildcards.split,
    snakemake.wildcards.fold,
    tables,
    patients=p.patients,
    params=SplitParams(**p.splits),
    data_source=p.data_source,
    out_split=snakemake.output.split,
    out_manifest=snakemake.output.manifest,
)
