"""Train / validation / test split of one fold."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

from preictal.io import read_case_tables
from preictal.splits import SplitParams, write_split

i, p = snakemake.input, snakemake.params
tables = read_case_tables(
    p.cases, windows=i.windows, labels=i.labels, files=i.files, seizures=i.seizures
)
write_split(
    snakemake.wildcards.split,
    snakemake.wildcards.fold,
    tables,
    patients=p.patients,
    params=SplitParams(**p.splits),
    data_source=p.data_source,
    out_split=snakemake.output.split,
    out_manifest=snakemake.output.manifest,
)
