"""Tune alarm thresholds on one fold's validation part, apply them to its test part, and score."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

import json

from preictal.alarms.postprocess import AlarmParams
from preictal.evaluate.fold import EvalParams, run_evaluate_fold
from preictal.io import read_parquets
from preictal.labels import LabelParams

i, p = snakemake.input, snakemake.params
run_evaluate_fold(
    i.predictions,
    json.loads(open(i.split_manifest).read()),
    json.loads(open(i.model_manifest).read()),
    read_parquets(i.seizures),
    read_parquets(i.files),
    patients=p.patients,
    label_params=LabelParams(**p.labels),
    alarm_params=AlarmParams(**p.alarms),
    params=EvalParams(**p.evaluation),
    data_source=p.data_source,
    out=dict(snakemake.output.items()),
)
