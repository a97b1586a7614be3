"""Windows over the cached signal: an index of O(1) views, and the bad-window flags.

The cache stores each case's preprocessed signal once, channel-major ``[18, n_samples]`` float16,
with every included EDF file as one contiguous block. A window is ``signal[:, a:a + w]``: a view,
never a copy, so overlapping windows are never stored twice. Windows are cut inside a block, so no
window spans a file boundary or a recording gap.
"""

from __future__ import annotations

import math
import mmap
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class WindowParams:
    w_sec: float = 10.0
    step_sec: float = 5.0
    amp_uv_thresh: float = 500.0  # a window is bad where any channel's peak-to-peak exceeds this
    flat_uv_thresh: float = 1.0  # ... or where a channel is flatter than this over 1 s (dropout)

    def samples(self, sfreq: float) -> tuple[int, int]:
        w, step = round(self.w_sec * sfreq), round(self.step_sec * sfreq)
        if w <= 0 or step <= 0:
            raise ValueError("windows: w_sec and step_sec must be positive")
        return w, step


def window_index(blocks: pd.DataFrame, sfreq: float, params: WindowParams) -> pd.DataFrame:
    """One row per window: block, file, first sample in the case signal, start and end on the
    timeline, segment. ``blocks`` has file, offset, n_samples, start_sec, segment."""
    w, step = params.samples(sfreq)
    parts = []
    for b in blocks.itertuples():
        n = 0 if b.n_samples < w else (b.n_samples - w) // step + 1
        k = np.arange(n)
        parts.append(
            pd.DataFrame(
                {
                    "block": np.full(n, b.Index, dtype=np.int32),
                    "file": b.file,
                    "start_sample": b.offset + k * step,
                    "start_sec": b.start_sec + k * step / sfreq,
                    "end_sec": b.start_sec + (k * step + w) / sfreq,
                    "segment": b.segment,
                }
            )
        )
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    out.insert(0, "window", np.arange(len(out), dtype=np.int64))
    # Cut inside a block, a window cannot span a gap; the flag stays as the labels' guard.
    out["spans_gap"] = False
    return out


WINDOWS_PER_PIECE = 720  # windows whose statistics are computed at a time (an hour at 5 s)


def window_view(signal: np.ndarray, start_sample: int, w: int) -> np.ndarray:
    """The window ``[C, w]`` starting at ``start_sample``: a view into the cache, not a copy."""
    return signal[:, start_sample : start_sample + w]


def window_pieces(n_samples: int, w: int, step: int, per_piece: int | None = None):
    """Split a block's windows into pieces: ``(first_window, n_windows, first_sample,
    stop_sample)`` for each, so that long blocks are processed in bounded memory."""
    per_piece = per_piece or WINDOWS_PER_PIECE
    n = 0 if n_samples < w else (n_samples - w) // step + 1
    for i0 in range(0, n, per_piece):
        i1 = min(n, i0 + per_piece)
        yield i0, i1 - i0, i0 * step, (i1 - 1) * step + w


def block_window_stats(
    x: np.ndarray, w: int, step: int, sfreq: float, chunk: int | None = None
) -> dict[str, np.ndarray]:
    """Per-window statistics of a block ``x [C, T]``, vectorised over windows: the largest
    peak-to-peak of any channel (``ptp_max``), the smallest peak-to-peak of any channel over any
    ``chunk`` of the window (``flat_min``: a dropout of one chunk makes it ~0), and NaN presence.

    Extrema are taken once per chunk (default: one second of ``sfreq`` where that divides the
    window and the step, else the largest length dividing both), then combined over the chunks of
    each window, so overlapping windows share the work.
    """
    n = 0 if x.shape[1] < w else (x.shape[1] - w) // step + 1
    if n == 0:
        return {"ptp_max": np.zeros(0), "flat_min": np.zeros(0), "has_nan": np.zeros(0, bool)}
    c = chunk or math.gcd(w, step)
    one_second = round(sfreq)
    if chunk is None and one_second == sfreq and c % one_second == 0:
        c = one_second  # a one-second dropout counts as flat, at any sampling rate
    if w % c or step % c:
        raise ValueError(f"chunk {c} must divide the window {w} and the step {step}")
    k, s = w // c, step // c
    n_chunks = (n - 1) * s + k
    cmax, cmin, cnan = _chunk_extrema(np.asarray(x[:, : n_chunks * c]), n_chunks, c)
    cmax, cmin = cmax.T, cmin.T  # [n_chunks, C]
    starts = np.arange(n) * s
    sel = starts[:, None] + np.arange(k)[None, :]  # chunks of each window
    wmax, wmin = cmax[sel].max(axis=1), cmin[sel].min(axis=1)  # [n, C]
    return {
        "ptp_max": (wmax - wmin).max(axis=1),
        "flat_min": (cmax - cmin)[sel].min(axis=(1, 2)),
        "has_nan": cnan[sel].any(axis=1),
    }


def _float16_order_key(bits: np.ndarray) -> np.ndarray:
    """Map float16 bit patterns (as int16) to int16 keys with the same order as the values:
    negative floats (sign bit set) get their magnitude bits flipped. The map is its own inverse."""
    return bits ^ ((bits >> 15) & np.int16(0x7FFF))


_F16_POS_INF, _F16_NEG_INF = np.int16(0x7C00), _float16_order_key(np.array([-1024], np.int16))[0]


def _chunk_extrema(x: np.ndarray, n_chunks: int, c: int):
    """Max and min ``[C, n_chunks]`` of each channel over chunks of ``c`` samples (NaN counted as
    0), and whether a chunk holds NaN. The cache is float16: its extrema are taken on int16 keys
    that order like the floats, which skips converting the whole block to float32."""
    if x.dtype == np.float16:
        keys = _float16_order_key(x.view(np.int16)).reshape(x.shape[0], n_chunks, c)
        kmax, kmin = keys.max(axis=2), keys.min(axis=2)
        cnan = ((kmax > _F16_POS_INF) | (kmin < _F16_NEG_INF)).any(axis=0)  # NaN keys lie past inf
        if not cnan.any():
            as_float = lambda k: _float16_order_key(k).view(np.float16).astype(np.float32)  # noqa: E731
            return as_float(kmax), as_float(kmin), cnan
    xf = np.asarray(x, dtype=np.float32).reshape(x.shape[0], n_chunks, c)
    cmax = xf.max(axis=2)  # NaN propagates, so NaN chunks show here without a full isnan pass
    cnan = np.isnan(cmax).any(axis=0)
    if cnan.any():
        xf = np.nan_to_num(xf, nan=0.0)
        cmax = xf.max(axis=2)
    return cmax, xf.min(axis=2), cnan


def overlaps_intervals(start: np.ndarray, end: np.ndarray, intervals: pd.DataFrame) -> np.ndarray:
    """Whether each [start, end) sample range overlaps any of ``intervals`` (start_sample,
    end_sample; sorted, disjoint)."""
    if len(intervals) == 0:
        return np.zeros(len(start), dtype=bool)
    a = intervals.start_sample.to_numpy()
    b = intervals.end_sample.to_numpy()
    k = np.searchsorted(a, end, side="left")  # intervals starting before each range ends
    prev_end = np.where(k > 0, b[np.maximum(k - 1, 0)], -1)
    return prev_end > start


def release_mapped_pages(signal: np.ndarray) -> None:
    """Drop the pages of a memory-mapped cache that this process has read from its resident set
    (they stay in the page cache): read block by block, a 150-h case would otherwise hold its
    whole signal (about 5 GB) resident. A no-op for arrays in memory."""
    mapping = getattr(signal, "_mmap", None)
    if mapping is not None and hasattr(mmap, "MADV_DONTNEED"):
        mapping.madvise(mmap.MADV_DONTNEED)


def bad_windows(
    signal: np.ndarray,
    blocks: pd.DataFrame,
    sfreq: float,
    params: WindowParams,
    flat: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Bad flags of every window of every block, in :func:`window_index` order. Bad windows are
    kept and marked, never dropped: ``bad_amp`` (peak-to-peak above ``amp_uv_thresh``),
    ``bad_flat`` (a raw dropout from ``flat``, or a channel's peak-to-peak below
    ``flat_uv_thresh`` over one second of the cache), ``bad_nan``; ``bad`` is any."""
    w, step = params.samples(sfreq)
    parts = []
    for b in blocks.itertuples():
        for _, _, a, z in window_pieces(b.n_samples, w, step):
            parts.append(
                pd.DataFrame(
                    block_window_stats(signal[:, b.offset + a : b.offset + z], w, step, sfreq)
                )
            )
        release_mapped_pages(signal)
    df = pd.concat(parts, ignore_index=True)
    out = pd.DataFrame(
        {
            "ptp_max_uv": df.ptp_max.astype(np.float32),
            "bad_amp": df.ptp_max.to_numpy() > params.amp_uv_thresh,
            "bad_flat": df.flat_min.to_numpy() < params.flat_uv_thresh,
            "bad_nan": df.has_nan.to_numpy(dtype=bool),
        }
    )
    if flat is not None:
        w, _ = params.samples(sfreq)
        starts = window_index(blocks, sfreq, params).start_sample.to_numpy()
        out["bad_flat"] |= overlaps_intervals(starts, starts + w, flat)
    out["bad"] = out.bad_amp | out.bad_flat | out.bad_nan
    return out


def build_window_table(
    signal_path: str,
    blocks: pd.DataFrame,
    sfreq: float,
    params: WindowParams,
    flat: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The window index of a cached case with its bad flags (``flat``: the raw dropouts)."""
    signal = np.load(signal_path, mmap_mode="r")
    index = window_index(blocks, sfreq, params)
    flags = bad_windows(signal, blocks, sfreq, params, flat)
    if len(flags) != len(index):
        raise AssertionError(f"{signal_path}: {len(index)} windows but {len(flags)} flag rows")
    return pd.concat([index, flags], axis=1)
