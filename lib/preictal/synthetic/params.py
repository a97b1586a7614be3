"""Parameter containers of the synthetic EEG model: patient, preictal effect, artifact rates.

They are the inputs of :func:`preictal.synthetic.signals.synthesize_recording` besides the file
layout; all are frozen dataclasses that validate themselves.  The fixed bands and electrodes of
the preictal effect (shared component, candidate patient bands) live here with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from preictal.synthetic.head import DIST, ELECTRODES, IDX, N_EL, check_electrodes

__all__ = [
    "PATIENT_PREICTAL_BANDS_HZ",
    "SHARED_PREICTAL_BAND_HZ",
    "SHARED_PREICTAL_ELECTRODES",
    "ArtifactRates",
    "PatientProfile",
    "PreictalEffect",
]

#: Component shared by every patient: fixed band and electrodes (midline/central).
SHARED_PREICTAL_BAND_HZ: tuple[float, float] = (14.0, 20.0)
SHARED_PREICTAL_ELECTRODES: tuple[str, ...] = ("FZ", "CZ", "PZ", "C3", "C4")
#: Candidate patient-specific preictal bands (one is drawn, edges jittered by up to +-0.5 Hz);
#: none overlaps the alpha range or the shared band.
PATIENT_PREICTAL_BANDS_HZ: tuple[tuple[float, float], ...] = (
    (3.0, 6.0),
    (4.5, 7.5),
    (21.0, 28.0),
    (25.0, 33.0),
    (30.0, 40.0),
)

#: Patient heterogeneity and confound rates drawn by ``PatientProfile.from_seed``.
WEAK_PATIENT_P = 0.2  # share of patients with a barely visible preictal change ...
WEAK_PREICTAL_GAIN = (0.05, 0.2)  # ... of this size (relative to effect_size)
PREICTAL_GAIN = (0.6, 1.4)  # the other patients
DECOY_PER_H = (0.3, 1.0)  # preictal-like interictal episodes per hour
DROWSY_PER_H = (0.3, 0.8)  # drowsiness episodes per hour


@dataclass(frozen=True)
class PatientProfile:
    """Everything patient-specific; two recordings ("cases") of one patient share it.

    Amplitudes are in microvolts, frequencies in Hz, times in seconds.  ``electrode_gains`` is
    aligned with :data:`ELECTRODES`.  The defaults describe a plausible left-temporal patient.
    """

    alpha_freq_hz: float = 10.0
    focus: tuple[str, ...] = ("T7", "F7")  # first entry = primary onset electrode
    preictal_electrodes: tuple[str, ...] = ("T7", "FT9", "P7")
    preictal_band_hz: tuple[float, float] = (25.0, 33.0)
    background_rms_uv: float = 30.0  # referential RMS in 0.5-45 Hz (before electrode gain)
    spectral_exponent: float = 1.6  # beta of the 1/f^beta background PSD
    electrode_gains: tuple[float, ...] = field(default_factory=lambda: (1.0,) * N_EL)
    alpha_rms_uv: float = 15.0  # alpha RMS at the occipital pole (weight 1)
    ictal_amplitude_uv: float = 80.0  # ictal RMS at the primary focus (at the seizure end)
    ictal_start_hz: float = 8.0  # ictal rhythm frequency at onset ...
    ictal_end_hz: float = 3.0  # ... drifting (geometrically) to this at the seizure end
    spread_sec: float = 10.0  # time for the discharge to reach the farthest electrode
    postictal_tau_sec: float = 180.0  # decay constant of postictal slowing
    postictal_delta_gain: float = 4.0  # relative delta-power increase right after the end
    spike_rate_per_h: float = 20.0  # baseline interictal spike rate (focus)
    spike_amplitude_uv: float = 120.0  # spike peak at the spiking electrode
    spike_width_ms: float = 20.0  # std of the sharp component of a spike
    # Confounds (preictal.synthetic.confounds); the defaults leave them out.
    preictal_gain: float = 1.0  # this patient's preictal change relative to effect_size
    decoy_per_h: float = 0.0  # preictal-like interictal episodes per hour
    drowsy_per_h: float = 0.0  # drowsiness episodes per hour

    def __post_init__(self) -> None:
        check_electrodes(self.focus, "focus")
        check_electrodes(self.preictal_electrodes, "preictal_electrodes")
        lo, hi = self.preictal_band_hz
        if not 0 < lo < hi:
            raise ValueError(f"preictal_band_hz must satisfy 0 < low < high, got {lo, hi}")
        if len(self.electrode_gains) != N_EL:
            raise ValueError(f"electrode_gains needs {N_EL} values (one per ELECTRODES entry)")
        positive = (
            "alpha_freq_hz",
            "background_rms_uv",
            "spectral_exponent",
            "ictal_start_hz",
            "ictal_end_hz",
            "spread_sec",
            "postictal_tau_sec",
            "spike_width_ms",
        )
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0")
        for name in (
            "alpha_rms_uv",
            "ictal_amplitude_uv",
            "postictal_delta_gain",
            "spike_rate_per_h",
            "spike_amplitude_uv",
            "preictal_gain",
            "decoy_per_h",
            "drowsy_per_h",
        ):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0")

    @classmethod
    def from_seed(cls, seed: int) -> PatientProfile:
        """Deterministic draw of a patient (same seed -> same profile)."""
        rng = np.random.default_rng([int(seed), 0x5EED_0F11])

        def nearest(center: str, k: int) -> tuple[str, ...]:
            order = np.argsort(DIST[IDX[center]], kind="stable")
            return tuple(ELECTRODES[i] for i in order[:k])

        primary = ELECTRODES[int(rng.integers(N_EL))]
        focus = nearest(primary, int(rng.integers(2, 4)))
        around_focus = nearest(primary, 5)
        center = around_focus[int(rng.integers(len(around_focus)))]
        preictal = nearest(center, int(rng.integers(2, 5)))
        lo, hi = PATIENT_PREICTAL_BANDS_HZ[int(rng.integers(len(PATIENT_PREICTAL_BANDS_HZ)))]
        lo, hi = lo + rng.uniform(-0.5, 0.5), hi + rng.uniform(-0.5, 0.5)
        gains = np.exp(rng.normal(0.0, 0.1, N_EL))
        return cls(
            alpha_freq_hz=round(float(rng.uniform(8.0, 11.0)), 3),
            focus=focus,
            preictal_electrodes=preictal,
            preictal_band_hz=(round(float(lo), 3), round(float(hi), 3)),
            background_rms_uv=float(rng.uniform(22.0, 38.0)),
            spectral_exponent=float(rng.uniform(1.3, 1.9)),
            electrode_gains=tuple(float(g) for g in gains),
            alpha_rms_uv=float(rng.uniform(8.0, 22.0)),
            ictal_amplitude_uv=float(rng.uniform(50.0, 120.0)),
            ictal_start_hz=float(rng.uniform(6.5, 9.0)),
            ictal_end_hz=float(rng.uniform(2.5, 4.0)),
            spread_sec=float(rng.uniform(5.0, 20.0)),
            postictal_tau_sec=float(rng.uniform(90.0, 300.0)),
            postictal_delta_gain=float(rng.uniform(2.0, 6.0)),
            spike_rate_per_h=float(rng.uniform(5.0, 40.0)),
            spike_amplitude_uv=float(rng.uniform(70.0, 200.0)),
            spike_width_ms=float(rng.uniform(12.0, 30.0)),
            # drawn last, so that the draws above are those of earlier versions
            preictal_gain=float(
                rng.uniform(*WEAK_PREICTAL_GAIN)
                if rng.random() < WEAK_PATIENT_P
                else rng.uniform(*PREICTAL_GAIN)
            ),
            decoy_per_h=float(rng.uniform(*DECOY_PER_H)),
            drowsy_per_h=float(rng.uniform(*DROWSY_PER_H)),
        )


@dataclass(frozen=True)
class PreictalEffect:
    """The preictal change before every onset, driven by a ramp r(t) rising from 0 to 1.

    At r = 1 (onset) the patient-specific band power on ``profile.preictal_electrodes`` is raised
    by ``effect_size * (1 - shared_fraction)`` (relative to the expected background power of the
    referential potential in that band), the shared band power on
    :data:`SHARED_PREICTAL_ELECTRODES` by ``effect_size * shared_fraction``, and the focal spike
    rate is multiplied by ``1 + spike_rate_gain * effect_size * (1 - shared_fraction)``.
    ``effect_size = 0`` adds nothing at all (negative control).
    """

    effect_size: float = 1.0
    duration_sec: float = 900.0
    shared_fraction: float = 0.5
    ramp: str = "linear"  # "linear" or "smooth" (smoothstep 3x^2 - 2x^3)
    spike_rate_gain: float = 4.0

    def __post_init__(self) -> None:
        if not self.effect_size >= 0:
            raise ValueError("effect_size must be >= 0")
        if not self.duration_sec > 0:
            raise ValueError("duration_sec must be > 0")
        if not 0.0 <= self.shared_fraction <= 1.0:
            raise ValueError("shared_fraction must lie in [0, 1]")
        if self.ramp not in ("linear", "smooth"):
            raise ValueError("ramp must be 'linear' or 'smooth'")
        if not self.spike_rate_gain >= 0:
            raise ValueError("spike_rate_gain must be >= 0")


@dataclass(frozen=True)
class ArtifactRates:
    """Artifact events per hour (Poisson); all 0 disables artifacts."""

    blink_per_h: float = 60.0
    muscle_per_h: float = 20.0
    pop_per_h: float = 3.0
    flat_per_h: float = 0.5

    def __post_init__(self) -> None:
        for name in ("blink_per_h", "muscle_per_h", "pop_per_h", "flat_per_h"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0")

    @classmethod
    def none(cls) -> ArtifactRates:
        return cls(0.0, 0.0, 0.0, 0.0)
