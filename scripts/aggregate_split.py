"""Collect one split's per-fold results and summarise them per model and FAH target."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

import json

import pandas as pd

from preictal.evaluate.aggregate import summarise
from preictal.io import atomic_path

p = snakemake.params
results = pd.concat(map(pd.read_csv, snakemake.input.folds), ignore_index=True)
summary = summarise(results, alpha=p.alpha, interval=p.interval, n_boot=p.n_boot, seed=p.seed)
summary["excluded_input_files"] = len(pd.read_csv(snakemake.input.exclusions))
with open(snakemake.input.verification) as f:  # the problems are listed in verification.md
    summary["dataset_problems"] = len(json.load(f)["problems"])
for table, path in ((results, snakemake.output.results), (summary, snakemake.output.summary)):
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)
