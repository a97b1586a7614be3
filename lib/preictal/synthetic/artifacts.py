"""Artifacts and non-EEG channels of the synthetic recordings.

Blinks, muscle bursts and electrode pops are added to the electrode potentials ``pot`` (in place)
and recorded as events; drop-outs (:func:`add_flat`) zero the derived channels afterwards.  The ECG
and VNS channels are separate signals that never reach the EEG electrodes.
"""

from __future__ import annotations

import numpy as np
import scipy.signal

from preictal.synthetic.head import ELECTRODES, IDX, N_EL, POS, listed_electrodes, sph_to_xyz
from preictal.synthetic.noise import poisson_times, span, unit_noise

__all__ = [
    "add_blinks",
    "add_flat",
    "add_muscle",
    "add_pops",
    "ecg_channel",
    "vns_channel",
]

BLINK_EYE_DEG = (105.0, 22.0)  # eye dipoles below FP1/FP2: (polar, +-azimuth) in degrees
BLINK_LENGTH = 0.22  # blink field exp(-d(e, eye) / L), normalised to 1 at FP1/FP2


def add_blinks(
    pot: np.ndarray,
    rng: np.random.Generator,
    rate: float,
    sfreq: float,
    events: list[dict],
) -> None:
    n = pot.shape[1]
    duration = n / sfreq
    theta, phi = BLINK_EYE_DEG
    eyes = [sph_to_xyz(theta, -phi), sph_to_xyz(theta, phi)]
    w = sum(np.exp(-np.linalg.norm(POS - eye, axis=1) / BLINK_LENGTH) for eye in eyes)
    w = w / max(w[IDX["FP1"]], w[IDX["FP2"]])
    for t0 in poisson_times(rng, rate, duration):
        dur = float(rng.uniform(0.3, 0.5))
        amp = float(rng.uniform(100.0, 300.0))
        m = max(round(dur * sfreq), 3)
        x = np.arange(m) / m
        rise = 0.4
        shape = np.where(
            x < rise,
            0.5 - 0.5 * np.cos(np.pi * x / rise),
            0.5 + 0.5 * np.cos(np.pi * (x - rise) / (1 - rise)),
        )
        i0 = round(t0 * sfreq)
        i1 = min(i0 + m, n)
        if i1 <= i0:
            continue
        pot[:, i0:i1] += (w[:, None] * amp * shape[None, : i1 - i0]).astype(np.float32)
        events.append(
            {
                "kind": "blink",
                "start_sec": i0 / sfreq,
                "end_sec": i1 / sfreq,
                "electrodes": listed_electrodes(w),
                "amplitude_uv": amp,
            }
        )


def add_muscle(
    pot: np.ndarray,
    rng: np.random.Generator,
    rate: float,
    sfreq: float,
    events: list[dict],
) -> None:
    n = pot.shape[1]
    duration = n / sfreq
    sides = (("T7", "FT9", "F7", "P7"), ("T8", "FT10", "F8", "P8"))
    hi_hz = min(150.0, 0.45 * sfreq)
    for t0 in poisson_times(rng, rate, duration):
        dur = float(rng.uniform(1.0, 5.0))
        side = sides[int(rng.integers(2))]
        k = int(rng.integers(2, 5))
        chosen = side[:k]
        rms = float(rng.uniform(15.0, 60.0))
        i0 = round(t0 * sfreq)
        m = max(round(dur * sfreq), 8)
        i1 = min(i0 + m, n)
        if i1 <= i0:
            continue
        edge = max(round(0.2 * sfreq), 1)
        x = np.arange(m)
        env = np.minimum(1.0, np.minimum((x + 1) / edge, (m - x) / edge))
        for j, name in enumerate(chosen):
            noise = unit_noise(rng, m, sfreq, lambda f: ((f >= 20.0) & (f <= hi_hz)) * 1.0)
            g = rms * (1.0 if j == 0 else float(rng.uniform(0.5, 1.0)))
            pot[IDX[name], i0:i1] += (g * env * noise)[: i1 - i0].astype(np.float32)
        events.append(
            {
                "kind": "muscle",
                "start_sec": i0 / sfreq,
                "end_sec": i1 / sfreq,
                "electrodes": list(chosen),
                "amplitude_uv": rms,
            }
        )


def add_pops(
    pot: np.ndarray,
    rng: np.random.Generator,
    rate: float,
    sfreq: float,
    events: list[dict],
) -> None:
    n = pot.shape[1]
    duration = n / sfreq
    for t0 in poisson_times(rng, rate, duration):
        name = ELECTRODES[int(rng.integers(N_EL))]
        amp = float(rng.uniform(150.0, 500.0)) * (1.0 if rng.random() < 0.5 else -1.0)
        tau = float(rng.uniform(0.1, 0.6))
        i0 = round(t0 * sfreq)
        i1 = min(i0 + round(5.0 * tau * sfreq), n)
        if i1 <= i0:
            continue
        x = np.arange(i1 - i0) / sfreq
        pot[IDX[name], i0:i1] += (amp * np.exp(-x / tau)).astype(np.float32)
        events.append(
            {
                "kind": "pop",
                "start_sec": i0 / sfreq,
                "end_sec": i1 / sfreq,
                "electrodes": [name],
                "amplitude_uv": amp,
                "tau_sec": tau,
            }
        )


def add_flat(
    data: np.ndarray,
    rng: np.random.Generator,
    rate: float,
    duration_sec: float,
    sfreq: float,
    events: list[dict],
) -> None:
    """Amplifier drop-outs: every channel of ``data`` is exactly 0 for 2-10 s."""
    n = data.shape[1]
    for t0 in poisson_times(rng, rate, duration_sec):
        dur = float(rng.uniform(2.0, 10.0))
        i0, i1 = span(t0, t0 + dur, sfreq, n)
        if i1 <= i0:
            continue
        data[:, i0:i1] = 0.0
        events.append({"kind": "flat", "start_sec": i0 / sfreq, "end_sec": i1 / sfreq})


def ecg_channel(rng: np.random.Generator, n: int, sfreq: float) -> np.ndarray:
    hr = float(rng.uniform(65.0, 95.0))
    duration = n / sfreq
    count = int(duration * hr / 60.0) + 3
    rr = 60.0 / hr * (1.0 + 0.04 * rng.standard_normal(count))
    beats = float(rng.uniform(0.0, 60.0 / hr)) + np.concatenate([[0.0], np.cumsum(rr[:-1])])
    beats = beats[beats < duration]
    waves = ((-0.2, 0.025, 0.15), (-0.03, 0.008, -0.1), (0.0, 0.01, 1.0), (0.03, 0.01, -0.25))
    waves += ((0.25, 0.05, 0.3),)
    half = round(0.4 * sfreq)
    tt = np.arange(-half, half + 1) / sfreq
    tpl = sum(a * np.exp(-0.5 * ((tt - c) / s) ** 2) for c, s, a in waves)
    impulses = np.zeros(n + 2 * half)
    np.add.at(impulses, np.round(beats * sfreq).astype(np.int64) + half, 1.0)
    sig = scipy.signal.oaconvolve(impulses, tpl, mode="same")[half : half + n]
    amp = float(rng.uniform(800.0, 1200.0))
    noise = rng.standard_normal(n, dtype=np.float32) * np.float32(10.0)
    return (amp * sig).astype(np.float32) + noise


def vns_channel(rng: np.random.Generator, n: int, sfreq: float) -> np.ndarray:
    out = np.zeros(n, dtype=np.float32)
    period, on = 330.0, 30.0  # 5 min off, 30 s on
    start = -float(rng.uniform(0.0, period))
    duration = n / sfreq
    while start < duration:
        pulses = start + np.arange(0.0, on, 1.0 / 30.0)
        idx = np.round(pulses * sfreq).astype(np.int64)
        idx = idx[(idx >= 0) & (idx < n - 1)]
        out[idx] = 500.0
        out[idx + 1] = -500.0
        start += period
    return out
