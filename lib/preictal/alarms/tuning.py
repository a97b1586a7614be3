"""Alarm thresholds from validation: the FAH / sensitivity curve over candidate thresholds, and the
threshold picked per false-alarm target.

The curve is computed on one part (normally ``val``) with :class:`PartEvaluator`, which smooths
once and then costs a few array operations per threshold. A pick is the threshold with the highest
validation sensitivity among those whose validation FAH is at most the target. Seizures are few,
so many thresholds tie on it; ``tie_break`` says which of them: ``lowest`` (the default: it spends
the false-alarm budget, which a threshold carried to another patient needs) or ``highest`` (fewest
validation alarms for the same sensitivity; the rule until 2026-12-06). docs/EVALUATION.md
("Which of equal thresholds") has the nested validation that chose the default. Where no
threshold meeting the target catches anything, the lowest one meeting it is taken (the most
alarms the budget allows) and the pick is flagged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from preictal.alarms.postprocess import AlarmParams
from preictal.alarms.scoring import PartEvaluator
from preictal.labels import LabelParams

CURVE_COLUMNS = [
    "threshold",
    "fah",
    "sensitivity",
    "time_in_warning",
    "n_alarms",
    "n_true_alarms",
    "n_false_alarms",
    "alarms_excluded",
    "n_caught",
    "n_seizures_scored",
    "fah_total_time",
]
FLAG_NO_SENSITIVITY = "no threshold meeting the target catches a seizure"
FLAG_NO_SEIZURES = "no scored seizure in this part"
FLAG_TARGET_UNMET = "no threshold meets the target (no interictal time?)"
TIE_BREAKS = ("lowest", "highest")


def candidate_thresholds(smoothed: np.ndarray, good: np.ndarray, n: int = 200) -> np.ndarray:
    """Up to ``n`` distinct quantiles of the smoothed risk over good windows (observed values, so
    each one is attained), plus one just above the maximum, where no alarm is raised.

    Half the quantiles are evenly spaced; the other half are spaced geometrically in the upper tail,
    down to the single highest windows: the low false-alarm targets (0.1 per hour is one alarm in
    ten hours) are decided by the few highest excursions, which evenly spaced quantiles step over
    (one step is 0.5 % of the windows, about 40 in a loso validation part)."""
    values = smoothed[good & np.isfinite(smoothed)]
    if values.size == 0:
        return np.array([np.inf])
    n_tail = n // 2
    tail = 1.0 - np.geomspace(0.5, 1.0 / values.size, n_tail) if values.size > 2 else []
    levels = np.concatenate([np.linspace(0, 1, n - n_tail), tail])
    quantiles = np.unique(np.quantile(values, np.clip(levels, 0, 1), method="lower"))
    return np.append(quantiles, np.nextafter(values.max(), np.inf))


def threshold_curve(
    pred_part: pd.DataFrame,
    seizures: pd.DataFrame,
    files: pd.DataFrame,
    label_params: LabelParams,
    alarm_params: AlarmParams,
    thresholds: Sequence[float] | None = None,
    n_thresholds: int = 200,
) -> pd.DataFrame:
    """One row per threshold (ascending), columns ``CURVE_COLUMNS``, for one part's predictions."""
    part = PartEvaluator(pred_part, seizures, files, label_params, alarm_params)
    if thresholds is None:
        thresholds = candidate_thresholds(part.smoothed, part.series.good, n_thresholds)
    return curve_of(part, np.sort(np.asarray(thresholds, dtype=float)))


def curve_of(
    part: PartEvaluator, thresholds: np.ndarray, alarm_rows: Sequence[np.ndarray] | None = None
) -> pd.DataFrame:
    """The curve of a prepared part at ascending ``thresholds``; ``alarm_rows`` are the alarms
    already detected at each (they do not depend on the seizures: see ``surrogate_curves``)."""
    if alarm_rows is None:
        alarm_rows = [part.detector.alarms(t) for t in thresholds]
    rows = [
        {"threshold": float(t), **part.counts_of(a)}
        for t, a in zip(thresholds, alarm_rows, strict=True)
    ]
    return pd.DataFrame(rows, columns=CURVE_COLUMNS)


def tune_thresholds(
    val_curve: pd.DataFrame, targets: Sequence[float], tie_break: str = "lowest"
) -> pd.DataFrame:
    """One row per FAH target: the picked threshold, its validation fah, sensitivity,
    time_in_warning and n_alarms, and ``flag`` (empty for a regular pick, else why not);
    ``tie_break`` (``TIE_BREAKS``) picks among thresholds of equal validation sensitivity."""
    if tie_break not in TIE_BREAKS:
        raise ValueError(f"evaluation.tie_break: one of {TIE_BREAKS}, not {tie_break!r}")
    rows = []
    for target in targets:
        meets = val_curve[val_curve.fah <= target]
        if meets.empty:
            pick, flag = val_curve.loc[val_curve.threshold.idxmax()], FLAG_TARGET_UNMET
        elif not (meets.sensitivity > 0).any():
            pick = meets.loc[meets.threshold.idxmin()]
            flag = FLAG_NO_SEIZURES if meets.sensitivity.isna().all() else FLAG_NO_SENSITIVITY
        else:
            best = meets[meets.sensitivity == meets.sensitivity.max()]
            at = best.threshold.idxmin() if tie_break == "lowest" else best.threshold.idxmax()
            pick, flag = best.loc[at], ""
        rows.append(
            {
                "target_fah": float(target),
                "threshold": float(pick.threshold),
                "fah": float(pick.fah),
                "sensitivity": float(pick.sensitivity),
                "time_in_warning": float(pick.time_in_warning),
                "n_alarms": int(pick.n_alarms),
                "flag": flag,
            }
        )
    return pd.DataFrame(rows)


def sensitivity_at_fah(curve: pd.DataFrame, target: float) -> float:
    """The best sensitivity among thresholds with FAH <= ``target`` (NaN if none meets the target or
    no seizure is scored): the model-selection number."""
    meets = curve.sensitivity[curve.fah <= target]
    return float(meets.max()) if meets.notna().any() else np.nan
