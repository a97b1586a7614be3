"""Window-level AUROC/AUPRC of every fold and model, with the AUROC range expected by chance."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

from preictal.evaluate.window_metrics import window_auroc_table
from preictal.io import atomic_path

with atomic_path(snakemake.output[0]) as tmp:
    window_auroc_table(snakemake.input).to_csv(tmp, index=False)
