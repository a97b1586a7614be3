"""Tune alarm thresholds on one fold's validation part, apply them to its test part, and score."""

from preictal.jobs import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

import json

import pandas as pd

from preictal.evaluation import EvalParams, run_evaluate_fold

i, p = snakemake.input, snakemake.params
run_evaluate_fold(
    i.predictions,
    json.loads(open(i.split_manifest).read()),
    json.loads(open(i.model_manifest).read()),
    pd.concat(map(pd.read_parquet, i.seizures), ignore_index=True),
    pd.concat(map(pd.read_parquet, i.files), ignore_index=True),
    patients=p.patients,
    label_params=p.labels,
    alarm_params=p.alarms,
    params=EvalParams.from_config(p.evaluation),
    data_source=p.data_source,
    out=dict(snakemake.output.items()),
)
