"""Train one feature baseline on one fold and score its validation and test windows."""

from preictal.jobs import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

import json

from preictal.features.relative import with_relative_features
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
    with_relative_features(
        read_case_tables(p.cases, windows=i.windows, labels=i.labels, features=i.features),
        p.relative_min,
    ),
    params=params,
    data_source=p.data_source,
    out_model=o.model,
    out_predictions=o.predictions,
    out_manifest=o.manifest,
)
