"""Ongoing activity of the synthetic EEG: spatially correlated 1/f^beta background and alpha.

Both are added to the electrode potentials ``pot`` ([electrodes, samples], float32, in place) and
never depend on seizures, except that the caller may pass a postictal ``suppression`` of alpha.
"""

from __future__ import annotations

import math

import numpy as np

from preictal.synthetic.head import N_EL, POS, mix_into, sph_to_xyz
from preictal.synthetic.noise import KNEE_HZ, REF_BAND_HZ, bg_psd, unit_noise
from preictal.synthetic.params import PatientProfile

__all__ = ["ALPHA_POSTICTAL_SUPPRESSION", "add_alpha", "add_background"]

ALPHA_WIDTH_HZ = 0.4  # std of the Gaussian alpha spectral peak
ALPHA_LENGTH = 0.75  # alpha spatial weight exp(-(d(e, OZ) / L)^2)
ALPHA_ENVELOPE_HZ = 0.03  # bandwidth of the slow log-normal alpha envelope
ALPHA_ENVELOPE_SD = 0.5  # std of the log envelope
ALPHA_POSTICTAL_SUPPRESSION = 0.9  # alpha amplitude x (1 - 0.9 p(t)), p = postictal envelope


def add_background(
    pot: np.ndarray, rng: np.random.Generator, profile: PatientProfile, sfreq: float
) -> None:
    n = pot.shape[1]
    beta = profile.spectral_exponent
    # unit variance over all frequencies -> rescale so the REF_BAND power is background_rms_uv^2
    f = np.linspace(1e-3, sfreq / 2.0, 200001)
    psd = (f * f + KNEE_HZ**2) ** (-beta / 2.0)
    inside = (f >= REF_BAND_HZ[0]) & (f <= REF_BAND_HZ[1])
    ref = float(np.trapezoid(psd * inside, f) / np.trapezoid(psd, f))
    scale = profile.background_rms_uv * np.asarray(profile.electrode_gains) / math.sqrt(ref)
    sources = (unit_noise(rng, n, sfreq, bg_psd(beta)) for _ in range(N_EL))
    mix_into(pot, list(sources), scale)


def add_alpha(
    pot: np.ndarray,
    rng: np.random.Generator,
    profile: PatientProfile,
    sfreq: float,
    suppression: np.ndarray | None,
) -> None:
    n = pot.shape[1]
    fa = profile.alpha_freq_hz
    carrier = unit_noise(rng, n, sfreq, lambda f: np.exp(-0.5 * ((f - fa) / ALPHA_WIDTH_HZ) ** 2))
    slow = unit_noise(rng, n, sfreq, lambda f: np.exp(-0.5 * (f / ALPHA_ENVELOPE_HZ) ** 2))
    s = ALPHA_ENVELOPE_SD
    alpha = carrier * np.exp(np.float32(s) * slow - np.float32(s * s))  # E[env^2] = 1
    if suppression is not None:
        alpha *= suppression
    oz = sph_to_xyz(72.0, 180.0)
    w = np.exp(-((np.linalg.norm(POS - oz, axis=1) / ALPHA_LENGTH) ** 2))
    w = w / w.max() * profile.alpha_rms_uv * np.asarray(profile.electrode_gains)
    for e in range(N_EL):
        if w[e] > 1e-3:
            pot[e] += np.float32(w[e]) * alpha
