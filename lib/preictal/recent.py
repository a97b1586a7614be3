"""The patient's recent past on a timeline: a causal rolling median over the previous minutes (the
level), and a trailing mean over the last minutes (the context).

The median is used twice, so that both mean the same thing: for the alarm baseline (the risk
relative to the previous hour, :mod:`preictal.alarms.postprocess`) and for relative features (each
feature relative to the previous hour, :mod:`preictal.features.relative`); FusionNet's spectral
reference uses it too (:mod:`preictal.models.fusion.reference`). The trailing mean gives FusionNet
its minutes of context (``fusion.context_min``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def recent_median(
    values: np.ndarray,
    end_sec: np.ndarray,
    key: np.ndarray,
    good: np.ndarray,
    minutes: float,
    min_windows: int,
) -> np.ndarray:
    """Per row of ``values`` (n rows, or n x k), the median over the good rows of the same ``key``
    (timeline) that ended in [end - minutes, end): earlier windows only, never the row itself.
    NaN where fewer than ``min_windows`` such rows exist. Rows may come in any order."""
    values = np.asarray(values, dtype=float)
    flat = values.ndim == 1
    masked = np.where(
        np.asarray(good, dtype=bool)[:, None], values.reshape(len(values), -1), np.nan
    )
    out = np.full(masked.shape, np.nan)
    window = f"{minutes * 60.0:.6f}s"
    for k in pd.unique(key):
        rows = np.flatnonzero(key == k)
        rows = rows[np.argsort(end_sec[rows], kind="stable")]
        frame = pd.DataFrame(masked[rows], index=pd.to_datetime(end_sec[rows], unit="s"))
        # closed="left": windows that ended in [t - window, t); NaN (not good) rows do not count.
        out[rows] = frame.rolling(window, closed="left", min_periods=min_windows).median()
    return out[:, 0] if flat else out


def trailing_mean(
    values: np.ndarray, end_sec: np.ndarray, key: np.ndarray, minutes: float
) -> np.ndarray:
    """Per row of ``values`` (n x k), the mean over the rows of the same ``key`` (timeline) that
    ended in (end - minutes, end]: the row itself and the earlier windows of the last minutes,
    never a later one. Rows may come in any order; non-finite values are skipped."""
    values = np.asarray(values, dtype=float)
    out = np.full(values.shape, np.nan)
    window = f"{minutes * 60.0:.6f}s"
    for k in pd.unique(key):
        rows = np.flatnonzero(key == k)
        rows = rows[np.argsort(end_sec[rows], kind="stable")]
        frame = pd.DataFrame(values[rows], index=pd.to_datetime(end_sec[rows], unit="s"))
        out[rows] = frame.rolling(window, closed="right", min_periods=1).mean()
    return out
