"""Handcrafted per-window EEG features, computed for all windows of a block at once.

``compute_features(x, sfreq)`` takes one continuous preprocessed block ``x [C, T]`` (µV; the 18
canonical bipolar channels at 256 Hz, band-passed 0.5-45 Hz) and returns ``float32
[n_windows, n_features]`` for the windows ``x[:, j*step : j*step + w]``, ``j = 0, 1, ...`` that fit
in the block (``w = round(w_sec * sfreq)``, ``step = round(step_sec * sfreq)``, the window index
of :mod:`preictal.cache.windows`). Columns are in :func:`feature_names` order.

Every feature is computed per window and channel, then reported as its mean and its standard
deviation (``ddof=0``) across channels (``<name>_mean``, ``<name>_std``), except coherence, which
is reported per channel pair.

``basic`` (14 features, 28 columns)
    ``bp_<band>`` for delta 0.5-4, theta 4-8, alpha 8-12, beta 12-30, gamma 30-45 Hz: absolute band
    power, log10(P + 1e-6) with P in µV² (the integral of the Welch PSD over the band: sum of the
    PSD bins times the bin width). ``ratio_theta_alpha``, ``ratio_beta_alpha``, ``ratio_slow_fast``
    ((delta + theta) / (alpha + beta)): log10((P_a + 1e-6) / (P_b + 1e-6)). ``line_length``,
    ``spec_entropy`` (Shannon entropy of the PSD over 0.5-45 Hz normalised to a distribution,
    divided by log(number of bins): 0 for a pure tone, 1 for a flat spectrum), ``hjorth_mobility``,
    ``hjorth_complexity``, ``variance`` (log10 µV²), ``kurtosis`` (excess); see
    :mod:`preictal.features.temporal` for the time-domain definitions.
``basic_plus`` (+ 6 features, 68 columns)
    ``rbp_<band>``: relative band power, P_band / P(0.5-45 Hz) (the five sum to 1); ``sef95``: the
    spectral edge frequency, the lowest PSD bin frequency (Hz) at which the cumulative power from
    0.5 Hz reaches 95 % of the 0.5-45 Hz power; then ``d_<column>``: the change of every ``basic``
    column from the previous window of the same block (0 for the block's first window).
``connectivity_light`` (+ 2 per pair, 108 columns with the 20 default pairs)
    ``coh_alpha_<A>__<B>``, ``coh_beta_<A>__<B>``: magnitude-squared coherence
    ``|Sab|² / (Saa Sbb)`` from the same Welch segments, averaged over the band's bins, per pair
    of :data:`DEFAULT_CHANNEL_PAIRS` (or ``channel_pairs``).

Welch PSD: 2-s segments (``round(2 * sfreq)`` samples, the window length if shorter), 50 %
overlap, periodic Hann window, each segment's mean removed, one-sided density (µV²/Hz), the mean
over the segments inside the window: ``scipy.signal.welch(x, sfreq, nperseg=512)`` for 256 Hz.
Bins 0.5-45 Hz (0.5 Hz apart) are kept; a band holds the bins ``lo <= f < hi`` (gamma also 45 Hz).

Speed. Windows every ``step`` samples share their segments when ``step`` is a multiple of the
segment step (1 s): each distinct segment is transformed once, its Hann window and mean removal
applied in the frequency domain to the needed bins of its plain FFT (a periodic cosine window is a
three-tap convolution of the spectrum; removing the mean zeroes bin 0), and each window's PSD is
the sum of its segments' periodograms. The time-domain features reduce blocks of
``gcd(w, step)`` samples once (:mod:`preictal.features.temporal`). Everything runs on float32
pieces that fit in cache; nothing larger than a chunk of ``chunk_windows`` windows is copied, and
a window's values depend only on its own samples (not on the chunking). A 1-hour 18-channel
256 Hz block (719 windows) takes about 0.08 s for ``basic_plus`` on one core, some 50 times less
than mne-features (``benchmarks/bench_features.py``). Rows of ``x`` should be contiguous
(``[C, T]`` C-order); a time-major ``[T, C]`` array's ``.T`` works but is copied chunk by chunk.

NaN policy. Features are always finite. A chunk whose features come out non-finite (NaN or inf
samples, or values so large that float32 overflows) is recomputed from a cleaned copy: NaN and
±inf samples set to 0 (the band-passed signal's mean), values clipped to ±1e8 µV. A window is
spectrally flat when its 0.5-45 Hz power is at most 1e-6 µV², and flat in time when its variance
is at most 1e-6 µV² (plus float32 rounding of a constant offset). Flat, constant or all-zero
windows give: log powers and ``variance`` log10(1e-6) = -6, ratios 0 (log10 1), relative power,
``spec_entropy``, ``sef95``, line length, Hjorth parameters, ``kurtosis`` and coherence 0.

Relation to mne-features 0.3.2 (checked in ``tests/features/test_features.py``). mne-features' Welch uses a
Hamming window (``compute_channel_features(..., window="hamming")`` reproduces it; Hann and
Hamming band powers differ by about 0.01 in log10). With the same window: ``bp_*`` equals
``compute_pow_freq_bands(normalize=False)`` times the bin width (it sums the PSD bins), before
the log; ``line_length`` and ``variance`` (before the log) are equal; ``kurtosis`` is its
(Pearson) kurtosis minus 3; ``hjorth_mobility`` differs because mne-features prepends a 0 sample
to the window before differencing (a few % on 1/f EEG; equal on windows that start with that 0),
and ``hjorth_complexity`` more (it pads twice; up to about 30 %). ``spec_entropy``: mne-features
uses log2 over 0-128 Hz, unnormalised, with the DC bin in the normaliser; on its PSD restricted
to 0.5-45 Hz our definition gives our values. ``sef95``: mne-features accumulates from 0 Hz, and
its DC bin holds power leaked from 0.5 Hz, so its edge is at or below ours. Its
``normalize=True`` band power divides by 0-128 Hz power, ``rbp_*`` by 0.5-45 Hz power.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.fft as sfft

from preictal.features.temporal import temporal_features

FEATURE_SETS = ("basic", "basic_plus", "connectivity_light")
BANDS = {"delta": (0.5, 4), "theta": (4, 8), "alpha": (8, 12), "beta": (12, 30), "gamma": (30, 45)}
CANONICAL_CHANNELS = (
    "FP1-F7", "F7-T7", "T7-P7", "P7-O1", "FP1-F3", "F3-C3", "C3-P3", "P3-O1", "FP2-F4",
    "F4-C4", "C4-P4", "P4-O2", "FP2-F8", "F8-T8", "T8-P8", "P8-O2", "FZ-CZ", "CZ-PZ",
)  # fmt: skip
_CH = {name: i for i, name in enumerate(CANONICAL_CHANNELS)}
# 20 pairs of the canonical channels; no pair shares an electrode (a shared electrode makes two
# bipolar derivations coherent by construction).
DEFAULT_CHANNEL_PAIRS: tuple[tuple[int, int], ...] = tuple(
    (_CH[a], _CH[b])
    for a, b in (
        # homologous left/right
        ("FP1-F7", "FP2-F8"), ("F7-T7", "F8-T8"), ("T7-P7", "T8-P8"), ("P7-O1", "P8-O2"),
        ("FP1-F3", "FP2-F4"), ("F3-C3", "F4-C4"), ("C3-P3", "C4-P4"), ("P3-O1", "P4-O2"),
        # lateral neighbours: temporal vs parasagittal chain
        ("F7-T7", "F3-C3"), ("T7-P7", "C3-P3"), ("F8-T8", "F4-C4"), ("T8-P8", "C4-P4"),
        # midline vs parasagittal
        ("FZ-CZ", "F3-C3"), ("FZ-CZ", "F4-C4"), ("CZ-PZ", "C3-P3"), ("CZ-PZ", "C4-P4"),
        # front to back within a hemisphere
        ("FP1-F7", "P7-O1"), ("FP2-F8", "P8-O2"), ("FP1-F3", "C3-P3"), ("FP2-F4", "C4-P4"),
    )
)  # fmt: skip
COHERENCE_BANDS = ("alpha", "beta")

SEGMENT_SEC = 2.0  # Welch segment length; 50 % overlap
EPS_POWER = 1e-6  # µV², added before the logs and ratios of powers; a window below it is flat
CLIP_UV = 1e8  # cleaned chunks are clipped here: float32 sums of x**4 stay finite
PIECE_SEGMENTS = 32  # segments per channel in one FFT call (keeps the spectra in cache)
# Periodic cosine windows a0 - a1 cos(2 pi n / N); "hamming" matches mne_features' Welch.
_COSINE_WINDOWS = {"hann": (0.5, 0.5), "hamming": (0.54, 0.46)}

BASIC_FEATURES = (
    *(f"bp_{b}" for b in BANDS),
    "ratio_theta_alpha",
    "ratio_beta_alpha",
    "ratio_slow_fast",
    "line_length",
    "spec_entropy",
    "hjorth_mobility",
    "hjorth_complexity",
    "variance",
    "kurtosis",
)
PLUS_FEATURES = (*(f"rbp_{b}" for b in BANDS), "sef95")


def _channel_labels(n_channels: int) -> list[str]:
    return (
        list(CANONICAL_CHANNELS)
        if n_channels == len(CANONICAL_CHANNELS)
        else [f"ch{i}" for i in range(n_channels)]
    )


def _resolve_pairs(
    n_channels: int, channel_pairs: Sequence[tuple[int, int]] | None
) -> tuple[tuple[int, int], ...]:
    if channel_pairs is None:
        if n_channels != len(CANONICAL_CHANNELS):
            raise ValueError(
                f"features: the default channel pairs are defined on the {len(CANONICAL_CHANNELS)} "
                f"canonical channels; pass channel_pairs for {n_channels} channels"
            )
        return DEFAULT_CHANNEL_PAIRS
    pairs = tuple((int(a), int(b)) for a, b in channel_pairs)
    for a, b in pairs:
        if not (0 <= a < n_channels and 0 <= b < n_channels) or a == b:
            raise ValueError(f"features: bad channel pair ({a}, {b}) for {n_channels} channels")
    return pairs


def feature_names(
    feature_set: str,
    n_channels: int = 18,
    *,
    channel_pairs: Sequence[tuple[int, int]] | None = None,
) -> list[str]:
    """Column names of :func:`compute_features`, in order (see the module docstring)."""
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"features: unknown feature_set {feature_set!r}; one of {FEATURE_SETS}")
    basic = [f"{f}_{s}" for f in BASIC_FEATURES for s in ("mean", "std")]
    if feature_set == "basic":
        return basic
    plus = [f"{f}_{s}" for f in PLUS_FEATURES for s in ("mean", "std")]
    names = basic + plus + [f"d_{c}" for c in basic]
    if feature_set == "basic_plus":
        return names
    labels = _channel_labels(n_channels)
    pairs = _resolve_pairs(n_channels, channel_pairs)
    return names + [
        f"coh_{band}_{labels[a]}__{labels[b]}" for band in COHERENCE_BANDS for a, b in pairs
    ]


# --- Welch machinery ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SpectralPlan:
    nperseg: int
    seg_step: int
    n_seg: int  # segments per window
    k0: int  # first kept rfft bin (0.5 Hz)
    k1: int  # last kept rfft bin (45 Hz), inclusive
    freqs: np.ndarray  # frequencies of the kept bins
    band_starts: np.ndarray  # reduceat indices of the bands into the kept bins
    c: float  # Z = (a1 / 2) * (c * Y[k] - Y[k-1] - Y[k+1]), Y the plain FFT of the segment
    psd_scale: float  # PSD (µV²/Hz) = psd_scale * sum over the window's segments of |Z'|²
    df: float
    coh_slices: tuple[slice, ...]  # bins of each coherence band, into the kept bins
    coh_span: slice  # bins of all coherence bands together


@lru_cache(maxsize=32)
def _spectral_plan(sfreq: float, w: int, window: str) -> _SpectralPlan:
    a0, a1 = _COSINE_WINDOWS[window]
    nperseg = min(round(SEGMENT_SEC * sfreq), w)
    seg_step = nperseg - nperseg // 2
    n_seg = (w - nperseg) // seg_step + 1
    df = sfreq / nperseg
    lo = min(b[0] for b in BANDS.values())
    hi = max(b[1] for b in BANDS.values())
    k0 = max(1, math.ceil(lo / df - 1e-9))
    k1 = min(math.floor(hi / df + 1e-9), nperseg // 2 - 1)
    freqs = np.arange(k0, k1 + 1) * df
    starts: list[int] = []
    end = 0  # the bands must tile the kept bins, in order
    edges = list(BANDS.values())
    for i, (blo, bhi) in enumerate(edges):
        last = i == len(edges) - 1
        inside = (freqs >= blo - 1e-9) & ((freqs <= bhi + 1e-9) if last else (freqs < bhi - 1e-9))
        idx = np.flatnonzero(inside)
        if idx.size == 0 or idx[0] != end:
            raise ValueError(f"features: band {blo}-{bhi} Hz has no bins at {sfreq} Hz")
        starts.append(int(idx[0]))
        end = int(idx[-1]) + 1
    if end != freqs.size:
        raise ValueError("features: the bands do not cover the kept bins")
    band_index = {b: i for i, b in enumerate(BANDS)}
    bounds = [*starts, freqs.size]
    coh = tuple(slice(bounds[band_index[b]], bounds[band_index[b] + 1]) for b in COHERENCE_BANDS)
    span = slice(min(s.start for s in coh), max(s.stop for s in coh))
    coh = tuple(slice(s.start - span.start, s.stop - span.start) for s in coh)
    sum_w2 = nperseg * (a0 * a0 + a1 * a1 / 2)
    psd_scale = (a1 / 2) ** 2 * 2.0 / (sfreq * sum_w2) / n_seg
    return _SpectralPlan(
        nperseg=nperseg,
        seg_step=seg_step,
        n_seg=n_seg,
        k0=k0,
        k1=k1,
        freqs=freqs,
        band_starts=np.asarray(starts),
        c=2.0 * a0 / a1,
        psd_scale=psd_scale,
        df=df,
        coh_slices=coh,
        coh_span=span,
    )


def _as_slice(idx: np.ndarray) -> slice | np.ndarray:
    """``idx`` as a slice where it is an arithmetic progression (a view), else as is."""
    if idx.size == 1:
        return slice(int(idx[0]), int(idx[0]) + 1)
    d = np.diff(idx)
    if d[0] > 0 and np.all(d == d[0]):
        return slice(int(idx[0]), int(idx[-1]) + 1, int(d[0]))
    return idx


def _welch_sums(
    x: np.ndarray, plan: _SpectralPlan, step: int, n_win: int, pairs: tuple[tuple[int, int], ...]
) -> tuple[np.ndarray, np.ndarray | None]:
    """Per window the sums over its segments of ``|Z'|²`` (float32 ``[C, n_win, K]``) and, for
    ``pairs``, of ``Z'_a conj(Z'_b)`` over the coherence bins (complex64 ``[P, n_win, Kc]``)."""
    C = x.shape[0]
    N, K = plan.nperseg, plan.k1 - plan.k0 + 1
    seg_of_win = np.arange(n_win)[:, None] * step + np.arange(plan.n_seg)[None, :] * plan.seg_step
    starts = np.unique(seg_of_win)
    pos = np.searchsorted(starts, seg_of_win)  # [n_win, n_seg] into starts
    where = _as_slice(starts)
    views = np.lib.stride_tricks.sliding_window_view(x, N, axis=-1)
    n_starts = starts.size
    power = np.empty((C, n_starts, K), np.float32)
    span = plan.coh_span
    if pairs:
        pa = np.array([a for a, _ in pairs])
        pb = np.array([b for _, b in pairs])
        cross = np.empty((len(pairs), n_starts, span.stop - span.start), np.complex64)
    zbuf = np.empty((C, PIECE_SEGMENTS, K), np.complex64)
    lo = plan.k0 - 1
    for a in range(0, n_starts, PIECE_SEGMENTS):
        b = min(n_starts, a + PIECE_SEGMENTS)
        if isinstance(where, slice):
            st = where.step
            segs = views[:, starts[a] : starts[b - 1] + 1 : st]
        else:
            segs = views[:, starts[a:b]]
        spec = sfft.rfft(segs, axis=-1, workers=1)
        y = spec[..., lo : plan.k1 + 2]
        if lo == 0:
            y[..., 0] = 0  # mean removal
        z = np.multiply(y[..., 1:-1], np.float32(plan.c), out=zbuf[:, : b - a])
        np.subtract(z, y[..., :-2], out=z)
        np.subtract(z, y[..., 2:], out=z)
        if pairs:
            zc = z[..., span]
            np.multiply(zc[pa], np.conj(zc[pb]), out=cross[:, a:b])
        zf = z.view(np.float32)
        np.multiply(zf, zf, out=zf)
        np.add(zf[..., 0::2], zf[..., 1::2], out=power[:, a:b])
    total = _window_sum(power, pos)
    return total, (_window_sum(cross, pos) if pairs else None)


def _window_sum(a: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """``out[:, j] = sum_m a[:, pos[j, m]]``."""
    out = a[:, _as_slice(pos[:, 0])].copy()
    for m in range(1, pos.shape[1]):
        out += a[:, _as_slice(pos[:, m])]
    return out


def _spectral_features(s: np.ndarray, plan: _SpectralPlan, plus: bool) -> dict[str, np.ndarray]:
    """Per-channel spectral features (float64 ``[C, n_win]``) from the summed periodograms."""
    bands = np.add.reduceat(s, plan.band_starts, axis=-1).astype(np.float64)
    bands *= plan.psd_scale * plan.df  # µV²
    total = bands.sum(-1)
    live = total > EPS_POWER
    names = list(BANDS)
    p = {b: bands[..., i] for i, b in enumerate(names)}
    out = {f"bp_{b}": np.log10(p[b] + EPS_POWER) for b in names}

    def ratio(num, den):
        return np.log10((num + EPS_POWER) / (den + EPS_POWER))

    out["ratio_theta_alpha"] = ratio(p["theta"], p["alpha"])
    out["ratio_beta_alpha"] = ratio(p["beta"], p["alpha"])
    out["ratio_slow_fast"] = ratio(p["delta"] + p["theta"], p["alpha"] + p["beta"])

    ssum = s.sum(-1, dtype=np.float64)
    inv = np.divide(1.0, ssum, out=np.zeros_like(ssum), where=live & (ssum > 0))
    prob = s * inv[..., None].astype(np.float32)
    plogp = prob * np.log(np.maximum(prob, np.finfo(np.float32).tiny))  # 0 log 0 = 0
    ent = -plogp.sum(-1, dtype=np.float64) / math.log(s.shape[-1])
    out["spec_entropy"] = np.where(live, np.clip(ent, 0.0, 1.0), 0.0)
    if plus:
        rel = bands * np.divide(1.0, total, out=np.zeros_like(total), where=live)[..., None]
        for i, b in enumerate(names):
            out[f"rbp_{b}"] = rel[..., i]
        idx = _edge_index(s, 0.95)
        out["sef95"] = np.where(live, plan.freqs[idx], 0.0)
    return out


def _edge_index(s: np.ndarray, edge: float, group: int = 10) -> np.ndarray:
    """Per row of ``s [..., K]``: the first bin where the cumulative sum reaches ``edge`` times
    the total, found on sums of ``group`` bins first and then inside the one group (a full
    cumulative sum along a short last axis is slow in numpy)."""
    K = s.shape[-1]
    ng = -(-K // group)
    if ng * group != K:
        s = np.concatenate([s, np.zeros((*s.shape[:-1], ng * group - K), s.dtype)], axis=-1)
    grouped = s.reshape(*s.shape[:-1], ng, group)
    gcum = np.cumsum(grouped.sum(-1, dtype=np.float64), axis=-1)
    thr = edge * gcum[..., -1:]
    gi = np.minimum(np.count_nonzero(gcum < thr, axis=-1), ng - 1)
    base = np.take_along_axis(gcum, np.maximum(gi - 1, 0)[..., None], axis=-1) * (gi > 0)[..., None]
    fine = np.take_along_axis(grouped, gi[..., None, None], axis=-2)[..., 0, :]
    cum = np.cumsum(fine, axis=-1, dtype=np.float64) + base
    idx = gi * group + np.count_nonzero(cum < thr, axis=-1)
    return np.minimum(idx, K - 1)


def _coherence(
    s: np.ndarray, cross: np.ndarray, plan: _SpectralPlan, pairs, live: np.ndarray
) -> dict[str, np.ndarray]:
    """Band-mean magnitude-squared coherence per pair (float64 ``[P, n_win]``)."""
    pa = np.array([a for a, _ in pairs])
    pb = np.array([b for _, b in pairs])
    auto = s[..., plan.coh_span].astype(np.float64)
    den = auto[pa] * auto[pb]
    num = cross.real.astype(np.float64) ** 2 + cross.imag.astype(np.float64) ** 2
    ok = (den > 0) & (live[pa] & live[pb])[..., None]
    msc = np.clip(np.divide(num, den, out=np.zeros_like(num), where=ok), 0.0, 1.0)
    return {
        f"coh_{band}": msc[..., sl].mean(-1)
        for band, sl in zip(COHERENCE_BANDS, plan.coh_slices, strict=True)
    }


# --- per-channel features of a chunk --------------------------------------------------------------


def _chunk_features(
    x: np.ndarray,
    sfreq: float,
    w: int,
    step: int,
    n_win: int,
    feature_set: str,
    pairs: tuple[tuple[int, int], ...],
    window: str,
) -> dict[str, np.ndarray]:
    plan = _spectral_plan(float(sfreq), w, window)
    plus = feature_set != "basic"
    coh_pairs = pairs if feature_set == "connectivity_light" else ()
    s, cross = _welch_sums(x, plan, step, n_win, coh_pairs)
    out = _spectral_features(s, plan, plus)
    out.update(temporal_features(x, w, step, n_win, EPS_POWER))
    if coh_pairs:
        bands_total = np.add.reduceat(s, plan.band_starts, axis=-1).sum(-1, dtype=np.float64)
        live = bands_total * (plan.psd_scale * plan.df) > EPS_POWER
        out.update(_coherence(s, cross, plan, coh_pairs, live))
    return out


def _clean(x: np.ndarray) -> np.ndarray:
    y = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
    return np.clip(y, -CLIP_UV, CLIP_UV, out=y)


def compute_channel_features(
    x: np.ndarray,
    sfreq: float,
    *,
    w_sec: float = 10.0,
    step_sec: float = 5.0,
    feature_set: str = "basic",
    chunk_windows: int = 512,
    channel_pairs: Sequence[tuple[int, int]] | None = None,
    window: str = "hann",
) -> dict[str, np.ndarray]:
    """The per-channel values behind :func:`compute_features`: ``{name: float64 [n_windows, C]}``
    for the basic (and with ``basic_plus`` the plus) features, and with ``connectivity_light``
    ``coh_alpha`` and ``coh_beta`` as ``[n_windows, n_pairs]``. ``window`` (``"hann"`` or
    ``"hamming"``) is the Welch taper; the feature sets use Hann."""
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"features: unknown feature_set {feature_set!r}; one of {FEATURE_SETS}")
    if window not in _COSINE_WINDOWS:
        raise ValueError(f"features: window must be one of {tuple(_COSINE_WINDOWS)}")
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"features: x must be [C, T] with C >= 1, got shape {x.shape}")
    if not sfreq > 0:
        raise ValueError("features: sfreq must be positive")
    if chunk_windows < 1:
        raise ValueError("features: chunk_windows must be >= 1")
    C, T = x.shape
    w, step = round(w_sec * sfreq), round(step_sec * sfreq)
    if w < 4 or step < 1:
        raise ValueError("features: w_sec and step_sec must give >= 4 and >= 1 samples")
    pairs = _resolve_pairs(C, channel_pairs) if feature_set == "connectivity_light" else ()
    n_win = 0 if T < w else (T - w) // step + 1
    names = list(BASIC_FEATURES) + (list(PLUS_FEATURES) if feature_set != "basic" else [])
    shapes = {n: C for n in names}
    if pairs:
        shapes.update({f"coh_{b}": len(pairs) for b in COHERENCE_BANDS})
    full = {n: np.zeros((k, n_win)) for n, k in shapes.items()}
    for j0 in range(0, n_win, chunk_windows):
        j1 = min(n_win, j0 + chunk_windows)
        xc = x[:, j0 * step : (j1 - 1) * step + w]
        if xc.dtype != np.float32 or xc.strides[1] != xc.itemsize:
            xc = np.ascontiguousarray(xc, dtype=np.float32)  # rows must be contiguous
        args = (sfreq, w, step, j1 - j0, feature_set, pairs, window)
        with np.errstate(all="ignore"):  # NaN, inf or overflow: recomputed below
            feats = _chunk_features(xc, *args)
        if not all(np.isfinite(v).all() for v in feats.values()):
            with np.errstate(all="ignore"):
                feats = _chunk_features(_clean(xc), *args)
        for n in shapes:
            full[n][:, j0:j1] = feats[n]
    for v in full.values():  # last guard of the NaN policy
        np.nan_to_num(v, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    return {n: v.T for n, v in full.items()}


def compute_features(
    x: np.ndarray,
    sfreq: float,
    *,
    w_sec: float = 10.0,
    step_sec: float = 5.0,
    feature_set: str = "basic",
    chunk_windows: int = 512,
    channel_pairs: Sequence[tuple[int, int]] | None = None,
) -> np.ndarray:
    """Features of every window of the block ``x [C, T]`` (µV): float32 ``[n_windows,
    n_features]``, columns in :func:`feature_names` order, always finite. Windows of ``w_sec``
    start every ``step_sec`` from the block's first sample and fit inside it; they are processed
    ``chunk_windows`` at a time (the result does not depend on it)."""
    per = compute_channel_features(
        x,
        sfreq,
        w_sec=w_sec,
        step_sec=step_sec,
        feature_set=feature_set,
        chunk_windows=chunk_windows,
        channel_pairs=channel_pairs,
    )
    C = np.asarray(x).shape[0]
    names = feature_names(feature_set, C, channel_pairs=channel_pairs)
    n_win = per["variance"].shape[0]
    out = np.empty((n_win, len(names)), np.float32)
    col = 0
    stats = list(BASIC_FEATURES) + (list(PLUS_FEATURES) if feature_set != "basic" else [])
    for n in stats:
        v = per[n].T  # [C, n_win]: the reduction runs over rows, the same for any n_win
        out[:, col] = v.mean(axis=0)
        out[:, col + 1] = v.std(axis=0)
        col += 2
    if feature_set != "basic":
        nb = 2 * len(BASIC_FEATURES)
        basic = out[:, :nb].astype(np.float64)
        delta = np.zeros_like(basic)
        delta[1:] = basic[1:] - basic[:-1]
        out[:, col : col + nb] = delta
        col += nb
    if feature_set == "connectivity_light":
        for b in COHERENCE_BANDS:
            v = per[f"coh_{b}"]
            out[:, col : col + v.shape[1]] = v
            col += v.shape[1]
    assert col == len(names)
    return out
