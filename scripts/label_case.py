"""Labels of one case's windows, and its seizure ledger."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

import pandas as pd

from preictal.io import write_parquet
from preictal.labels import LabelParams, label_windows, seizure_ledger

params = LabelParams(**snakemake.params.labels)
windows = pd.read_parquet(snakemake.input.windows)
blocks = pd.read_parquet(snakemake.input.blocks)
seizures = pd.read_parquet(snakemake.input.seizures)
labels = label_windows(windows, seizures, params)
labels.insert(0, "window", windows.window.to_numpy())
ledger = seizure_ledger(blocks, seizures, labels, params)  # what was cached, not listed
meta = {"data_source": snakemake.params.data_source, "labels": snakemake.params.labels}
write_parquet(snakemake.output.labels, labels, metadata=meta)
write_parquet(snakemake.output.seizures, ledger, metadata=meta)
