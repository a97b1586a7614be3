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
    selection_fah: float,
) -> pd.DataFrame:
    """``results/tables/alarm_ablation.csv``: per split, model, post-processing variant and FAH
    target, the summary across folds (`preictal.evaluate.aggregate.summarise`) with the mean
    validation sensitivity and FAH, each variant's rank on validation (``val_rank``) and the
    variant chosen on validation at ``selection_fah`` (``chosen_on_validation``,
    `validation_choice`)."""
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
    table = rank_on_validation(summarise_by(frames, "variant", params))
    if table.empty:
        return table
    chosen = validation_choice(table, selection_fah)
    return table.assign(chosen_on_validation=table.variant == chosen)


def by_validation(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (with ``variant``, ``val_sensitivity_mean``, ``val_fah_mean``) best first on
    validation: the highest sensitivity, then the lower FAH, then ABLATION's order (the simpler
    variant first). Test columns play no part."""
    order = frame.variant.map({name: i for i, name in enumerate(ABLATION)})
    return (
        frame.assign(_order=order)
        .sort_values(
            ["val_sensitivity_mean", "val_fah_mean", "_order"],
            ascending=[False, True, True],
            na_position="last",
        )
        .drop(columns="_order")
    )


def rank_on_validation(table: pd.DataFrame) -> pd.DataFrame:
    """``val_rank`` per split, model and target: 1 for the best variant (``by_validation``)."""
    if table.empty:
        return table
    ranked = by_validation(table)
    ranks = ranked.groupby(["split", "model", "target_fah"], sort=False).cumcount() + 1
    return table.assign(val_rank=ranks.reindex(table.index).astype(int))


def validation_choice(table: pd.DataFrame, selection_fah: float) -> str | None:
    """The best variant (``by_validation``) at ``selection_fah`` of the means over every split and
    model of the ablation table: the rule the `alarms` default follows (docs/EVALUATION.md). None
    without a validation sensitivity."""
    at = table[np.isclose(table.target_fah, selection_fah)]
    means = at.groupby("variant", as_index=False)[["val_sensitivity_mean", "val_fah_mean"]].mean()
    means = means.dropna(subset=["val_sensitivity_mean"])
    return None if means.empty else str(by_validation(means).variant.iloc[0])


def configured_variant(alarm_params: AlarmParams) -> str | None:
    """The ABLATION variant whose switches ``alarm_params`` has (None if it has none of them)."""
    for name, switches in ABLATION.items():
        if all(getattr(alarm_params, key) == value for key, value in switches.items()):
            return name
    return None


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


def validation_means(rows: pd.DataFrame) -> pd.DataFrame:
    """Per model and target: the mean over trained folds of the validation sensitivity and FAH at
    the tuned threshold (NaN where the rows have none, as the oracle's)."""
    trained = rows[rows.skipped.isna() | (rows.skipped == "")]
    cols = {"val_sensitivity": "val_sensitivity_mean", "val_fah": "val_fah_mean"}
    trained = trained.reindex(columns=["model", "target_fah", *cols])
    means = trained.groupby(["model", "target_fah"], as_index=False)[list(cols)].mean()
    return means.rename(columns=cols)


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
        s = s.drop(columns=[c for c in s if c.startswith(("auroc", "auprc"))])
        s = s.merge(validation_means(g), on=["model", "target_fah"], how="left")
        out.append(s.assign(**{column: value}))
    table = pd.concat(out, ignore_index=True)
    first = ["split", "model", column, "target_fah"]
    return table[first + [c for c in table if c not in first]]
