"""Everything timed by seizures: preictal ramp and band power, ictal discharge, postictal slowing.

The public envelopes :func:`preictal_ramp` r(t) and :func:`postictal_envelope` p(t) are the ground
truth of the preictal and postictal terms.  The ``add_*`` functions add their term to the electrode
potentials ``pot`` ([electrodes, samples], float32, in place); each reads only its own generator.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from preictal.synthetic.head import DIST, ELECTRODES, IDX, MIX, N_EL, mix_into
from preictal.synthetic.noise import band_psd, bg_band_fraction, span, unit_noise
from preictal.synthetic.params import (
    SHARED_PREICTAL_BAND_HZ,
    SHARED_PREICTAL_ELECTRODES,
    PatientProfile,
    PreictalEffect,
)

__all__ = [
    "POSTICTAL_SPAN_TAU",
    "add_ictal_discharge",
    "add_postictal_delta",
    "add_preictal_band",
    "check_seizures",
    "postictal_envelope",
    "preictal_ramp",
]

DELTA_BAND_HZ = (0.5, 4.0)  # band of the additive postictal slowing
POSTICTAL_SPAN_TAU = 8.0  # postictal terms are evaluated up to end + 8 tau
ICTAL_LENGTH = 0.8  # ictal field exp(-(d / L)^2) around the primary focus electrode
ICTAL_MIN_WEIGHT = 0.5  # every electrode reaches at least this share after spreading
ICTAL_LAG_JITTER_SEC = 0.03  # per-seizure spatially smooth random lag field (std)
ICTAL_GAIN_JITTER = 0.3  # per-seizure spatially smooth log-amplitude field (std)
ICTAL_RISE_SEC = 2.0  # local onset ramp of the discharge at each electrode
ICTAL_FALL_SEC = 0.5  # taper at the seizure end
ICTAL_LAG_SEC_PER_RADIUS = 0.05  # propagation lag (phase delay) per head radius of distance
ICTAL_HARMONICS = (1.0, 0.55, 0.35, 0.2, 0.12)  # cosine harmonics (zero phase: spike-and-wave)

# ---------------------------------------------------------------------------------------------
# Envelopes (public: ground truth for tests)
# ---------------------------------------------------------------------------------------------


def ramp_shape(x: np.ndarray, ramp: str) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x if ramp == "linear" else x * x * (3.0 - 2.0 * x)


def check_seizures(seizures: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    out = []
    for item in seizures:
        onset, end = (float(v) for v in item)
        if not end > onset:
            raise ValueError(f"seizure end must be after onset, got {(onset, end)}")
        out.append((onset, end))
    return out


def preictal_ramp(
    times_sec: np.ndarray,
    seizures: Sequence[tuple[float, float]],
    effect: PreictalEffect,
    weights: Sequence[float] | None = None,
) -> np.ndarray:
    """r(t) in [0, 1]: max over seizures of the ramp over [onset - duration, onset), times the
    seizure's weight (default 1); 0 elsewhere."""
    t = np.asarray(times_sec, dtype=np.float64)
    r = np.zeros_like(t)
    if t.size == 0:
        return r
    seizures = check_seizures(seizures)
    weights = [1.0] * len(seizures) if weights is None else list(weights)
    if len(weights) != len(seizures):
        raise ValueError("one preictal weight per seizure")
    t_min, t_max = float(t.min()), float(t.max())
    for (onset, _), w in zip(seizures, weights, strict=True):
        if w <= 0 or onset <= t_min or onset - effect.duration_sec > t_max:
            continue  # window [onset - duration, onset) misses every requested time
        inside = (t >= onset - effect.duration_sec) & (t < onset)
        x = (t[inside] - (onset - effect.duration_sec)) / effect.duration_sec
        r[inside] = np.maximum(r[inside], w * ramp_shape(x, effect.ramp))
    return r


def postictal_envelope(
    times_sec: np.ndarray, seizures: Sequence[tuple[float, float]], tau_sec: float
) -> np.ndarray:
    """p(t): 1 during a seizure, exp(-(t - end) / tau) after it (max over seizures), else 0."""
    t = np.asarray(times_sec, dtype=np.float64)
    p = np.zeros_like(t)
    if t.size == 0:
        return p
    t_min, t_max = float(t.min()), float(t.max())
    for onset, end in check_seizures(seizures):
        if end + POSTICTAL_SPAN_TAU * tau_sec <= t_min or onset > t_max:
            continue  # nothing of this seizure reaches the requested times
        ictal = (t >= onset) & (t < end)
        p[ictal] = 1.0
        after = (t >= end) & (t < end + POSTICTAL_SPAN_TAU * tau_sec)
        p[after] = np.maximum(p[after], np.exp(-(t[after] - end) / tau_sec))
    return p


# ---------------------------------------------------------------------------------------------
# Components
# ---------------------------------------------------------------------------------------------


def add_ictal_discharge(
    pot: np.ndarray,
    onset: float,
    end: float,
    rng: np.random.Generator,
    profile: PatientProfile,
    sfreq: float,
) -> None:
    n = pot.shape[1]
    # per-seizure variability (drawn even when the seizure lies outside the file)
    jit = rng.uniform(0.9, 1.1, 3)
    lag_field = MIX @ rng.standard_normal(N_EL)  # unit variance, correlated like background
    gain_field = MIX @ rng.standard_normal(N_EL)
    i0, i1 = span(onset, end, sfreq, n)
    if i1 <= i0:
        return
    f0, f1 = profile.ictal_start_hz * jit[0], profile.ictal_end_hz * jit[1]
    amp = profile.ictal_amplitude_uv * jit[2]
    length = end - onset
    t = np.arange(i0, i1) / sfreq - onset  # time since onset
    prog = np.clip(t / length, 0.0, 1.0)
    ratio = f1 / f0
    finst = f0 * ratio**prog
    if abs(math.log(ratio)) < 1e-9:
        cycles = f0 * t
    else:
        cycles = f0 * length / math.log(ratio) * (ratio**prog - 1.0)
    primary = profile.focus[0]
    d = DIST[IDX[primary]]
    focal = np.isin(np.array(ELECTRODES), profile.focus)
    weight = np.exp(-((d / ICTAL_LENGTH) ** 2))
    weight = np.where(focal, weight, np.maximum(weight, ICTAL_MIN_WEIGHT))
    weight = weight * np.asarray(profile.electrode_gains) * np.exp(ICTAL_GAIN_JITTER * gain_field)
    delay = np.where(focal, 0.0, profile.spread_sec * d / d.max())
    lag = ICTAL_LAG_SEC_PER_RADIUS * d + ICTAL_LAG_JITTER_SEC * lag_field
    rise = min(ICTAL_RISE_SEC, length / 4.0)
    fall = min(ICTAL_FALL_SEC, length / 4.0)
    growth = 0.6 + 0.4 * prog
    taper = np.clip((length - t) / fall, 0.0, 1.0)
    harm = np.asarray(ICTAL_HARMONICS)
    norm = math.sqrt(float(np.sum(harm**2)) / 2.0)  # waveform RMS -> amplitude is an RMS
    for e in range(N_EL):
        local = np.clip((t - delay[e]) / rise, 0.0, 1.0)
        env = amp * weight[e] * growth * taper * local * local * (3.0 - 2.0 * local)
        if not np.any(env):
            continue
        phase = 2.0 * np.pi * (cycles - finst * lag[e])
        wave = np.zeros_like(phase)
        for h, a_h in enumerate(harm, start=1):
            wave += a_h * np.cos(h * phase)
        pot[e, i0:i1] += (env * wave / norm).astype(np.float32)


def add_postictal_delta(
    pot: np.ndarray,
    rng: np.random.Generator,
    profile: PatientProfile,
    seizures: list[tuple[float, float]],
    sfreq: float,
) -> None:
    n = pot.shape[1]
    if profile.postictal_delta_gain <= 0 or not seizures:
        return
    tau = profile.postictal_tau_sec
    spans = [span(end, end + POSTICTAL_SPAN_TAU * tau, sfreq, n) for _, end in seizures]
    spans = [s for s in spans if s[1] > s[0]]
    if not spans:
        return
    i0, i1 = min(s[0] for s in spans), max(s[1] for s in spans)
    t = np.arange(i0, i1) / sfreq
    p = np.zeros(i1 - i0)
    for _, end in seizures:
        if end >= t[-1] or end + POSTICTAL_SPAN_TAU * tau <= t[0]:
            continue
        after = (t >= end) & (t < end + POSTICTAL_SPAN_TAU * tau)
        p[after] = np.maximum(p[after], np.exp(-(t[after] - end) / tau))
    beta = profile.spectral_exponent
    frac = bg_band_fraction(*DELTA_BAND_HZ, beta)
    sigma = profile.background_rms_uv * np.asarray(profile.electrode_gains) * math.sqrt(frac)
    env = np.sqrt(profile.postictal_delta_gain * p).astype(np.float32)
    m = i1 - i0
    sources = [unit_noise(rng, m, sfreq, band_psd(*DELTA_BAND_HZ, beta)) * env for _ in ELECTRODES]
    mix_into(pot[:, i0:i1], sources, sigma)


def add_preictal_band(
    pot: np.ndarray,
    ramp: np.ndarray,
    rng: np.random.Generator,
    profile: PatientProfile,
    effect: PreictalEffect,
    sfreq: float,
) -> None:
    """The patient-specific and the shared band-power terms, both driven by ``ramp``."""
    nz = np.flatnonzero(ramp > 0)
    if nz.size == 0:
        return
    i0, i1 = int(nz[0]), int(nz[-1]) + 1
    beta = profile.spectral_exponent
    groups = (
        (profile.preictal_electrodes, profile.preictal_band_hz, 1.0 - effect.shared_fraction),
        (SHARED_PREICTAL_ELECTRODES, SHARED_PREICTAL_BAND_HZ, effect.shared_fraction),
    )
    r = ramp[i0:i1]
    for electrodes, band, share in groups:
        gain = effect.effect_size * share
        if gain <= 0:
            continue
        for name in electrodes:  # independent noise per electrode (visible in bipolar channels)
            noise = unit_noise(rng, i1 - i0, sfreq, band_psd(*band, beta))
            e = IDX[name]
            sigma = (
                profile.background_rms_uv
                * profile.electrode_gains[e]
                * math.sqrt(bg_band_fraction(*band, beta))
            )
            pot[e, i0:i1] += (sigma * np.sqrt(gain * r)).astype(np.float32) * noise
