"""The evaluation figures of one split (preictal.plots.evaluation)."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

from preictal.alarms.postprocess import AlarmParams
from preictal.labels import LabelParams
from preictal.plots.evaluation import FIGURES, make_evaluation_figures

i, p = snakemake.input, snakemake.params
label_params = LabelParams(**p.labels)
alarm_params = AlarmParams(**p.alarms)
model_folds = [(f, m) for f in p.folds for m in p.models]
make_evaluation_figures(
    {
        "results": i.results,
        "curves": dict(zip(p.folds, i.curves, strict=True)),
        "seizures": dict(zip(model_folds, i.seizures, strict=True)),
        "alarms": dict(zip(p.folds, i.alarms, strict=True)),
        "predictions": dict(zip(p.folds, i.predictions, strict=True)),
        "train_curves": dict(zip(p.folds, i.train_curves, strict=False)),
        "split_manifests": dict(zip(p.folds, i.split_manifests, strict=True)),
        "files": list(i.files),
        "ledgers": list(i.ledgers),
    },
    {name: snakemake.output[name] for name in FIGURES},
    split=snakemake.wildcards.split,
    model=p.model,
    target_fah=p.target_fah,
    label_params=label_params,
    data_source=p.data_source,
    alarm_params=alarm_params,
    alpha=p.alpha,
)
