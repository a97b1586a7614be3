"""Alarm post-processing ablation over every fold and model (preictal.evaluate.fold.ABLATION)."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

from preictal.evaluate.fold import EvalParams, alarm_ablation_table
from preictal.io import atomic_path, read_parquets

i, p = snakemake.input, snakemake.params
table = alarm_ablation_table(
    i.predictions,
    read_parquets(i.seizures),
    read_parquets(i.files),
    patients=p.patients,
    label_params=p.labels,
    alarm_params=p.alarms,
    params=EvalParams.from_config(p.evaluation),
)
with atomic_path(snakemake.output[0]) as tmp:
    table.to_csv(tmp, index=False)
