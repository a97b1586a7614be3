"""Train one feature baseline on one fold and score its validation and test windows."""

from preictal.jobs import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

import json

from preictal.folds import read_case_tables, run_train_model
from preictal.models.baseline import BaselineParams

i, p, w, o = snakemake.input, snakemake.params, snakemake.wildcards, snakemake.output
params = BaselineParams(**p.baseline)
run_train_model(
    w.model,
    w.split,
    w.fold,
    i.split,
    json.loads(open(i.split_manifest).read()),
    read_case_tables(p.cases, windows=i.windows, labels=i.labels, features=i.features),
    params=params,
    data_source=p.data_source,
    out_model=o.model,
    out_predictions=o.predictions,
    out_manifest=o.manifest,
)
