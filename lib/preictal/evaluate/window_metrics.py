"""Window-level metrics of a prediction table: AUROC and AUPRC, and the AUROC expected by chance.

Chance level for window AUROC is not 0.5 +- the textbook standard error: windows overlap, and the
preictal windows of one seizure are one event, so neighbouring scores and labels are strongly
autocorrelated and the effective sample size is a handful of seizures, not thousands of windows.
The null used here keeps that structure: the label sequence of each case (in time order, excluded
windows included) is rotated against its score sequence by a random offset of at least
``min_shift`` of its length. Scores and labels keep their own autocorrelation; only their alignment
is destroyed. The quantiles of the rotated AUROCs are the range a model with no information reaches
on this very fold; ``p`` is one-sided, ``(1 + #{null >= observed}) / (n + 1)``. Seizures at
near-regular intervals let some rotations realign preictal blocks, which widens the null: the test
then errs towards "not above chance", never the other way.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.metrics import average_precision_score, roc_auc_score

NULL_QUANTILES = (0.025, 0.975)


def auroc_auprc(y: np.ndarray, score: np.ndarray, what: str = "") -> tuple[float, float]:
    """AUROC and AUPRC of labelled windows; NaN (with a warning), never 0, for a single class."""
    y = np.asarray(y)
    if len(np.unique(y)) < 2:
        warnings.warn(
            f"{what or 'window metrics'}: {int((y == 1).sum())} positive and "
            f"{int((y == 0).sum())} negative windows; AUROC and AUPRC are NaN",
            stacklevel=2,
        )
        return float("nan"), float("nan")
    return float(roc_auc_score(y, score)), float(average_precision_score(y, score))


def rotation_null(
    score: np.ndarray,
    y_cls: np.ndarray,
    groups: np.ndarray,
    *,
    n: int = 200,
    min_shift: float = 0.1,
    seed: int = 0,
) -> np.ndarray:
    """AUROCs of ``n`` rotations of each group's label sequence against its scores (rows already
    in time order within each group). Rows with label -1 are excluded wherever they land."""
    score, y_cls, groups = np.asarray(score), np.asarray(y_cls), np.asarray(groups)
    rng = np.random.default_rng(seed)
    bounds = [np.flatnonzero(groups == g) for g in pd.unique(groups)]
    out = np.empty(n)
    for i in range(n):
        shifted = np.empty_like(y_cls)
        for rows in bounds:
            m = len(rows)
            lo = max(1, int(np.ceil(min_shift * m)))
            k = int(rng.integers(lo, m - lo + 1)) if m - lo >= lo else 0
            shifted[rows] = np.roll(y_cls[rows], k)
        labelled = shifted >= 0
        out[i] = auroc_by_ranks(score[labelled], shifted[labelled] == 1)
    return out


def auroc_by_ranks(score: np.ndarray, positive: np.ndarray) -> float:
    """AUROC as the Mann-Whitney U statistic (midranks for ties); NaN for one class."""
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    r = rankdata(score)
    return float((r[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def window_auroc_table(
    prediction_paths: Sequence[str | Path], *, n_null: int = 200, seed: int = 0
) -> pd.DataFrame:
    """Window-level AUROC and AUPRC of every fold and model on validation and test (labelled
    windows only; NaN where a part has one class), with the rotation-null range and p-value."""
    from preictal.io import read_parquet_metadata

    rows = []
    for path in prediction_paths:
        meta = read_parquet_metadata(path)
        preds = pd.read_parquet(path)
        for part in ("val", "test"):
            p = preds[preds.part == part] if len(preds) else preds
            labelled = p[p.y_cls.isin([0, 1])] if len(p) else p
            y = labelled.y_cls.to_numpy() if len(p) else np.zeros(0)
            row = {
                "split": meta.get("split"),
                "fold": meta.get("fold"),
                "model": meta.get("model"),
                "part": part,
                "n_pos": int((y == 1).sum()),
                "n_neg": int((y == 0).sum()),
                "auroc": np.nan,
                "auprc": np.nan,
                "null_lo": np.nan,
                "null_hi": np.nan,
                "p_chance": np.nan,
                "skipped": meta.get("skipped"),
                "data_source": meta.get("data_source", {}).get("kind"),
            }
            if len(np.unique(y)) == 2:
                row["auroc"], row["auprc"] = auroc_auprc(y, labelled.score.to_numpy())
                ordered = p.sort_values(["case", "start_sec"], kind="stable")
                null = rotation_null(
                    ordered.score.to_numpy(),
                    ordered.y_cls.to_numpy(),
                    ordered.case.to_numpy(),
                    n=n_null,
                    seed=seed,
                )
                null = null[np.isfinite(null)]
                row["null_lo"], row["null_hi"] = np.quantile(null, NULL_QUANTILES)
                row["p_chance"] = (1 + int((null >= row["auroc"]).sum())) / (len(null) + 1)
            rows.append(row)
    return pd.DataFrame(rows)
