"""FusionNet variants compared on the same folds and seed, chosen on validation only.

Each variant is scored per fold on its validation and test windows: window AUROC and AUPRC, and
the alarm operating point at the false-alarm target. The threshold is tuned on validation (the
highest validation sensitivity with validation FAH <= target, `preictal.alarms.tune_thresholds`)
and applied unchanged to test. Variants are ranked by their mean validation sensitivity over the
folds, then by mean validation AUPRC; the first is chosen. With ``test="chosen"`` (the sweep),
test numbers are blanked for every other variant, so that picking by test is impossible from the
table.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from preictal.alarms.postprocess import AlarmParams
from preictal.alarms.scoring import PartEvaluator
from preictal.alarms.tuning import threshold_curve, tune_thresholds
from preictal.evaluate.window_metrics import auroc_auprc
from preictal.labels import LabelParams
from preictal.layout import variant_of

PART_COLUMNS = ("auroc", "auprc", "threshold", "fah", "sensitivity", "n_seizures_scored")


def score_variant(
    preds: pd.DataFrame,
    seizures: pd.DataFrame,
    files: pd.DataFrame,
    label_params: LabelParams,
    alarm_params: AlarmParams,
    fah_target: float,
    tie_break: str = "lowest",
) -> dict:
    """``val_*`` and ``test_*`` numbers (``PART_COLUMNS``) of one variant on one fold, at the
    threshold tuned on validation for ``fah_target`` (``tie_break`` as the evaluation's)."""
    row: dict = {}
    val, test = preds[preds.part == "val"], preds[preds.part == "test"]
    for part, p in (("val", val), ("test", test)):
        labelled = p[p.y_cls.isin([0, 1])]
        row[f"{part}_auroc"], row[f"{part}_auprc"] = auroc_auprc(
            labelled.y_cls.to_numpy(), labelled.score.to_numpy(), f"{part} windows"
        )
    # The validation sweep already holds the counts at the picked threshold.
    curve = threshold_curve(val, seizures, files, label_params, alarm_params)
    threshold = float(tune_thresholds(curve, [fah_target], tie_break).threshold.iloc[0])
    picked = curve[curve.threshold == threshold].iloc[0]
    tested = PartEvaluator(test, seizures, files, label_params, alarm_params).counts(threshold)
    for part, counts in (("val", picked), ("test", tested)):
        row |= {
            f"{part}_threshold": threshold,
            f"{part}_fah": counts["fah"],
            f"{part}_sensitivity": counts["sensitivity"],
            f"{part}_n_seizures_scored": int(counts["n_seizures_scored"]),
        }
    return row


def rank_variants(table: pd.DataFrame) -> dict[str, int]:
    """Variant -> rank (1 = best) by mean validation sensitivity over folds, then mean validation
    AUPRC. NaN (no validation seizure, a skipped fold) ranks last; equal variants keep their
    order in ``table``."""
    means = table.groupby("variant", sort=False)[["val_sensitivity", "val_auprc"]].mean()
    ranked = means.fillna(-np.inf).sort_values(
        ["val_sensitivity", "val_auprc"], ascending=False, kind="stable"
    )
    return {v: i + 1 for i, v in enumerate(ranked.index)}


def comparison_table(
    prediction_paths: Sequence[str | Path],
    seizures: pd.DataFrame,
    files: pd.DataFrame,
    *,
    label_params: LabelParams,
    alarm_params: AlarmParams,
    fah_target: float,
    tie_break: str = "lowest",
    test: str = "all",
    data_source: str = "",
) -> pd.DataFrame:
    """One row per variant and fold, ranked (``rank`` 1 = chosen) on validation only.
    ``test``: "all" reports every variant's test numbers, "chosen" only the chosen one's."""
    if test not in ("all", "chosen"):
        raise ValueError(f"test: 'all' or 'chosen', not {test!r}")
    rows = []
    for path in prediction_paths:
        fold, variant = variant_of(path)
        preds = pd.read_parquet(path)
        if preds.empty:  # a skipped fold: nothing to score
            rows.append({"variant": variant, "fold": fold})
            continue
        scores = score_variant(
            preds, seizures, files, label_params, alarm_params, fah_target, tie_break
        )
        rows.append({"variant": variant, "fold": fold, **scores})
    table = pd.DataFrame(rows)
    for part in ("val", "test"):
        for col in PART_COLUMNS:
            if f"{part}_{col}" not in table:
                table[f"{part}_{col}"] = np.nan
    table.insert(2, "rank", table.variant.map(rank_variants(table)))
    table.insert(3, "chosen", table["rank"] == 1)
    table.insert(4, "fah_target", float(fah_target))
    if test == "chosen":
        table.loc[~table.chosen, [f"test_{c}" for c in PART_COLUMNS]] = np.nan
    table["data_source"] = data_source
    return table.sort_values(["rank", "fold"], kind="stable").reset_index(drop=True)
