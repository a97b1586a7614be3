"""Thresholds tuned on validation beside the oracle tuned on test, over every fold and model
(preictal.evaluate.transfer)."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

from preictal.alarms.postprocess import AlarmParams
from preictal.evaluate.fold import EvalParams
from preictal.evaluate.transfer import threshold_transfer_table
from preictal.io import atomic_path, read_parquets
from preictal.labels import LabelParams

i, p = snakemake.input, snakemake.params
table = threshold_transfer_table(
    i.predictions,
    read_parquets(i.seizures),
    read_parquets(i.files),
    patients=p.patients,
    label_params=LabelParams(**p.labels),
    alarm_params=AlarmParams(**p.alarms),
    params=EvalParams(**p.evaluation),
)
with atomic_path(snakemake.output[0]) as tmp:
    table.to_csv(tmp, index=False)
