"""Collect one split's per-fold results and summarise them per model and FAH target."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

import pandas as pd

from preictal.evaluate.aggregate import summarise
from preictal.evaluate.fold import EvalParams
from preictal.io import atomic_path

params = EvalParams.from_config(snakemake.params.evaluation)
results = pd.concat(map(pd.read_csv, snakemake.input), ignore_index=True)
summary = summarise(results, alpha=params.alpha, n_boot=params.n_boot, seed=params.seed)
for table, path in ((results, snakemake.output.results), (summary, snakemake.output.summary)):
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)
