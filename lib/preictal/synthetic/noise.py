"""Random primitives shared by every model component: coloured noise and event timing.

:func:`unit_noise` draws Gaussian noise of a given spectral shape and unit variance in the
frequency domain; ``bg_psd``/``band_psd`` are the 1/f^beta background shape (with a knee at
``KNEE_HZ``) and its band-limited version, and ``bg_band_fraction`` converts a band power into a
share of the ``REF_BAND_HZ`` power that ``PatientProfile.background_rms_uv`` is defined in.
``span`` maps a time interval to sample indices and ``poisson_times`` draws event times.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft

__all__ = [
    "KNEE_HZ",
    "REF_BAND_HZ",
    "band_psd",
    "bg_band_fraction",
    "bg_psd",
    "poisson_times",
    "span",
    "unit_noise",
]

KNEE_HZ = 0.5  # background PSD ~ (f^2 + knee^2)^(-beta/2)
REF_BAND_HZ = (0.5, 45.0)  # band in which background_rms_uv is defined


def _fft_len(n: int) -> int:
    return scipy.fft.next_fast_len(max(int(n), 2), real=True)


def unit_noise(rng: np.random.Generator, n: int, sfreq: float, psd) -> np.ndarray:
    """Gaussian noise of length n with PSD shape ``psd(f)`` and unit expected variance (float32).

    Drawn in the frequency domain (complex Gaussian times sqrt(psd)), inverse real FFT of a fast
    length >= n, truncated to n.  The DC bin is zero.
    """
    m = _fft_len(n)
    freqs = np.fft.rfftfreq(m, 1.0 / sfreq)
    amp = np.sqrt(np.maximum(psd(freqs), 0.0))
    amp[0] = 0.0
    interior = amp[1:-1] if m % 2 == 0 else amp[1:]
    nyq = amp[-1] if m % 2 == 0 else 0.0
    var = (4.0 * float(np.sum(interior**2)) + float(nyq) ** 2) / float(m) ** 2
    if var <= 0.0:
        rng.standard_normal((2, freqs.size), dtype=np.float32)  # keep the stream aligned
        return np.zeros(n, dtype=np.float32)
    amp = (amp / math.sqrt(var)).astype(np.float32)
    z = rng.standard_normal((2, freqs.size), dtype=np.float32)
    spec = np.empty(freqs.size, dtype=np.complex64)
    spec.real = z[0] * amp
    spec.imag = z[1] * amp
    return scipy.fft.irfft(spec, n=m)[:n].astype(np.float32, copy=False)


def band_psd(lo: float, hi: float, beta: float):
    def psd(f: np.ndarray) -> np.ndarray:
        inside = (f >= lo) & (f <= hi)
        return np.where(inside, (f * f + KNEE_HZ**2) ** (-beta / 2.0), 0.0)

    return psd


def bg_psd(beta: float):
    return lambda f: (f * f + KNEE_HZ**2) ** (-beta / 2.0)


def bg_band_fraction(lo: float, hi: float, beta: float) -> float:
    """Background power in [lo, hi] divided by background power in REF_BAND_HZ."""

    def integral(a: float, b: float) -> float:
        f = np.linspace(a, b, 4001)
        return float(np.trapezoid((f * f + KNEE_HZ**2) ** (-beta / 2.0), f))

    return integral(lo, hi) / integral(*REF_BAND_HZ)


def span(t0: float, t1: float, sfreq: float, n: int) -> tuple[int, int]:
    """Sample indices [i0, i1) of the samples whose time k / sfreq lies in [t0, t1)."""
    i0 = min(max(math.ceil(t0 * sfreq - 1e-9), 0), n)
    i1 = min(max(math.ceil(t1 * sfreq - 1e-9), 0), n)
    return i0, max(i0, i1)


def poisson_times(rng: np.random.Generator, rate_per_h: float, duration: float) -> np.ndarray:
    count = int(rng.poisson(rate_per_h * duration / 3600.0)) if rate_per_h > 0 else 0
    return np.sort(rng.uniform(0.0, duration, count))
