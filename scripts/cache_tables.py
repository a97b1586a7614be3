"""Window counts, cache report and channel-consistency tables."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

from preictal.cache.tables import write_cache_tables

write_cache_tables(snakemake.params.cases, "results", dict(snakemake.output.items()))
