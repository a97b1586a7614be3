"""The seizure prediction characteristic of one split (preictal.evaluate.spc): tables and figure."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

from preictal.alarms.postprocess import AlarmParams
from preictal.evaluate.fold import EvalParams
from preictal.evaluate.spc import SpcGrid, spc_tables
from preictal.io import atomic_path, read_parquets
from preictal.labels import LabelParams
from preictal.plots.common import save
from preictal.plots.spc import plot_spc

i, p, o = snakemake.input, snakemake.params, snakemake.output
folds, characteristic = spc_tables(
    i.predictions,
    read_parquets(i.seizures),
    read_parquets(i.files),
    patients=p.patients,
    label_params=LabelParams(**p.labels),
    alarm_params=AlarmParams(**p.alarms),
    params=EvalParams(**p.evaluation, n_surrogates=0),
    grid=SpcGrid(**p.spc),
    data_source=p.data_source.get("kind", ""),
)
for table, path in ((folds, o.folds), (characteristic, o.characteristic)):
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)
save(plot_spc(characteristic, snakemake.wildcards.split, p.data_source), o.figure)
