"""Preprocessing filters for EEG arrays ``[channels, samples]``: zero-phase band-pass plus mains
notch, and polyphase resampling.

Design
------
The filter is specified as an IIR cascade of second-order sections (:func:`design_sos`):

* a Butterworth high-pass at ``l_freq`` and a Butterworth low-pass at ``h_freq``, each of
  ``order`` (default 4, MNE's IIR default), designed separately so that either can be left out;
* an :func:`scipy.signal.iirnotch` of quality ``notch_q`` at ``notch_hz`` and, with
  ``notch_harmonics``, at every multiple of it below Nyquist (60 and 120 Hz at 256 Hz).

It is applied with zero phase, so the magnitude applied is ``|H(f)|**2``
(:func:`design_response`): what ``scipy.signal.sosfiltfilt(design_sos(...), x)`` applies in its
steady state.  Cut-offs are therefore at -6 dB (-3 dB per pass), as for MNE's ``method="iir"``; the
notch's -6 dB width is ``f / notch_q`` (2 Hz at 60 Hz).

Implementation
--------------
``sosfiltfilt`` runs channel by channel through 2 x (sections) recursive passes (0.6 s for one
hour of 18 channels).  Here the same zero-phase response is applied in the frequency domain:
the zero-phase impulse response (the autocorrelation of the cascade's impulse response, whose
spectrum is exactly ``|H|**2``) is truncated where the discarded tails sum, in absolute value, to
less than ``1e-7`` (so the applied response is within 1e-7 of ``|H|**2`` at every frequency:
about 13 s each side for a 0.5 Hz high-pass at 256 Hz) and convolved by overlap-save with
``scipy.fft`` in float32 blocks of a power-of-two length about 4 x the kernel.  The kernel is
symmetric and circularly centred in the block, so its spectrum is real and the result has exactly
zero phase.  One hour of 18 channels takes about 0.07 s on one core (benchmarks/bench_filters.py).

* Edges: each channel is extended by even reflection (``numpy.pad(mode="reflect")``) by the
  kernel's half-length, as MNE pads FIR filters.  Only the first and last ~10 s differ from
  ``sosfiltfilt`` (which pads by odd extension and starts its recursions from steady state) by
  more than 1e-5 of the RMS; compared with filtering a longer recording, these edge errors are
  about half of sosfiltfilt's.
* Precision: a constant level (the mean of a sparse subsample) is subtracted before the float32
  FFTs and added back times the filter's DC gain, so large DC offsets cost no precision.  The
  result agrees with float64 ``sosfiltfilt`` to a few 1e-6 of the signal's RMS away from the edges
  (float64 input: a few 1e-7, the kernel truncation).
* Artifacts: the filter is a finite, fixed convolution, so large steps or flat segments cannot
  make it unstable; an output sample is bounded by ``sum(|kernel|)`` (2.7 for the defaults at
  256 Hz) times the largest input in its kernel span, and a change of the input reaches no
  further than the kernel's half-length (13.3 s) around it.
* Non-finite samples (NaN, +-inf): per channel they are bridged by linear interpolation between
  the neighbouring finite samples (constant beyond the first/last one) before filtering, so they
  neither spread nor ring; with ``keep_nan=True`` (default) the output is NaN at exactly those
  samples, and a warning is logged with the count.  A channel with no finite sample is all NaN
  (or 0 with ``keep_nan=False``).
* Deterministic: the same input gives bit-identical output, whatever the number of channels or
  ``workers`` (channels are filtered independently).
"""

from __future__ import annotations

import logging
import math
from fractions import Fraction
from functools import lru_cache

import numpy as np
import scipy.fft
import scipy.signal
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "KERNEL_TAIL_TOL",
    "bandpass_notch",
    "design_response",
    "design_sos",
    "notch_frequencies",
    "resample",
    "zero_phase_kernel",
]

log = logging.getLogger(__name__)

KERNEL_TAIL_TOL = 1e-7  # sum of |discarded kernel taps|: bound on |applied - designed| response
_MIN_BLOCK = 1024
_BATCH_SAMPLES = 1 << 18  # samples per FFT call: a batch of blocks stays in cache


# ---------------------------------------------------------------------------------------------
# Design
# ---------------------------------------------------------------------------------------------


def notch_frequencies(
    sfreq: float, notch_hz: float | None, notch_harmonics: bool = True
) -> tuple[float, ...]:
    """The notch centres: ``notch_hz`` and, with ``notch_harmonics``, its multiples below Nyquist."""
    if notch_hz is None:
        return ()
    nyq = sfreq / 2.0
    if not 0 < notch_hz < nyq:
        raise ValueError(f"notch_hz={notch_hz} must lie in (0, Nyquist={nyq:g}) Hz")
    if not notch_harmonics:
        return (float(notch_hz),)
    return tuple(
        float(k * notch_hz) for k in range(1, math.ceil(nyq / notch_hz)) if k * notch_hz < nyq
    )


@lru_cache(maxsize=32)
def _design(
    sfreq: float,
    l_freq: float | None,
    h_freq: float | None,
    notch_hz: float | None,
    notch_harmonics: bool,
    order: int,
    notch_q: float,
) -> np.ndarray:
    if not sfreq > 0:
        raise ValueError(f"sfreq={sfreq} must be > 0")
    nyq = sfreq / 2.0
    if int(order) != order or order < 1:
        raise ValueError(f"order={order} must be a positive integer")
    if not notch_q > 0:
        raise ValueError(f"notch_q={notch_q} must be > 0")
    for name, f in (("l_freq", l_freq), ("h_freq", h_freq)):
        if f is not None and not 0 < f < nyq:
            raise ValueError(f"{name}={f} must lie in (0, Nyquist={nyq:g}) Hz")
    if l_freq is not None and h_freq is not None and not l_freq < h_freq:
        raise ValueError(f"l_freq={l_freq} must be below h_freq={h_freq}")
    sections = []
    if l_freq is not None:
        sections.append(scipy.signal.butter(order, l_freq, "highpass", fs=sfreq, output="sos"))
    if h_freq is not None:
        sections.append(scipy.signal.butter(order, h_freq, "lowpass", fs=sfreq, output="sos"))
    for f0 in notch_frequencies(sfreq, notch_hz, notch_harmonics):
        b, a = scipy.signal.iirnotch(f0, notch_q, fs=sfreq)
        sections.append(scipy.signal.tf2sos(b, a))
    if not sections:
        sections.append(np.array([[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]]))
    sos = np.concatenate(sections, axis=0)
    sos.setflags(write=False)
    return sos


def _key(sfreq, l_freq, h_freq, notch_hz, notch_harmonics, order, notch_q) -> tuple:
    def opt(v):
        return None if v is None else float(v)

    return (
        float(sfreq),
        opt(l_freq),
        opt(h_freq),
        opt(notch_hz),
        bool(notch_harmonics),
        int(order),
        float(notch_q),
    )


def design_sos(
    sfreq: float,
    *,
    l_freq: float | None = 0.5,
    h_freq: float | None = 45.0,
    notch_hz: float | None = 60.0,
    notch_harmonics: bool = True,
    order: int = 4,
    notch_q: float = 30.0,
) -> np.ndarray:
    """Second-order sections ``[n_sections, 6]`` of one (causal) pass of the filter that
    :func:`bandpass_notch` applies forward and backward.  ``None`` leaves a part out."""
    return _design(*_key(sfreq, l_freq, h_freq, notch_hz, notch_harmonics, order, notch_q)).copy()


def design_response(
    freqs,
    sfreq: float,
    *,
    l_freq: float | None = 0.5,
    h_freq: float | None = 45.0,
    notch_hz: float | None = 60.0,
    notch_harmonics: bool = True,
    order: int = 4,
    notch_q: float = 30.0,
) -> np.ndarray:
    """The zero-phase magnitude ``|H(f)|**2`` that :func:`bandpass_notch` is meant to apply, at
    ``freqs`` (Hz, array-like).  Real and non-negative; 0.5 (-6 dB) at ``l_freq`` and ``h_freq``."""
    sos = _design(*_key(sfreq, l_freq, h_freq, notch_hz, notch_harmonics, order, notch_q))
    freqs = np.asarray(freqs, dtype=np.float64)
    _, h = scipy.signal.freqz_sos(sos, worN=freqs.ravel(), fs=sfreq)
    return (np.abs(h) ** 2).reshape(freqs.shape)


@lru_cache(maxsize=32)
def _kernel(key: tuple) -> np.ndarray:
    """One side ``k[0..L]`` of the truncated zero-phase kernel (k[-m] = k[m])."""
    sos = _design(*key).copy()  # scipy's sosfilt wants a writable array
    n = 4096
    while True:
        impulse = np.zeros(n)
        impulse[0] = 1.0
        h = scipy.signal.sosfilt(sos, impulse)
        if np.abs(h[n // 2 :]).sum() < 1e-12:
            break
        n *= 2
        if n > 1 << 26:
            raise ValueError(
                f"filter {key} rings for more than {n >> 1} samples; is a cut-off too low?"
            )
    spec = scipy.fft.rfft(h, 2 * n)
    k = scipy.fft.irfft(spec.real**2 + spec.imag**2, 2 * n)[:n]  # autocorrelation: |H|^2
    tail = np.cumsum(np.abs(k[::-1]))[::-1]  # tail[m] = sum_{j >= m} |k[j]|
    # Keep k[0..L] with both discarded tails (j > L) summing to <= KERNEL_TAIL_TOL.
    over = np.flatnonzero(2.0 * tail > KERNEL_TAIL_TOL)
    half = int(over[-1]) if over.size else 0
    out = k[: half + 1].copy()
    out.setflags(write=False)
    return out


def zero_phase_kernel(
    sfreq: float,
    *,
    l_freq: float | None = 0.5,
    h_freq: float | None = 45.0,
    notch_hz: float | None = 60.0,
    notch_harmonics: bool = True,
    order: int = 4,
    notch_q: float = 30.0,
) -> np.ndarray:
    """The symmetric FIR kernel (length ``2 L + 1``, centre at index ``L``) that
    :func:`bandpass_notch` convolves with: the zero-phase impulse response of the design,
    truncated so that its spectrum is within :data:`KERNEL_TAIL_TOL` of :func:`design_response`."""
    k = _kernel(_key(sfreq, l_freq, h_freq, notch_hz, notch_harmonics, order, notch_q))
    return np.concatenate([k[:0:-1], k])


def filter_lookahead_sec(
    sfreq: float,
    *,
    l_freq: float | None = 0.5,
    h_freq: float | None = 45.0,
    notch_hz: float | None = 60.0,
    notch_harmonics: bool = True,
) -> float:
    """How far (s) a filtered sample depends on the raw signal after it: the zero-phase kernel's
    half-length (13.3 s for the defaults at 256 Hz). A window's inputs therefore reach this far
    past its end, so the prediction horizon (``labels.gap_sec``) must be at least this long, and
    an online implementation would deliver each window's risk this much later."""
    half = (
        len(
            zero_phase_kernel(
                sfreq,
                l_freq=l_freq,
                h_freq=h_freq,
                notch_hz=notch_hz,
                notch_harmonics=notch_harmonics,
            )
        )
        // 2
    )
    return half / float(sfreq)


def _block_len(half: int, n_samples: int) -> int:
    """FFT block: a power of two >= 4x the kernel (overlap-save waste <= 25 %), no longer than one
    block for the whole (padded) signal needs."""
    taps = 2 * half + 1
    big = max(_MIN_BLOCK, 1 << math.ceil(math.log2(4 * taps)))
    one = max(_MIN_BLOCK, 1 << math.ceil(math.log2(n_samples + 2 * half)))
    return min(big, one)


@lru_cache(maxsize=32)
def _block_response(key: tuple, block: int, dtype_char: str) -> np.ndarray:
    """Real spectrum of the kernel circularly centred in a block of ``block`` samples, each value
    twice (for the real and imaginary parts of a complex bin)."""
    k = _kernel(key)
    half = k.size - 1
    circ = np.zeros(block)
    circ[: half + 1] = k
    if half:
        circ[-half:] = k[:0:-1]
    out = np.repeat(scipy.fft.rfft(circ).real, 2).astype(dtype_char)  # (re, im) pairs
    out.setflags(write=False)
    return out


# ---------------------------------------------------------------------------------------------
# Filtering
# ---------------------------------------------------------------------------------------------


def _fill(buf: np.ndarray, row: np.ndarray, level: float, half: int) -> None:
    """buf[:2L+T] = reflect-pad(row - level, L); the rest of buf is left as it is."""
    n = row.size
    if n > half:
        np.subtract(row, level, out=buf[half : half + n])
        if half:
            buf[:half] = buf[2 * half : half : -1]
            buf[half + n : 2 * half + n] = buf[half + n - 2 : n - 2 : -1]  # n >= 2 here
    else:  # shorter than the kernel: reflect repeatedly
        buf[: 2 * half + n] = np.pad(row - level, half, mode="reflect" if n > 1 else "edge")


def _convolve(
    buf: np.ndarray,
    out_row: np.ndarray,
    h_block: np.ndarray,
    half: int,
    block: int,
    add: float,
    workers: int,
) -> bool:
    """Overlap-save: out_row[i] = sum_j k[j] buf[L + i - j] + add.  False if a block held a
    non-finite sample (the caller then takes the interpolating path)."""
    n = out_row.size
    step = block - 2 * half
    blocks = sliding_window_view(buf, block)[::step]
    per_call = max(1, _BATCH_SAMPLES // block)
    nbins = block // 2 + 1
    for b0 in range(0, blocks.shape[0], per_call):
        chunk = blocks[b0 : b0 + per_call]
        spec = scipy.fft.rfft(chunk, axis=-1, workers=workers)
        if not np.isfinite(spec[:, 0]).all():  # bin 0 is the block's sum
            return False
        # the response is real: scale the (re, im) pairs, half the work of a complex product
        spec.view(h_block.dtype).reshape(chunk.shape[0], 2 * nbins)[...] *= h_block
        y = scipy.fft.irfft(spec, n=block, axis=-1, workers=workers, overwrite_x=True)
        valid = y[:, half : half + step]
        s0 = b0 * step
        s1 = min(n, s0 + valid.size)
        if s1 - s0 == valid.size:
            np.add(valid, add, out=out_row[s0:s1].reshape(valid.shape))
        else:
            out_row[s0:s1] = valid.reshape(-1)[: s1 - s0] + add
    return True


def _level(row: np.ndarray) -> float:
    """A constant near the signal's level (mean of <= ~4096 evenly spaced samples)."""
    stride = max(1, row.size // 4096)
    return float(np.mean(row[::stride], dtype=np.float64)) if row.size else 0.0


def bandpass_notch(
    x: np.ndarray,
    sfreq: float,
    *,
    l_freq: float | None = 0.5,
    h_freq: float | None = 45.0,
    notch_hz: float | None = 60.0,
    notch_harmonics: bool = True,
    order: int = 4,
    notch_q: float = 30.0,
    keep_nan: bool = True,
    workers: int = 1,
) -> np.ndarray:
    """Zero-phase band-pass ``[l_freq, h_freq]`` plus notch at ``notch_hz`` (and harmonics).

    Parameters
    ----------
    x:
        ``[channels, samples]`` or ``[samples]``; float32 (computed in float32) or float64
        (computed in float64).  Other dtypes are converted to float32.  Not modified.
    sfreq:
        Sampling rate in Hz.
    l_freq, h_freq, notch_hz, notch_harmonics, order, notch_q:
        The design (see the module docstring and :func:`design_sos`); ``None`` leaves a part out.
    keep_nan:
        Non-finite input samples are bridged by linear interpolation for filtering; with
        ``keep_nan`` they are NaN in the output, otherwise they hold the filtered bridge.
    workers:
        Threads for ``scipy.fft`` (1: single core).

    Returns
    -------
    Array of the same shape, float32 (float64 for float64 input): the response applied is
    :func:`design_response` (within :data:`KERNEL_TAIL_TOL`) with zero phase.
    """
    x = np.asarray(x)
    dtype = np.dtype(np.float64) if x.dtype == np.float64 else np.dtype(np.float32)
    if x.ndim not in (1, 2):
        raise ValueError(f"x must be [channels, samples] or [samples], not shape {x.shape}")
    x2 = x.reshape(1, -1) if x.ndim == 1 else x
    n_ch, n = x2.shape
    out = np.empty((n_ch, n), dtype=dtype)
    key = _key(sfreq, l_freq, h_freq, notch_hz, notch_harmonics, order, notch_q)
    k = _kernel(key)
    if n == 0 or n_ch == 0:
        return out.reshape(x.shape)
    half = k.size - 1
    block = _block_len(half, n)
    h_block = _block_response(key, block, dtype.char)
    dc_gain = float(k[0] + 2.0 * k[1:].sum())
    step = block - 2 * half
    buf = np.zeros(-(-n // step) * step + 2 * half, dtype=dtype)
    bad_counts: dict[int, int] = {}
    for c in range(n_ch):
        row = x2[c]
        level = _level(row)
        if math.isfinite(level):
            _fill(buf, row, level, half)
            if _convolve(buf, out[c], h_block, half, block, level * dc_gain, workers):
                continue
        bad = ~np.isfinite(row)
        good = np.flatnonzero(~bad)
        bad_counts[c] = int(bad.sum())
        if good.size == 0:
            out[c] = np.nan if keep_nan else 0.0
            continue
        fixed = row.astype(dtype, copy=True)
        fixed[bad] = np.interp(np.flatnonzero(bad), good, fixed[good].astype(np.float64))
        level = _level(fixed)
        _fill(buf, fixed, level, half)
        if not _convolve(buf, out[c], h_block, half, block, level * dc_gain, workers):
            raise FloatingPointError(f"channel {c}: non-finite values after filtering (overflow?)")
        if keep_nan:
            out[c, bad] = np.nan
    if bad_counts:
        total = sum(bad_counts.values())
        log.warning(
            "bandpass_notch: %d non-finite samples in %d of %d channels (%s) bridged by linear "
            "interpolation for filtering; %s",
            total,
            len(bad_counts),
            n_ch,
            ", ".join(f"ch{c}: {v}" for c, v in bad_counts.items()),
            "set to NaN in the output" if keep_nan else "kept as filtered values",
        )
    return out.reshape(x.shape)


# ---------------------------------------------------------------------------------------------
# Resampling
# ---------------------------------------------------------------------------------------------


def resample(
    x: np.ndarray,
    sfreq_in: float,
    sfreq_out: float,
    *,
    axis: int = -1,
    window=("kaiser", 5.0),
    padtype: str = "constant",
    max_denominator: int = 1000,
) -> np.ndarray:
    """Polyphase resampling with :func:`scipy.signal.resample_poly`.

    The rate ratio ``sfreq_out / sfreq_in`` must be a fraction ``up / down`` with
    ``down <= max_denominator`` (256 -> 128: 1/2; 256 -> 100: 25/64).  resample_poly upsamples by
    ``up``, applies a linear-phase (zero delay) FIR low-pass at ``min(1/up, 1/down)`` of the
    intermediate Nyquist (``window``, Kaiser beta 5 by default, half-length 10 x max(up, down))
    and keeps every ``down``-th sample; the output has ``ceil(n * up / down)`` samples and the
    first output sample is at the time of the first input sample.  ``padtype`` is how the signal
    is extended beyond its ends (scipy's default: zeros).  A NaN spreads over the FIR's span.
    Float32 input gives float32 output.  Equal rates return ``x`` itself.
    """
    if not (sfreq_in > 0 and sfreq_out > 0):
        raise ValueError(f"sampling rates must be > 0, not {sfreq_in} -> {sfreq_out}")
    x = np.asarray(x)
    if sfreq_in == sfreq_out:
        return x
    ratio = Fraction(float(sfreq_out)) / Fraction(float(sfreq_in))
    frac = ratio.limit_denominator(max_denominator)
    if abs(float(frac) - float(ratio)) > 1e-9 * float(ratio):
        raise ValueError(
            f"{sfreq_in} -> {sfreq_out} Hz is no ratio up/down with down <= {max_denominator}"
        )
    y = scipy.signal.resample_poly(
        x, frac.numerator, frac.denominator, axis=axis, window=window, padtype=padtype
    )
    if x.dtype in (np.float32, np.float64):
        y = y.astype(x.dtype, copy=False)
    return y
