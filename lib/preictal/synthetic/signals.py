"""Generative signal model of the synthetic CHB-MIT-like dataset (pure numerics, no file I/O).

One call of :func:`synthesize_recording` produces the EEG of one file: a spatially correlated
1/f^beta background with a posterior alpha rhythm, interictal spikes at the seizure focus,
artifacts (blinks, muscle bursts, electrode pops, amplifier drop-outs), evolving ictal
discharges with postictal slowing, and a preictal change of known size and duration before
every seizure onset.  Everything is in microvolts.  All parameters are documented in
``docs/SYNTHETIC_SIGNALS.md``.

Randomness: the caller's generator is read exactly once (four integers) to seed one independent
child stream per model component (see ``_STREAMS``).  The background, alpha, baseline spikes and
artifacts therefore never depend on where the seizures are or on the preictal effect; seizures
only *add* the ictal discharge and postictal terms, and the preictal effect only *adds* terms
scaled by ``effect_size`` (nothing at all when it is 0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.fft
import scipy.signal

__all__ = [
    "ELECTRODES",
    "ELECTRODE_POSITIONS_2D",
    "ELECTRODE_POSITIONS_3D",
    "PATIENT_PREICTAL_BANDS_HZ",
    "REFERENCE_NAMES",
    "SHARED_PREICTAL_BAND_HZ",
    "SHARED_PREICTAL_ELECTRODES",
    "ArtifactRates",
    "Derivation",
    "PatientProfile",
    "PreictalEffect",
    "parse_label",
    "postictal_envelope",
    "preictal_ramp",
    "synthesize_recording",
]

# ---------------------------------------------------------------------------------------------
# Electrodes and geometry
# ---------------------------------------------------------------------------------------------

ELECTRODES: tuple[str, ...] = (
    "FP1", "FP2", "F3", "F4", "F7", "F8", "FZ", "C3", "C4", "CZ", "P3",
    "P4", "P7", "P8", "PZ", "O1", "O2", "T7", "T8", "FT9", "FT10",
)  # fmt: skip

# Idealised 10-20 positions on the unit sphere: (polar angle from the vertex, azimuth from the
# nasion direction, positive towards the right ear), both in degrees.  F3/F4/P3/P4 are the
# normalised midpoints of FZ-F7, FZ-F8, PZ-P7, PZ-P8 (their 10-20 definition).
_SPHERICAL_DEG: dict[str, tuple[float, float]] = {
    "FP1": (72.0, -18.0), "FP2": (72.0, 18.0),
    "F7": (72.0, -54.0), "F8": (72.0, 54.0),
    "T7": (72.0, -90.0), "T8": (72.0, 90.0),
    "P7": (72.0, -126.0), "P8": (72.0, 126.0),
    "O1": (72.0, -162.0), "O2": (72.0, 162.0),
    "FZ": (36.0, 0.0), "CZ": (0.0, 0.0), "PZ": (36.0, 180.0),
    "C3": (36.0, -90.0), "C4": (36.0, 90.0),
    "FT9": (108.0, -72.0), "FT10": (108.0, 72.0),
}  # fmt: skip
_MIDPOINTS = {"F3": ("FZ", "F7"), "F4": ("FZ", "F8"), "P3": ("PZ", "P7"), "P4": ("PZ", "P8")}


def _sph_to_xyz(theta_deg: float, phi_deg: float) -> np.ndarray:
    th, ph = math.radians(theta_deg), math.radians(phi_deg)
    return np.array([math.sin(th) * math.sin(ph), math.sin(th) * math.cos(ph), math.cos(th)])


def _build_positions() -> np.ndarray:
    xyz = {name: _sph_to_xyz(*ang) for name, ang in _SPHERICAL_DEG.items()}
    for name, (a, b) in _MIDPOINTS.items():
        mid = xyz[a] + xyz[b]
        xyz[name] = mid / np.linalg.norm(mid)
    return np.array([xyz[name] for name in ELECTRODES])


_POS = _build_positions()  # [n_electrodes, 3], x = right, y = anterior (nasion), z = up
_IDX = {name: i for i, name in enumerate(ELECTRODES)}
_DIST = np.linalg.norm(_POS[:, None, :] - _POS[None, :, :], axis=-1)  # chord, head radii
_N_EL = len(ELECTRODES)

#: 3-D positions on the unit sphere (unit = head radius); x right, y anterior, z up.
ELECTRODE_POSITIONS_3D: dict[str, tuple[float, float, float]] = {
    name: (float(p[0]), float(p[1]), float(p[2])) for name, p in zip(ELECTRODES, _POS, strict=True)
}


def _project_2d(p: np.ndarray) -> tuple[float, float]:
    # azimuthal equidistant projection from the vertex; radius 1 = 90 degrees from CZ
    r = math.acos(max(-1.0, min(1.0, float(p[2])))) / (math.pi / 2)
    az = math.atan2(float(p[0]), float(p[1]))
    return (r * math.sin(az), r * math.cos(az))


#: 2-D topographic positions (x right, y anterior; the 72-degree ring FP1...O1 lies at r = 0.8).
ELECTRODE_POSITIONS_2D: dict[str, tuple[float, float]] = {
    name: _project_2d(p) for name, p in zip(ELECTRODES, _POS, strict=True)
}

# ---------------------------------------------------------------------------------------------
# Fixed model constants (documented in docs/SYNTHETIC_SIGNALS.md)
# ---------------------------------------------------------------------------------------------

SPATIAL_LENGTH = 1.0  # background correlation length (head radii), kernel exp(-d / L)
KNEE_HZ = 0.5  # background PSD ~ (f^2 + knee^2)^(-beta/2)
REF_BAND_HZ = (0.5, 45.0)  # band in which background_rms_uv is defined
ALPHA_WIDTH_HZ = 0.4  # std of the Gaussian alpha spectral peak
ALPHA_LENGTH = 0.75  # alpha spatial weight exp(-(d(e, OZ) / L)^2)
ALPHA_ENVELOPE_HZ = 0.03  # bandwidth of the slow log-normal alpha envelope
ALPHA_ENVELOPE_SD = 0.5  # std of the log envelope
ALPHA_POSTICTAL_SUPPRESSION = 0.9  # alpha amplitude x (1 - 0.9 p(t)), p = postictal envelope
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
SPIKE_LENGTH = 0.45  # spike field exp(-(d / L)^2) around the spiking focus electrode
BLINK_EYE_DEG = (105.0, 22.0)  # eye dipoles below FP1/FP2: (polar, +-azimuth) in degrees
BLINK_LENGTH = 0.22  # blink field exp(-d(e, eye) / L), normalised to 1 at FP1/FP2
EVENT_WEIGHT_MIN = 0.1  # electrodes listed in an event carry at least this share of its peak

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
#: Second half of a referential label that denotes the common reference ("FP1-REF", "FP1-CS2").
REFERENCE_NAMES: tuple[str, ...] = ("REF", "CS2")
_ALIASES = {"T3": "T7", "T4": "T8", "T5": "P7", "T6": "P8"}

# One independent child stream per component; append new names only at the end.
_STREAMS = (
    "background",
    "alpha",
    "spikes",
    "preictal_spikes",
    "preictal_band",
    "seizure",
    "postictal",
    "blink",
    "muscle",
    "pop",
    "flat",
    "ecg",
    "vns",
)

# ---------------------------------------------------------------------------------------------
# Parameter containers
# ---------------------------------------------------------------------------------------------


def _check_electrodes(names: Sequence[str], what: str) -> None:
    if len(names) == 0:
        raise ValueError(f"{what} must name at least one electrode")
    for name in names:
        if name not in _IDX:
            raise ValueError(f"{what}: unknown electrode {name!r} (use uppercase 10-20 names)")


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
    electrode_gains: tuple[float, ...] = field(default_factory=lambda: (1.0,) * _N_EL)
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

    def __post_init__(self) -> None:
        _check_electrodes(self.focus, "focus")
        _check_electrodes(self.preictal_electrodes, "preictal_electrodes")
        lo, hi = self.preictal_band_hz
        if not 0 < lo < hi:
            raise ValueError(f"preictal_band_hz must satisfy 0 < low < high, got {lo, hi}")
        if len(self.electrode_gains) != _N_EL:
            raise ValueError(f"electrode_gains needs {_N_EL} values (one per ELECTRODES entry)")
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
        ):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0")

    @classmethod
    def from_seed(cls, seed: int) -> PatientProfile:
        """Deterministic draw of a patient (same seed -> same profile)."""
        rng = np.random.default_rng([int(seed), 0x5EED_0F11])

        def nearest(center: str, k: int) -> tuple[str, ...]:
            order = np.argsort(_DIST[_IDX[center]], kind="stable")
            return tuple(ELECTRODES[i] for i in order[:k])

        primary = ELECTRODES[int(rng.integers(_N_EL))]
        focus = nearest(primary, int(rng.integers(2, 4)))
        around_focus = nearest(primary, 5)
        center = around_focus[int(rng.integers(len(around_focus)))]
        preictal = nearest(center, int(rng.integers(2, 5)))
        lo, hi = PATIENT_PREICTAL_BANDS_HZ[int(rng.integers(len(PATIENT_PREICTAL_BANDS_HZ)))]
        lo, hi = lo + rng.uniform(-0.5, 0.5), hi + rng.uniform(-0.5, 0.5)
        gains = np.exp(rng.normal(0.0, 0.1, _N_EL))
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


# ---------------------------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Derivation:
    """How one channel label is derived: kind in bipolar/referential/dummy/ecg/vns."""

    kind: str
    plus: str | None = None
    minus: str | None = None

    @property
    def electrodes(self) -> tuple[str, ...]:
        return tuple(e for e in (self.plus, self.minus) if e is not None)


def _electrode(name: str) -> str | None:
    name = _ALIASES.get(name, name)
    return name if name in _IDX else None


def parse_label(label: str) -> Derivation:
    """Parse a CHB-MIT channel label (case-insensitive); ValueError for unknown labels.

    "A-B" bipolar, "A" / "A-REF" / "A-CS2" referential, "-" and "." dummy, "ECG"/"EKG", "VNS".
    """
    text = str(label).strip().upper()
    if text in ("-", "."):
        return Derivation("dummy")
    if text in ("ECG", "EKG"):
        return Derivation("ecg")
    if text == "VNS":
        return Derivation("vns")
    parts = text.split("-")
    if len(parts) == 1 and (e := _electrode(parts[0])):
        return Derivation("referential", e)
    if len(parts) == 2:
        a = _electrode(parts[0])
        if a and parts[1] in REFERENCE_NAMES:
            return Derivation("referential", a)
        b = _electrode(parts[1])
        if a and b and a != b:
            return Derivation("bipolar", a, b)
    raise ValueError(f"unknown channel label {label!r}")


# ---------------------------------------------------------------------------------------------
# Envelopes (public: ground truth for later tests)
# ---------------------------------------------------------------------------------------------


def _ramp_shape(x: np.ndarray, ramp: str) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x if ramp == "linear" else x * x * (3.0 - 2.0 * x)


def _check_seizures(seizures: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    out = []
    for item in seizures:
        onset, end = (float(v) for v in item)
        if not end > onset:
            raise ValueError(f"seizure end must be after onset, got {(onset, end)}")
        out.append((onset, end))
    return out


def preictal_ramp(
    times_sec: np.ndarray, seizures: Sequence[tuple[float, float]], effect: PreictalEffect
) -> np.ndarray:
    """r(t) in [0, 1]: max over seizures of the ramp over [onset - duration, onset); 0 elsewhere."""
    t = np.asarray(times_sec, dtype=np.float64)
    r = np.zeros_like(t)
    if t.size == 0:
        return r
    t_min, t_max = float(t.min()), float(t.max())
    for onset, _ in _check_seizures(seizures):
        if onset <= t_min or onset - effect.duration_sec > t_max:
            continue  # window [onset - duration, onset) misses every requested time
        inside = (t >= onset - effect.duration_sec) & (t < onset)
        x = (t[inside] - (onset - effect.duration_sec)) / effect.duration_sec
        r[inside] = np.maximum(r[inside], _ramp_shape(x, effect.ramp))
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
    for onset, end in _check_seizures(seizures):
        if end + POSTICTAL_SPAN_TAU * tau_sec <= t_min or onset > t_max:
            continue  # nothing of this seizure reaches the requested times
        ictal = (t >= onset) & (t < end)
        p[ictal] = 1.0
        after = (t >= end) & (t < end + POSTICTAL_SPAN_TAU * tau_sec)
        p[after] = np.maximum(p[after], np.exp(-(t[after] - end) / tau_sec))
    return p


# ---------------------------------------------------------------------------------------------
# Noise helpers
# ---------------------------------------------------------------------------------------------


def _fft_len(n: int) -> int:
    return scipy.fft.next_fast_len(max(int(n), 2), real=True)


def _unit_noise(rng: np.random.Generator, n: int, sfreq: float, psd) -> np.ndarray:
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


def _band_psd(lo: float, hi: float, beta: float):
    def psd(f: np.ndarray) -> np.ndarray:
        inside = (f >= lo) & (f <= hi)
        return np.where(inside, (f * f + KNEE_HZ**2) ** (-beta / 2.0), 0.0)

    return psd


def _bg_psd(beta: float):
    return lambda f: (f * f + KNEE_HZ**2) ** (-beta / 2.0)


def _bg_band_fraction(lo: float, hi: float, beta: float) -> float:
    """Background power in [lo, hi] divided by background power in REF_BAND_HZ."""

    def integral(a: float, b: float) -> float:
        f = np.linspace(a, b, 4001)
        return float(np.trapezoid((f * f + KNEE_HZ**2) ** (-beta / 2.0), f))

    return integral(lo, hi) / integral(*REF_BAND_HZ)


def _sqrt_kernel(length: float) -> np.ndarray:
    c = np.exp(-_DIST / length)
    w, v = np.linalg.eigh(c)
    m = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    return m / np.sqrt(np.sum(m * m, axis=1, keepdims=True))  # unit row norm: unit variance


_MIX = _sqrt_kernel(SPATIAL_LENGTH)


def _mix_into(out: np.ndarray, sources: Sequence[np.ndarray], scale: np.ndarray) -> None:
    """out[e] += scale[e] * sum_k MIX[e, k] * sources[k] (element-wise, deterministic)."""
    for k, src in enumerate(sources):
        for e in range(_N_EL):
            w = _MIX[e, k] * scale[e]
            if abs(w) > 1e-4 * abs(scale[e]) and w != 0.0:
                out[e] += np.float32(w) * src


def _span(t0: float, t1: float, sfreq: float, n: int) -> tuple[int, int]:
    """Sample indices [i0, i1) of the samples whose time k / sfreq lies in [t0, t1)."""
    i0 = min(max(math.ceil(t0 * sfreq - 1e-9), 0), n)
    i1 = min(max(math.ceil(t1 * sfreq - 1e-9), 0), n)
    return i0, max(i0, i1)


def _poisson_times(rng: np.random.Generator, rate_per_h: float, duration: float) -> np.ndarray:
    count = int(rng.poisson(rate_per_h * duration / 3600.0)) if rate_per_h > 0 else 0
    return np.sort(rng.uniform(0.0, duration, count))


# ---------------------------------------------------------------------------------------------
# Components
# ---------------------------------------------------------------------------------------------


def _weights_near(center: str, length: float) -> np.ndarray:
    return np.exp(-((_DIST[_IDX[center]] / length) ** 2))


def _listed(weights: np.ndarray) -> list[str]:
    peak = float(np.max(np.abs(weights)))
    return [ELECTRODES[i] for i in np.flatnonzero(np.abs(weights) >= EVENT_WEIGHT_MIN * peak)]


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


def _add_spikes(
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
        w = _weights_near(focus, SPIKE_LENGTH) * amp
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
                "electrodes": _listed(w),
                "amplitude_uv": amp,
                "source": source,
            }
        )


def _add_background(
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
    sources = (_unit_noise(rng, n, sfreq, _bg_psd(beta)) for _ in range(_N_EL))
    _mix_into(pot, list(sources), scale)


def _add_alpha(
    pot: np.ndarray,
    rng: np.random.Generator,
    profile: PatientProfile,
    sfreq: float,
    suppression: np.ndarray | None,
) -> None:
    n = pot.shape[1]
    fa = profile.alpha_freq_hz
    carrier = _unit_noise(rng, n, sfreq, lambda f: np.exp(-0.5 * ((f - fa) / ALPHA_WIDTH_HZ) ** 2))
    slow = _unit_noise(rng, n, sfreq, lambda f: np.exp(-0.5 * (f / ALPHA_ENVELOPE_HZ) ** 2))
    s = ALPHA_ENVELOPE_SD
    alpha = carrier * np.exp(np.float32(s) * slow - np.float32(s * s))  # E[env^2] = 1
    if suppression is not None:
        alpha *= suppression
    oz = _sph_to_xyz(72.0, 180.0)
    w = np.exp(-((np.linalg.norm(_POS - oz, axis=1) / ALPHA_LENGTH) ** 2))
    w = w / w.max() * profile.alpha_rms_uv * np.asarray(profile.electrode_gains)
    for e in range(_N_EL):
        if w[e] > 1e-3:
            pot[e] += np.float32(w[e]) * alpha


def _ictal_discharge(
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
    lag_field = _MIX @ rng.standard_normal(_N_EL)  # unit variance, correlated like background
    gain_field = _MIX @ rng.standard_normal(_N_EL)
    i0, i1 = _span(onset, end, sfreq, n)
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
    d = _DIST[_IDX[primary]]
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
    for e in range(_N_EL):
        local = np.clip((t - delay[e]) / rise, 0.0, 1.0)
        env = amp * weight[e] * growth * taper * local * local * (3.0 - 2.0 * local)
        if not np.any(env):
            continue
        phase = 2.0 * np.pi * (cycles - finst * lag[e])
        wave = np.zeros_like(phase)
        for h, a_h in enumerate(harm, start=1):
            wave += a_h * np.cos(h * phase)
        pot[e, i0:i1] += (env * wave / norm).astype(np.float32)


def _add_postictal_delta(
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
    spans = [_span(end, end + POSTICTAL_SPAN_TAU * tau, sfreq, n) for _, end in seizures]
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
    frac = _bg_band_fraction(*DELTA_BAND_HZ, beta)
    sigma = profile.background_rms_uv * np.asarray(profile.electrode_gains) * math.sqrt(frac)
    env = np.sqrt(profile.postictal_delta_gain * p).astype(np.float32)
    m = i1 - i0
    sources = [
        _unit_noise(rng, m, sfreq, _band_psd(*DELTA_BAND_HZ, beta)) * env for _ in ELECTRODES
    ]
    _mix_into(pot[:, i0:i1], sources, sigma)


def _add_preictal_band(
    pot: np.ndarray,
    ramp: np.ndarray,
    rng: np.random.Generator,
    profile: PatientProfile,
    effect: PreictalEffect,
    sfreq: float,
) -> None:
    nz = np.flatnonzero(ramp > 0)
    if nz.size == 0:
        return
    i0, i1 = int(nz[0]), int(nz[-1]) + 1
    r = ramp[i0:i1]
    beta = profile.spectral_exponent
    groups = (
        (profile.preictal_electrodes, profile.preictal_band_hz, 1.0 - effect.shared_fraction),
        (SHARED_PREICTAL_ELECTRODES, SHARED_PREICTAL_BAND_HZ, effect.shared_fraction),
    )
    for electrodes, band, share in groups:
        gain = effect.effect_size * share
        if gain <= 0:
            continue
        for name in electrodes:  # independent noise per electrode (visible in bipolar channels)
            noise = _unit_noise(rng, i1 - i0, sfreq, _band_psd(*band, beta))
            e = _IDX[name]
            sigma = (
                profile.background_rms_uv
                * profile.electrode_gains[e]
                * math.sqrt(_bg_band_fraction(*band, beta))
            )
            pot[e, i0:i1] += (sigma * np.sqrt(gain * r)).astype(np.float32) * noise


def _add_blinks(pot, rng, rate, sfreq, events) -> None:
    n = pot.shape[1]
    duration = n / sfreq
    theta, phi = BLINK_EYE_DEG
    eyes = [_sph_to_xyz(theta, -phi), _sph_to_xyz(theta, phi)]
    w = sum(np.exp(-np.linalg.norm(_POS - eye, axis=1) / BLINK_LENGTH) for eye in eyes)
    w = w / max(w[_IDX["FP1"]], w[_IDX["FP2"]])
    for t0 in _poisson_times(rng, rate, duration):
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
                "electrodes": _listed(w),
                "amplitude_uv": amp,
            }
        )


def _add_muscle(pot, rng, rate, sfreq, events) -> None:
    n = pot.shape[1]
    duration = n / sfreq
    sides = (("T7", "FT9", "F7", "P7"), ("T8", "FT10", "F8", "P8"))
    hi_hz = min(150.0, 0.45 * sfreq)
    for t0 in _poisson_times(rng, rate, duration):
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
            noise = _unit_noise(rng, m, sfreq, lambda f: ((f >= 20.0) & (f <= hi_hz)) * 1.0)
            g = rms * (1.0 if j == 0 else float(rng.uniform(0.5, 1.0)))
            pot[_IDX[name], i0:i1] += (g * env * noise)[: i1 - i0].astype(np.float32)
        events.append(
            {
                "kind": "muscle",
                "start_sec": i0 / sfreq,
                "end_sec": i1 / sfreq,
                "electrodes": list(chosen),
                "amplitude_uv": rms,
            }
        )


def _add_pops(pot, rng, rate, sfreq, events) -> None:
    n = pot.shape[1]
    duration = n / sfreq
    for t0 in _poisson_times(rng, rate, duration):
        name = ELECTRODES[int(rng.integers(_N_EL))]
        amp = float(rng.uniform(150.0, 500.0)) * (1.0 if rng.random() < 0.5 else -1.0)
        tau = float(rng.uniform(0.1, 0.6))
        i0 = round(t0 * sfreq)
        i1 = min(i0 + round(5.0 * tau * sfreq), n)
        if i1 <= i0:
            continue
        x = np.arange(i1 - i0) / sfreq
        pot[_IDX[name], i0:i1] += (amp * np.exp(-x / tau)).astype(np.float32)
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


def _ecg(rng: np.random.Generator, n: int, sfreq: float) -> np.ndarray:
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


def _vns(rng: np.random.Generator, n: int, sfreq: float) -> np.ndarray:
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


# ---------------------------------------------------------------------------------------------
# Main entry point
# ---------------------------------------------------------------------------------------------


def synthesize_recording(
    *,
    labels: Sequence[str],
    duration_sec: float,
    sfreq: float,
    profile: PatientProfile,
    effect: PreictalEffect,
    seizures: Sequence[tuple[float, float]],
    artifacts: ArtifactRates,
    rng: np.random.Generator,
) -> tuple[np.ndarray, list[dict]]:
    """Synthesize one EEG file.

    Returns ``(data, events)``: float32 microvolts of shape ``[len(labels), round(duration *
    sfreq)]`` and the ground-truth events (dicts with kind, start_sec, end_sec, electrodes,
    channels and kind-specific extras), sorted by start time.  ``seizures`` are (onset, end) in
    seconds relative to this file's start and may lie partly or wholly outside it.
    """
    derivations = [parse_label(label) for label in labels]
    if not sfreq > 0 or not duration_sec > 0:
        raise ValueError("sfreq and duration_sec must be > 0")
    n = round(duration_sec * sfreq)
    if n < 2:
        raise ValueError("recording must contain at least 2 samples")
    seizures = _check_seizures(seizures)
    seed = np.random.SeedSequence([int(v) for v in rng.integers(0, 2**32, size=4)])
    streams = dict(
        zip(_STREAMS, (np.random.default_rng(s) for s in seed.spawn(len(_STREAMS))), strict=True)
    )
    times = np.arange(n) / sfreq
    events: list[dict] = []

    pot = np.zeros((_N_EL, n), dtype=np.float32)
    _add_background(pot, streams["background"], profile, sfreq)

    post = postictal_envelope(times, seizures, profile.postictal_tau_sec) if seizures else None
    suppression = None
    if post is not None and np.any(post > 0):
        suppression = (1.0 - ALPHA_POSTICTAL_SUPPRESSION * post).astype(np.float32)
    _add_alpha(pot, streams["alpha"], profile, sfreq, suppression)

    base = _poisson_times(streams["spikes"], profile.spike_rate_per_h, duration_sec)
    _add_spikes(pot, base, streams["spikes"], profile, sfreq, "baseline", events)

    patient_share = effect.effect_size * (1.0 - effect.shared_fraction)
    if effect.effect_size > 0 and seizures:
        ramp = preictal_ramp(times, seizures, effect)
        _add_preictal_band(pot, ramp, streams["preictal_band"], profile, effect, sfreq)
        extra_rate = profile.spike_rate_per_h * effect.spike_rate_gain * patient_share
        rs = streams["preictal_spikes"]
        cand = _poisson_times(rs, extra_rate, duration_sec)
        keep = rs.random(cand.size) < np.interp(cand, times, ramp)
        _add_spikes(pot, cand[keep], rs, profile, sfreq, "preictal", events)

    for onset, end in seizures:
        _ictal_discharge(pot, onset, end, streams["seizure"], profile, sfreq)
    _add_postictal_delta(pot, streams["postictal"], profile, seizures, sfreq)

    _add_blinks(pot, streams["blink"], artifacts.blink_per_h, sfreq, events)
    _add_muscle(pot, streams["muscle"], artifacts.muscle_per_h, sfreq, events)
    _add_pops(pot, streams["pop"], artifacts.pop_per_h, sfreq, events)

    data = np.empty((len(labels), n), dtype=np.float32)
    extra: dict[str, np.ndarray] = {}
    for i, d in enumerate(derivations):
        if d.kind == "bipolar":
            np.subtract(pot[_IDX[d.plus]], pot[_IDX[d.minus]], out=data[i])
        elif d.kind == "referential":
            data[i] = pot[_IDX[d.plus]]
        elif d.kind == "dummy":
            data[i] = 0.0
        else:
            if d.kind not in extra:
                maker = _ecg if d.kind == "ecg" else _vns
                extra[d.kind] = maker(streams[d.kind], n, sfreq)
            data[i] = extra[d.kind]
    del pot

    rf = streams["flat"]
    for t0 in _poisson_times(rf, artifacts.flat_per_h, duration_sec):
        dur = float(rf.uniform(2.0, 10.0))
        i0, i1 = _span(t0, t0 + dur, sfreq, n)
        if i1 <= i0:
            continue
        data[:, i0:i1] = 0.0
        events.append({"kind": "flat", "start_sec": i0 / sfreq, "end_sec": i1 / sfreq})

    unique_labels = list(dict.fromkeys(labels))
    for ev in events:
        if ev["kind"] == "flat":
            ev["electrodes"] = list(ELECTRODES)
            ev["channels"] = unique_labels
            continue
        involved = set(ev["electrodes"])
        ev["channels"] = [
            lab
            for lab, d in zip(labels, derivations, strict=True)
            if involved.intersection(d.electrodes)
        ]
        ev["channels"] = list(dict.fromkeys(ev["channels"]))
    events.sort(key=lambda ev: (ev["start_sec"], ev["kind"]))
    return data, events
