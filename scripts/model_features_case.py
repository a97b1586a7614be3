"""The features the models see for one cached case (relative to the recent past, or absolute)."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

import pandas as pd

from preictal.features.relative import model_feature_table
from preictal.io import write_parquet

i, p = snakemake.input, snakemake.params
table = model_feature_table(pd.read_parquet(i.features), pd.read_parquet(i.windows), p.relative_min)
meta = {"data_source": p.data_source, "relative_min": p.relative_min}
write_parquet(snakemake.output[0], table, metadata=meta, use_dictionary=False)
