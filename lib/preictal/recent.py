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
    masked = np.where(
        np.asarray(good, dtype=bool)[:, None], values.reshape(len(values), -1), np.nan
    )
    # closed="left": windows that ended in [t - window, t); NaN (not good) rows do not count.
    out = _rolling(masked, end_sec, key, minutes, "left", min_windows, "median")
    return out[:, 0] if values.ndim == 1 else out


def window_level(
    values: np.ndarray, windows: pd.DataFrame, minutes: float, min_windows: int
) -> np.ndarray:
    """:func:`recent_median` of ``values`` (rows aligned with ``windows``) on the windows'
    timelines (``segment``), over the good windows: not ``bad`` and every value finite."""
    return recent_median(
        values,
        windows.end_sec.to_numpy(dtype=float),
        windows.segment.to_numpy(),
        ~windows.bad.to_numpy(dtype=bool) & np.isfinite(values).all(axis=1),
        minutes,
        min_windows,
    )


def trailing_mean(
    values: np.ndarray, end_sec: np.ndarray, key: np.ndarray, minutes: float
) -> np.ndarray:
    """Per row of ``values`` (n x k), the mean over the rows of the same ``key`` (timeline) that
    ended in (end - minutes, end]: the row itself and the earlier windows of the last minutes,
    never a later one. Rows may come in any order; non-finite values are skipped."""
    return _rolling(np.asarray(values, dtype=float), end_sec, key, minutes, "right", 1, "mean")


def _rolling(
    values: np.ndarray,
    end_sec: np.ndarray,
    key: np.ndarray,
    minutes: float,
    closed: str,
    min_periods: int,
    how: str,
) -> np.ndarray:
    """``how`` ("median" or "mean") of the rows of ``values`` (n x k) per timeline ``key``, over
    the windows that ended in the ``minutes`` before each row's end (pandas' time-based rolling,
    ``closed`` as there), written back in the rows' own order."""
    out = np.full(values.shape, np.nan)
    window = f"{minutes * 60.0:.6f}s"
    for k in pd.unique(key):
        rows = np.flatnonzero(key == k)
        rows = rows[np.argsort(end_sec[rows], kind="stable")]
        frame = pd.DataFrame(values[rows], index=pd.to_datetime(end_sec[rows], unit="s"))
        rolling = frame.rolling(window, closed=closed, min_periods=min_periods)
        out[rows] = getattr(rolling, how)()
    return out
