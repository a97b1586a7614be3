"""Rank FusionNet variants (loss comparison or sweep) on validation; see preictal.evaluate.comparisons."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

from preictal.alarms.postprocess import AlarmParams
from preictal.evaluate.comparisons import comparison_table
from preictal.io import atomic_path, read_parquets
from preictal.labels import LabelParams

i, p = snakemake.input, snakemake.params
table = comparison_table(
    i.predictions,
    read_parquets(i.seizures),
    read_parquets(i.files),
    label_params=LabelParams(**p.labels),
    alarm_params=AlarmParams(**p.alarms),
    fah_target=p.fah_target,
    tie_break=p.tie_break,
    test=p.test,
    data_source=p.data_source.get("kind", ""),
)
with atomic_path(snakemake.output[0]) as tmp:
    table.to_csv(tmp, index=False)
