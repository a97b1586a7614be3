"""Window index and bad-window flags of one cached case."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

import pandas as pd

from preictal.cache.windows import WindowParams, build_window_table
from preictal.io import write_parquet

params = WindowParams(**snakemake.params.windows)
table = build_window_table(
    snakemake.input.signal,
    pd.read_parquet(snakemake.input.blocks),
    snakemake.params.sfreq,
    params,
    flat=pd.read_parquet(snakemake.input.flat),
)
meta = {"data_source": snakemake.params.data_source, "windows": snakemake.params.windows}
write_parquet(snakemake.output[0], table, metadata=meta)
