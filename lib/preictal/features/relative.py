"""Features relative to the patient's recent level (``features.relative_min``).

Cross-patient models see each patient's features at a patient-specific level (amplitude, electrode
gains, background rhythm), so a model trained on some patients puts another patient's windows on
another level, and a tree model may not rank them at all. Each window's features minus their
median over the same timeline's good windows that ended in the previous ``minutes`` remove that
level without labels and without looking ahead (:func:`preictal.recent.recent_median`). A window
with fewer than ``min_windows`` earlier good windows (the start of a recording) gets 0, "at the
patient's level". The models are trained and scored on the same relative features.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from preictal.recent import window_level


def relative_features(
    features: pd.DataFrame, windows: pd.DataFrame, minutes: float, min_windows: int = 12
) -> pd.DataFrame:
    """``features`` (a ``window`` column and one column per feature, aligned with ``windows``) minus
    each feature's causal recent median on the window's timeline (case file segment)."""
    if not features.window.equals(windows.window):
        raise ValueError("features and windows are not aligned on `window`")
    names = [c for c in features.columns if c != "window"]
    values = features[names].to_numpy(dtype=float)
    level = window_level(values, windows, minutes, min_windows)
    relative = np.where(np.isfinite(level), values - level, 0.0)
    out = pd.DataFrame(relative.astype(np.float32), columns=names, index=features.index)
    out.insert(0, "window", features.window.to_numpy())
    return out


def model_feature_table(
    features: pd.DataFrame, windows: pd.DataFrame, minutes: float | None
) -> pd.DataFrame:
    """The features the models see, once per case: relative to the recent past, or the cached
    absolute features as they are when ``minutes`` is None."""
    return features if minutes is None else relative_features(features, windows, minutes)
