"""The run's table of excluded input files, each also logged at WARNING."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

import logging

from preictal.cache.tables import exclusions_table
from preictal.io import atomic_path

table = exclusions_table(snakemake.params.cases, snakemake.input.files, snakemake.input.montages)
for r in table.itertuples():
    logging.warning("%s/%s excluded (%s): %s", r.case, r.file, r.stage, r.reason)
table = table.assign(data_source=snakemake.params.data_source["kind"])
with atomic_path(snakemake.output[0]) as tmp:
    table.to_csv(tmp, index=False)
