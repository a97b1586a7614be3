"""Alarm post-processing ablation over every fold and model (preictal.evaluate.ablation.ABLATION)."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

import logging

from preictal.alarms.postprocess import AlarmParams
from preictal.evaluate.ablation import alarm_ablation_table, configured_variant
from preictal.evaluate.fold import EvalParams
from preictal.io import atomic_path, read_parquets
from preictal.labels import LabelParams

i, p = snakemake.input, snakemake.params
table = alarm_ablation_table(
    i.predictions,
    read_parquets(i.seizures),
    read_parquets(i.files),
    patients=p.patients,
    label_params=LabelParams(**p.labels),
    alarm_params=AlarmParams(**p.alarms),
    params=EvalParams(**p.evaluation),
    selection_fah=p.selection_fah,
)
chosen = set(table.variant[table.chosen_on_validation]) if len(table) else set()
logging.info(
    "alarm ablation: chosen on validation at FAH %s: %s; the config's alarms: %s",
    p.selection_fah,
    ", ".join(chosen) or "none",
    configured_variant(AlarmParams(**p.alarms)) or "no variant of the ablation",
)
with atomic_path(snakemake.output[0]) as tmp:
    table.to_csv(tmp, index=False)
