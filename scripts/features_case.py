"""Feature table of one cached case."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

import pandas as pd

from preictal.features.table import build_feature_table
from preictal.io import write_parquet

p = snakemake.params
table = build_feature_table(
    snakemake.input.signal,
    pd.read_parquet(snakemake.input.blocks),
    p.sfreq,
    w_sec=p.w_sec,
    step_sec=p.step_sec,
    feature_set=p.feature_set,
)
meta = {"data_source": p.data_source, "feature_set": p.feature_set}
write_parquet(snakemake.output[0], table, metadata=meta, use_dictionary=False)
