"""The per-case feature table: features of every window of the cache, block by block."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from preictal.cache.windows import (
    WindowParams,
    release_mapped_pages,
    window_index,
    window_pieces,
)
from preictal.features.spectral import compute_features, feature_names

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
    """One row per window (in :func:`preictal.cache.windows.window_index` order), one float32 column per
    feature. The window index is recomputed from the blocks (cheap), so that changing a bad-window
    threshold does not recompute the features."""
    windows = window_index(blocks, sfreq, WindowParams(w_sec=w_sec, step_sec=step_sec))
    signal = np.load(signal_path, mmap_mode="r")
    names = feature_names(feature_set)
    w, step = WindowParams(w_sec=w_sec, step_sec=step_sec).samples(sfreq)
    parts = []
    for b in blocks.itertuples():
        rows = 0
        for i0, n, a, z in window_pieces(b.n_samples, w, step):
            # One window of context before a piece, so "change from the previous window"
            # (basic_plus) is the same as on the whole block; its row is dropped.
            ctx = step if i0 else 0
            x = np.asarray(signal[:, b.offset + a - ctx : b.offset + z], dtype=np.float32)
            feats = compute_features(
                x, sfreq, w_sec=w_sec, step_sec=step_sec, feature_set=feature_set
            )
            parts.append(feats[1:] if i0 else feats)
            rows += n
        expected = int((windows.block == b.Index).sum())
        if rows != expected:
            raise AssertionError(
                f"{signal_path} block {b.Index}: {rows} feature rows, {expected} windows"
            )
        release_mapped_pages(signal)
        log.info("features: block %d/%d (%s)", b.Index + 1, len(blocks), b.file)
    values = np.concatenate(parts) if parts else np.zeros((0, len(names)), np.float32)
    if not np.isfinite(values).all():
        raise AssertionError(f"{signal_path}: non-finite features; the NaN policy was broken")
    table = pd.DataFrame(values, columns=names)
    table.insert(0, "window", windows.window.to_numpy())
    return table
