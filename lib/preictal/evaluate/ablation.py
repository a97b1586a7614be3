"""The alarm ablation: each post-processing variant evaluated like a fold (tuned on validation,
applied to test), summarised across folds, so that the value of each step is visible
(docs/EVALUATION.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from preictal.alarms.postprocess import AlarmParams
from preictal.evaluate.fold import EvalParams, evaluate_fold, trained_predictions
from preictal.labels import LabelParams

# Post-processing variants of the alarm ablation: what each switches on, on top of the refractory
# period and gap tolerance of the `alarms` config (smoothing windows and alpha from it too).
ABLATION = {
    "none": {"smoothing": "none", "persistence_k": 1, "hysteresis": None, "baseline_min": None},
    "smoothing": {"smoothing": "ema", "persistence_k": 1, "hysteresis": None, "baseline_min": None},
    "persistence": {
        "smoothing": "none",
        "persistence_k": 3,
        "hysteresis": None,
        "baseline_min": None,
    },
    "smoothing+persistence+hysteresis": {
        "smoothing": "ema",
        "persistence_k": 3,
        "hysteresis": 0.8,
        "baseline_min": None,
    },
    # Not one of the classic steps: the risk relative to the patient's previous hour.
    "baseline": {"smoothing": "none", "persistence_k": 1, "hysteresis": None, "baseline_min": 60},
}


def alarm_ablation_table(
    prediction_paths: Sequence[str],
    seizures: pd.DataFrame,
    files: pd.DataFrame,
    *,
    patients: Mapping[str, str],
    label_params: LabelParams,
    alarm_params: AlarmParams,
    params: EvalParams,
) -> pd.DataFrame:
    """``results/tables/alarm_ablation.csv``: per split, model, post-processing variant and FAH
    target, the summary across folds (`preictal.evaluate.aggregate.summarise`)."""
    # Every variant of ABLATION on each fold, without surrogates.
    no_surrogates = replace(params, n_surrogates=0)
    frames = []
    for meta, preds in trained_predictions(prediction_paths):
        rows = pd.concat(
            [
                evaluate_fold(
                    preds,
                    seizures,
                    files,
                    split=meta["split"],
                    patients=patients,
                    label_params=label_params,
                    alarm_params=replace(alarm_params, **switches),
                    params=no_surrogates,
                    window_metrics=False,
                ).operating_points.assign(variant=name)
                for name, switches in ABLATION.items()
            ],
            ignore_index=True,
        )
        frames.append(fold_rows(rows, meta))
    return summarise_by(frames, "variant", params)


def fold_rows(rows: pd.DataFrame, meta: Mapping) -> pd.DataFrame:
    """One fold's operating points with the identity columns that ``summarise`` reads (no window
    metrics: these tables are about alarms)."""
    return rows.assign(
        split=meta["split"],
        fold=meta["fold"],
        model=meta["model"],
        skipped=None,
        data_source=meta.get("data_source", {}).get("kind"),
        test_auroc=np.nan,
        test_auprc=np.nan,
    )


def summarise_by(frames: Sequence[pd.DataFrame], column: str, params: EvalParams) -> pd.DataFrame:
    """Per split, model, value of ``column`` and FAH target: the summary across folds of
    ``frames`` (`preictal.evaluate.aggregate.summarise`, without window metrics)."""
    from preictal.evaluate.aggregate import summarise

    if not frames:
        return pd.DataFrame()
    rows = pd.concat(frames, ignore_index=True)
    out = []
    for (_, value), g in rows.groupby(["split", column], sort=False):
        s = summarise(g, alpha=params.alpha, seed=params.seed)
        out.append(
            s.drop(columns=[c for c in s if c.startswith(("auroc", "auprc"))]).assign(
                **{column: value}
            )
        )
    table = pd.concat(out, ignore_index=True)
    first = ["split", "model", column, "target_fah"]
    return table[first + [c for c in table if c not in first]]
