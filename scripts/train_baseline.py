"""Train one feature baseline on one fold and score its validation and test windows."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

import json

from preictal.io import read_case_tables
from preictal.models.baseline import BaselineParams, BaselineTrainer
from preictal.models.runner import run_train_model

i, p, w, o = snakemake.input, snakemake.params, snakemake.wildcards, snakemake.output
run_train_model(
    BaselineTrainer(w.model, BaselineParams(**p.baseline)),
    w.split,
    w.fold,
    i.split,
    json.loads(open(i.split_manifest).read()),
    read_case_tables(p.cases, windows=i.windows, labels=i.labels, features=i.features),
    data_source=p.data_source,
    out_model=o.model,
    out_predictions=o.predictions,
    out_manifest=o.manifest,
)
