"""FusionNet's patient-relative spectrogram: each window's spectrum relative to the patient's
recent past (``fusion.spectrogram: relative``).

Across patients, absolute log spectrograms sit at patient-specific levels (amplitude, electrode
gains, background rhythm), so a network trained on some patients puts another patient's windows
on another level and its thresholds do not transfer. The features solve this by subtracting
each feature's median over the previous hour (:mod:`preictal.features.relative`); this module
does the same for the spectrogram, per channel and frequency bin:

- :func:`window_log_spectra`: each window's log spectrum ``[C, n_freqs]``, the mean over the
  one-second frames that lie entirely inside the window (hop a quarter second) of
  ``log(1 + |DFT(hann * frame)|)``: the network's own spectrogram bins (:mod:`.net`), without
  the reflect-padded edge frames, so a window's spectrum depends only on its own samples.
- :func:`spectral_reference`: per window, the median of those spectra over the good windows of
  the same timeline that ended in the previous ``minutes`` (:func:`preictal.recent.recent_median`:
  earlier windows only). A window with fewer than ``min_windows`` such windows (the start of a
  recording) takes its own spectrum, so it is seen relative to itself.

The network subtracts the reference from every frame of the window's spectrogram, in training
and in scoring alike (:class:`preictal.models.fusion.net.FusionNet`). The reference is computed
once per case by the ``spectral_reference_case`` rule and stored as float16
``[n_windows, C, n_freqs]`` beside the cache (row ``i`` belongs to window ``i``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from preictal.models.fusion.window import N_FREQS
from preictal.recent import window_level

CHUNK_WINDOWS = 512  # windows per transform (about 10 MB of float32 signal at 23 channels)


def window_log_spectra(
    signal: np.ndarray,
    start_sample: np.ndarray,
    window_samples: int,
    sfreq: int,
    n_freqs: int = N_FREQS,
) -> np.ndarray:
    """``float32 [n_windows, C, n_freqs]``: per window ``signal[:, s:s + window_samples]`` the
    mean over its inner one-second frames of ``log1p |rfft(hann * frame)|`` (first ``n_freqs``
    bins). Non-finite samples count as 0 (the band-passed signal's mean). Each distinct frame is
    transformed once, so overlapping windows share their frames."""
    import torch

    from preictal.models.fusion.net import dft_basis

    n_fft, hop = int(sfreq), int(sfreq) // 4
    if window_samples < n_fft:
        raise ValueError(f"window_log_spectra: window of {window_samples} samples < one frame")
    starts = np.asarray(start_sample, dtype=np.int64)
    per_window = 1 + (window_samples - n_fft) // hop  # inner frames of a window
    basis = dft_basis(n_freqs, n_fft)
    out = np.empty((len(starts), signal.shape[0], n_freqs), dtype=np.float32)
    for lo in range(0, len(starts), CHUNK_WINDOWS):
        rows = np.arange(lo, min(lo + CHUNK_WINDOWS, len(starts)))
        # Windows whose starts share a hop grid: one strided transform of the stretch they
        # cover, then each window's mean over its consecutive frames from a cumulative sum.
        for phase in np.unique(starts[rows] % hop):
            grid = rows[starts[rows] % hop == phase]
            first, end = int(starts[grid].min()), int(starts[grid].max()) + window_samples
            stretch = np.nan_to_num(
                np.asarray(signal[:, first:end], dtype=np.float32), posinf=0, neginf=0
            )
            log_mag = np.log1p(_frame_magnitudes(torch.from_numpy(stretch), basis, hop, torch))
            cum = np.zeros((log_mag.shape[0], log_mag.shape[1] + 1, n_freqs))
            np.cumsum(log_mag, axis=1, out=cum[:, 1:])
            k = (starts[grid] - first) // hop
            mean = (cum[:, k + per_window] - cum[:, k]) / per_window  # [C, w, n_freqs]
            out[grid] = mean.transpose(1, 0, 2)
    return out


def _frame_magnitudes(stretch, basis, hop: int, torch) -> np.ndarray:
    """``|DFT|`` ``[C, n_frames, n_freqs]`` of the frames ``stretch[:, hop k : hop k + n_fft]``."""
    z = torch.nn.functional.conv1d(stretch[:, None, :], basis[:, None, :], stride=hop)
    nf = basis.shape[0] // 2
    return torch.sqrt(z[:, :nf] ** 2 + z[:, nf:] ** 2).transpose(1, 2).numpy()


def spectral_reference(
    spectra: np.ndarray, windows: pd.DataFrame, minutes: float, min_windows: int = 12
) -> np.ndarray:
    """``float16 [n_windows, C, n_freqs]``: each window's causal recent median of ``spectra``
    (rows aligned with ``windows``: its ``end_sec``, ``segment`` and ``bad``), or the window's
    own spectrum where fewer than ``min_windows`` good windows ended in the previous
    ``minutes``."""
    n = len(windows)
    if len(spectra) != n:
        raise ValueError(f"spectral_reference: {len(spectra)} spectra for {n} windows")
    flat = spectra.reshape(n, -1)
    level = window_level(flat, windows, minutes, min_windows)
    return np.where(np.isfinite(level), level, flat).reshape(spectra.shape).astype(np.float16)


def write_spectral_reference(
    signal_path: str,
    windows: pd.DataFrame,
    out_path: str,
    *,
    sfreq: int,
    window_samples: int,
    minutes: float,
) -> np.ndarray:
    """The case's reference store: :func:`spectral_reference` of its windows' spectra, written
    atomically to ``out_path`` (``.npy``, float16 ``[n_windows, C, n_freqs]``)."""
    from preictal.io import atomic_path

    if not windows.window.equals(pd.Series(np.arange(len(windows)), name="window")):
        raise ValueError(f"{signal_path}: the window table is not numbered 0..n-1 in order")
    signal = np.load(signal_path, mmap_mode="r")
    spectra = window_log_spectra(signal, windows.start_sample.to_numpy(), window_samples, sfreq)
    reference = spectral_reference(spectra, windows, minutes)
    with atomic_path(out_path) as tmp, open(tmp, "wb") as f:
        np.save(f, reference)
    return reference
