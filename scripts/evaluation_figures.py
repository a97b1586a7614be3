"""The evaluation figures of one split (preictal.plots.evaluation)."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

import logging

import pandas as pd

from preictal.alarms.postprocess import AlarmParams
from preictal.labels import LabelParams
from preictal.plots.evaluation import FIGURES, figures_model, make_evaluation_figures

i, p = snakemake.input, snakemake.params
label_params = LabelParams(**p.labels)
alarm_params = AlarmParams(**p.alarms)
model = figures_model(p.model, pd.read_csv(i.results), p.selection_fah, p.figure_models)
logging.info("figures of %s (report.figures_model: %s)", model, p.model)


def of_model(paths):
    """The paths of `model`, one per fold, from a list expanded over folds x figure models."""
    by_fold_model = dict(
        zip([(f, m) for f in p.folds for m in p.figure_models], paths, strict=True)
    )
    return {f: by_fold_model[(f, model)] for f in p.folds}


model_folds = [(f, m) for f in p.folds for m in p.models]
make_evaluation_figures(
    {
        "results": i.results,
        "curves": of_model(i.curves),
        "seizures": dict(zip(model_folds, i.seizures, strict=True)),
        "alarms": of_model(i.alarms),
        "predictions": of_model(i.predictions),
        "train_curves": dict(zip(p.folds, i.train_curves, strict=False)),
        "split_manifests": dict(zip(p.folds, i.split_manifests, strict=True)),
        "files": list(i.files),
        "ledgers": list(i.ledgers),
    },
    {name: snakemake.output[name] for name in FIGURES},
    split=snakemake.wildcards.split,
    model=model,
    target_fah=p.target_fah,
    label_params=label_params,
    data_source=p.data_source,
    alarm_params=alarm_params,
    alpha=p.alpha,
)
