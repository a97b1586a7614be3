"""Aggregation of per-fold results into the summary tables (`results/{split}_summary.csv`).

Per model and FAH target, over the folds that trained (a fold is a held-out patient in loso, a
patient's later recording in within):

- ``mean`` and ``std`` (ddof 1) across folds of the test sensitivity, FAH, time in warning, mean
  time to warning and window AUROC/AUPRC. Folds without a scored seizure have NaN sensitivity and
  are left out of its mean (``n_folds_scored`` says how many count).
- ``pooled``: all test seizures and hours together: caught / scored, false alarms / interictal
  hours, warned / recorded hours.
- 95 % confidence intervals of the means over folds (patients): Student-t by default
  (``interval: t``), clipped to the metric's range; or a percentile bootstrap resampling the folds
  (``interval: bootstrap``, ``n_boot`` resamples, seeded), which with five folds covers about 85 %,
  not 95 % (its spread shrinks by sqrt((n - 1) / n) and it takes normal quantiles;
  tests/evaluate/test_aggregate.py).
- the count of individually significant patients and the cohort test: Poisson-binomial p-value of
  the total number of caught seizures given each patient's chance probability.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from preictal.evaluate.chance import cohort_chance_test
from preictal.labels import PROTOCOL_COLUMNS

MEAN_COLUMNS = {
    "sensitivity": "test_sensitivity",
    "fah": "test_fah",
    "time_in_warning": "test_time_in_warning",
    "time_to_warning_sec": "test_mean_time_to_warning_sec",
    "auroc": "test_auroc",
    "auprc": "test_auprc",
}
# The means with an interval, and the range each metric lives in (the interval is clipped to it).
INTERVAL_BOUNDS = {"sensitivity": (0.0, 1.0), "fah": (0.0, np.inf), "auroc": (0.0, 1.0)}
INTERVALS = ("t", "bootstrap")


def bootstrap_ci(
    values: np.ndarray, n_boot: int, rng: np.random.Generator, level: float = 0.95
) -> tuple[float, float]:
    """Percentile interval of the mean over resampled folds (NaNs dropped first)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size < 2 or n_boot < 1:
        return np.nan, np.nan
    idx = rng.integers(0, values.size, size=(n_boot, values.size))
    means = values[idx].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def fold_interval(
    values: np.ndarray, level: float = 0.95, bounds: tuple[float, float] = (-np.inf, np.inf)
) -> tuple[float, float]:
    """Student-t interval of the mean over folds (NaNs dropped first): mean -/+ t(level, n - 1) x
    sd / sqrt(n), clipped to ``bounds``; NaN with fewer than two folds."""
    from scipy import stats

    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size < 2:
        return np.nan, np.nan
    mean, sem = float(values.mean()), float(values.std(ddof=1)) / np.sqrt(values.size)
    if sem == 0:
        return mean, mean
    lo, hi = stats.t.interval(level, values.size - 1, loc=mean, scale=sem)
    return float(max(lo, bounds[0])), float(min(hi, bounds[1]))


def protocol_of(rows: pd.DataFrame) -> dict:
    """The protocol columns (``preictal.labels.PROTOCOL_COLUMNS``) the rows share."""
    out = {}
    for key in PROTOCOL_COLUMNS:
        values = set(rows[key].dropna()) if key in rows else set()
        if len(values) != 1:
            raise ValueError(f"rows do not share one {key}: {sorted(map(str, values))}")
        out[key] = values.pop()
    return out


def cohort_d(folds: pd.DataFrame) -> int:
    """The d of the per-patient tests (``chance_d`` of the fold rows), for the cohort test too:
    the same operating points were chosen on validation for every patient."""
    ds = set(folds["chance_d"].dropna().astype(int)) if "chance_d" in folds else set()
    if len(ds) > 1:
        raise ValueError(f"folds were tested with different d ({sorted(ds)}); pool them apart")
    if not ds and len(folds):
        raise ValueError("fold results lack chance_d: rerun evaluate_fold")
    return ds.pop() if ds else 1


def summarise(
    results: pd.DataFrame,
    *,
    alpha: float = 0.05,
    interval: str = "t",
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per (model, target_fah) of ``results`` (one row per fold, model and target;
    ``interval``: "t" or "bootstrap" (``n_boot`` resamples; 0 = no interval) for the 95 % CIs;
    skipped folds have ``skipped`` set and are left out of the statistics). A model whose folds
    were all skipped keeps its rows, with ``n_folds`` 0, its protocol and ``n_folds_skipped``,
    so that the table still says what was asked for and under which protocol."""
    if interval not in INTERVALS:
        raise ValueError(f"evaluation.interval: one of {INTERVALS}, not {interval!r}")
    rows = []
    for (model, target), every in results.groupby(["model", "target_fah"], sort=True):
        g = every[every.skipped.isna() | (every.skipped == "")]
        row = {
            "split": every.split.iloc[0],
            "model": model,
            "target_fah": target,
            "n_folds": len(g),
            "n_folds_skipped": len(every) - len(g),
            "n_folds_scored": int(g.test_sensitivity.notna().sum()) if len(g) else 0,
        }
        if g.empty:  # every fold skipped: the fold rows may lack the metric columns
            row["data_source"] = ",".join(sorted(set(every.data_source.dropna().astype(str))))
            row.update(protocol_of(every))
            rows.append(row)
            continue
        rng = np.random.default_rng([seed, int(round(target * 1000))])
        for name, col in MEAN_COLUMNS.items():
            values = g[col].astype(float)
            row[f"{name}_mean"] = float(values.mean())  # NaN folds left out
            row[f"{name}_std"] = float(values.std(ddof=1)) if values.notna().sum() > 1 else np.nan
        for name, bounds in INTERVAL_BOUNDS.items():
            values = g[MEAN_COLUMNS[name]].to_numpy()
            row[f"{name}_ci_lo"], row[f"{name}_ci_hi"] = (
                fold_interval(values, bounds=bounds)
                if interval == "t"
                else bootstrap_ci(values, n_boot, rng)
            )
        caught, scored = g.test_n_caught.sum(), g.test_n_seizures_scored.sum()
        row["pooled_n_seizures"] = int(scored)
        row["pooled_n_caught"] = int(caught)
        row["pooled_sensitivity"] = caught / scored if scored else np.nan
        hours = g.test_interictal_hours.sum()
        row["pooled_interictal_hours"] = float(hours)
        row["pooled_fah"] = g.test_n_false_alarms.sum() / hours if hours else np.nan
        recorded = g.test_recorded_hours.sum()
        warned = (g.test_time_in_warning * g.test_recorded_hours).sum()
        row["pooled_time_in_warning"] = warned / recorded if recorded else np.nan
        scored_folds = g[g.test_n_seizures_scored > 0]
        d = cohort_d(scored_folds)
        cohort = cohort_chance_test(
            scored_folds.test_n_caught.to_numpy(),
            scored_folds.test_n_seizures_scored.to_numpy(),
            scored_folds.p_random.to_numpy(),
            alpha=alpha,
            d=d,
        )
        row["n_patients_significant"] = int(g.significant.fillna(False).astype(bool).sum())
        row["n_patients_tested"] = len(scored_folds)
        row["cohort_p"] = cohort["p_value"]
        row["cohort_d"] = d
        row["data_source"] = ",".join(sorted(set(g.data_source.dropna().astype(str))))
        row.update(protocol_of(g))
        rows.append(row)
    if not rows:  # no fold rows at all: the table still has its key columns
        return pd.DataFrame(columns=["split", "model", "target_fah", "n_folds", "data_source"])
    return pd.DataFrame(rows)
