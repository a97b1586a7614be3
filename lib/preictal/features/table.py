"""The per-case feature table: features of every window of the cache, block by block."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from preictal.features.spectral import compute_features, feature_names
from preictal.windows import WindowParams, window_index

log = logging.getLogger(__name__)


def build_feature_table(
    signal_path: str,
    blocks: pd.DataFrame,
    sfreq: float,
    *,
    w_sec: float,
    step_sec: float,
    feature_set: str,
) -> pd.DataFrame:
    """One row per window (in :func:`preictal.windows.window_index` order), one float32 column per
    feature. The window index is recomputed from the blocks (cheap), so that changing a bad-window
    threshold does not recompute the features."""
    windows = window_index(blocks, sfreq, WindowParams(w_sec=w_sec, step_sec=step_sec))
    signal = np.load(signal_path, mmap_mode="r")
    names = feature_names(feature_set)
    parts = []
    for b in blocks.itertuples():
        x = np.asarray(signal[b.offset : b.offset + b.n_samples], dtype=np.float32).T
        feats = compute_features(x, sfreq, w_sec=w_sec, step_sec=step_sec, feature_set=feature_set)
        expected = int((windows.block == b.Index).sum())
        if len(feats) != expected:
            raise AssertionError(
                f"{signal_path} block {b.Index}: {len(feats)} feature rows, {expected} windows"
            )
        parts.append(feats)
        log.info("features: block %d/%d (%s)", b.Index + 1, len(blocks), b.file)
    values = np.concatenate(parts) if parts else np.zeros((0, len(names)), np.float32)
    if not np.isfinite(values).all():
        raise AssertionError(f"{signal_path}: non-finite features; the NaN policy was broken")
    table = pd.DataFrame(values, columns=names)
    table.insert(0, "window", windows.window.to_numpy())
    return table
