"""Figures of the evaluation stage (docs/EVALUATION.md): the validation threshold sweep, the
trade-off between false alarms and sensitivity, a test patient's risk timeline with its alarms,
warning times, FusionNet training curves, the window confusion matrix, reliability before and
after temperature scaling, and the per-patient chance tests.

The ``plot_*`` functions live in modules by theme (:mod:`preictal.plots.thresholds`,
:mod:`~preictal.plots.timeline`, :mod:`~preictal.plots.training`,
:mod:`~preictal.plots.calibration`, :mod:`~preictal.plots.chance`); each is a pure function of
DataFrames and typed parameters that returns a matplotlib Figure. :func:`make_evaluation_figures`
reads the workflow's files and writes them all as PNG. Skipped folds (empty tables) are left out;
a figure with nothing to show says so instead of failing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from preictal.alarms.postprocess import AlarmParams
from preictal.evaluate.final_summary import best_model
from preictal.evaluate.fold import training_base_rate
from preictal.io import read_parquets
from preictal.labels import LabelParams
from preictal.plots.calibration import plot_confusion_matrix, plot_reliability
from preictal.plots.chance import plot_chance_tests
from preictal.plots.common import (
    _at_target,
    _read_csv,
    _trained,
    fah_targets,
    message_figure,
    save,
)
from preictal.plots.thresholds import (
    plot_fah_sensitivity_tradeoff,
    plot_threshold_vs_fah,
    plot_threshold_vs_sensitivity,
)
from preictal.plots.timeline import (
    choose_timeline_fold,
    plot_risk_gallery,
    plot_risk_timeline,
    plot_warning_times,
)
from preictal.plots.training import plot_training_curves

log = logging.getLogger(__name__)

FIGURES = (
    "threshold_vs_fah",
    "threshold_vs_sensitivity",
    "tradeoff",
    "risk_timeline",
    "risk_gallery",
    "warning_times",
    "training_curves",
    "confusion_matrix",
    "reliability",
    "chance_tests",
)


def figures_model(
    setting: str, results: pd.DataFrame, selection_fah: float, models: list[str]
) -> str:
    """The model the per-model figures show: `setting` itself, or for "chosen" the model chosen
    on validation (`best_model` at `selection_fah`, never on test); the first model when no fold
    trained."""
    if setting != "chosen":
        return setting
    chosen = best_model(results, selection_fah) if len(results) else None
    return chosen or models[0]


def _fold_model_key(key) -> tuple[str, str]:
    if isinstance(key, str):
        fold, model = key.split("/")
        return fold, model
    fold, model = key
    return str(fold), str(model)


def _base_rates(manifests: Mapping[str, str] | None) -> dict[str, float] | None:
    if not manifests:
        return None
    out = {}
    for fold, path in manifests.items():
        m = json.loads(Path(path).read_text())
        if m.get("skipped") or "counts" not in m:
            continue
        train = m["counts"]["train"]
        if train["n_pos"] + train["n_neg"]:
            out[str(fold)] = training_base_rate(m)
    return out


def _read_training_curves(path: str | Path) -> pd.DataFrame:
    """Per-epoch curves from a FusionNet fold manifest (``training.curves``) or a CSV."""
    if str(path).endswith(".json"):
        manifest = json.loads(Path(path).read_text())
        return pd.DataFrame((manifest.get("training") or {}).get("curves") or [])
    return _read_csv(path)


def make_evaluation_figures(
    paths: Mapping,
    outputs: Mapping[str, str],
    *,
    split: str,
    model: str,
    target_fah: float,
    label_params: LabelParams,
    data_source: Mapping,
    alarm_params: AlarmParams | None = None,
    alpha: float = 0.05,
) -> None:
    """Read the evaluation outputs of one split and write every figure of :data:`FIGURES` to
    ``outputs`` (figure name -> PNG path). Model-specific figures show ``model``; warning times
    and chance tests compare all models found.

    ``paths`` (folds are the fold names, e.g. ``chb01``):

    - ``results``: ``results/{split}_results.csv`` (all folds, models and targets);
    - ``curves``: {fold: ``results/eval/{split}/{fold}/{model}/val_curve.csv``};
    - ``seizures``: {(fold, model) or "fold/model": ``.../{fold}/{model}/test_seizures.parquet``},
      for every model to compare in the warning-time figure;
    - ``alarms``: {fold: ``results/eval/{split}/{fold}/{model}/test_alarms.parquet``};
    - ``predictions``: {fold: ``results/folds/{split}/{fold}/{model}/predictions.parquet``};
    - ``train_curves``: {fold: ``results/folds/{split}/{fold}/fusion/manifest.json``} (the
      curves under ``training.curves``) or a ``train_curves.csv``;
    - ``files``: [``results/index/{case}/files.parquet``, ...] of every case;
    - ``ledgers``: [``results/labels/{case}_seizures.parquet``, ...] of every case;
    - ``split_manifests`` (optional): {fold: ``results/folds/{split}/{fold}/split.json``}, for
      the training base rates of the Brier skill score in the reliability figure.

    Skipped folds (empty files) are left out. When no fold of the split trained, every output
    is a figure saying so. ``label_params`` set the SOP and SPH drawn; ``alarm_params``, when
    they smooth (or take a baseline), add the smoothed risk to the timeline. The FAH targets
    drawn are those of the results table (its ``target_fah`` column)."""
    source = dict(data_source or {})
    missing = set(FIGURES) - set(outputs)
    if missing:
        raise ValueError(f"outputs lack {sorted(missing)}")
    results = _read_csv(paths["results"])
    trained = _trained(results)
    if trained.empty:
        for name in FIGURES:
            save(
                message_figure(
                    name.replace("_", " ").capitalize(),
                    f"no fold of the {split} split trained: nothing to evaluate",
                    source,
                ),
                outputs[name],
            )
        return
    targets = fah_targets(results)

    curves = {str(f): _read_csv(p) for f, p in (paths.get("curves") or {}).items()}
    save(
        plot_threshold_vs_fah(curves, model, split, source, targets=targets),
        outputs["threshold_vs_fah"],
    )
    save(
        plot_threshold_vs_sensitivity(curves, model, split, source),
        outputs["threshold_vs_sensitivity"],
    )
    save(
        plot_fah_sensitivity_tradeoff(
            curves, results, model, split, source, label_params=label_params
        ),
        outputs["tradeoff"],
    )

    tables = []
    for key, path in (paths.get("seizures") or {}).items():
        fold, m = _fold_model_key(key)
        t = pd.read_parquet(path)
        if len(t):
            tables.append(t.assign(fold=fold, model=m))
    seizure_tables = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    save(
        plot_warning_times(
            seizure_tables, source, target_fah=target_fah, split=split, label_params=label_params
        ),
        outputs["warning_times"],
    )

    preds = {str(f): pd.read_parquet(p) for f, p in (paths.get("predictions") or {}).items()}
    preds = {f: p for f, p in preds.items() if len(p)}
    files = read_parquets(paths.get("files") or [])
    ledger = read_parquets(paths.get("ledgers") or [])
    pick = choose_timeline_fold(
        results[results.fold.astype(str).isin(set(preds))], seizure_tables, model, target_fah
    )
    if pick is None:
        fig = message_figure(
            "Risk timeline", f"no trained fold of {model} with predictions", source
        )
    else:
        fold, case = pick
        log.info("risk timeline: fold %s, case %s", fold, case or "(first test case)")
        row = _at_target(
            trained[(trained.fold.astype(str) == fold) & (trained.model == model)], target_fah
        )
        threshold = float(row.threshold.iloc[0]) if len(row) else float("nan")
        alarm_path = (paths.get("alarms") or {}).get(fold)
        alarms = pd.read_parquet(alarm_path) if alarm_path else pd.DataFrame()
        fig = plot_risk_timeline(
            preds[fold],
            files,
            ledger,
            alarms,
            threshold,
            label_params,
            source,
            case,
            target_fah=target_fah,
            fold=fold,
            model=model,
            alarm_params=alarm_params,
        )
    save(fig, outputs["risk_timeline"])
    thresholds = {
        str(r.fold): float(r.threshold)
        for r in _at_target(trained[trained.model == model], target_fah).itertuples()
    }
    gallery_alarms = {
        str(f): pd.read_parquet(p)
        for f, p in (paths.get("alarms") or {}).items()
        if str(f) in preds
    }
    save(
        plot_risk_gallery(
            preds,
            gallery_alarms,
            thresholds,
            files,
            ledger,
            source,
            model=model,
            split=split,
            target_fah=target_fah,
        ),
        outputs["risk_gallery"],
    )

    train_curves = {
        str(f): _read_training_curves(p) for f, p in (paths.get("train_curves") or {}).items()
    }
    save(plot_training_curves(train_curves, split, source), outputs["training_curves"])
    save(
        plot_confusion_matrix(results, model, split, target_fah, source),
        outputs["confusion_matrix"],
    )
    save(
        plot_reliability(preds, _base_rates(paths.get("split_manifests")), model, split, source),
        outputs["reliability"],
    )
    save(
        plot_chance_tests(results, split, target_fah, source, alpha=alpha),
        outputs["chance_tests"],
    )
