"""Interictal epileptiform spikes at the seizure focus (baseline and preictal extra spikes).

A spike is a fixed template (sharp negative component, rebound, after-going slow wave) with a
Gaussian spatial field around one focus electrode; each spike is recorded as a ground-truth event.
"""

from __future__ import annotations

import numpy as np

from preictal.synthetic.head import listed_electrodes, weights_near
from preictal.synthetic.params import PatientProfile

__all__ = ["SPIKE_LENGTH", "add_spikes"]

SPIKE_LENGTH = 0.45  # spike field exp(-(d / L)^2) around the spiking focus electrode


def _spike_template(sfreq: float, width_sec: float) -> tuple[np.ndarray, int]:
    """Surface-negative spike (sharp component), small positive rebound, after-going slow wave.

    Returns the template (peak |value| = 1) and the index of the spike peak.
    """
    pre = 4.0 * width_sec
    post = 4.0 * width_sec + 0.45
    t = np.arange(-round(pre * sfreq), round(post * sfreq) + 1) / sfreq
    s = width_sec
    slow_c, slow_w = 2.5 * s + 0.12, 0.06
    y = (
        -np.exp(-0.5 * (t / s) ** 2)
        + 0.3 * np.exp(-0.5 * ((t - 2.5 * s) / s) ** 2)
        - 0.35 * np.exp(-0.5 * ((t - slow_c) / slow_w) ** 2)
    )
    y /= np.max(np.abs(y))
    return y.astype(np.float32), round(pre * sfreq)


def add_spikes(
    pot: np.ndarray,
    times: np.ndarray,
    rng: np.random.Generator,
    profile: PatientProfile,
    sfreq: float,
    source: str,
    events: list[dict],
) -> None:
    n = pot.shape[1]
    tpl, peak = _spike_template(sfreq, profile.spike_width_ms / 1000.0)
    for t0 in times:
        focus = profile.focus[int(rng.integers(len(profile.focus)))]
        amp = profile.spike_amplitude_uv * float(rng.uniform(0.7, 1.3))
        w = weights_near(focus, SPIKE_LENGTH) * amp
        i_peak = round(t0 * sfreq)
        a, b = i_peak - peak, i_peak - peak + tpl.size
        lo, hi = max(a, 0), min(b, n)
        if hi <= lo:
            continue
        pot[:, lo:hi] += w[:, None].astype(np.float32) * tpl[None, lo - a : hi - a]
        events.append(
            {
                "kind": "spike",
                "start_sec": lo / sfreq,
                "end_sec": hi / sfreq,
                "peak_sec": i_peak / sfreq,
                "electrodes": listed_electrodes(w),
                "amplitude_uv": amp,
                "source": source,
            }
        )
