"""What makes forecasting hard in real EEG, planted in the synthetic default (docs/SYNTHETIC_DATA.md).

Three confounds, each switched on or off by ``synthetic.confounds``:

- ``heterogeneity``: patients differ in how strong their preictal change is (a few barely change
  at all) and seizures of one patient differ too;
- ``decoys``: interictal episodes with the patient's own band-power change (its own band and the
  shared one, on the same electrodes; not the spike increase), rising and falling again without
  a seizure, of graded size;
- ``vigilance``: drowsiness episodes that slow the background (more delta, theta and 11-15 Hz
  power, less alpha), a state change unrelated to seizures.

The episodes are planned on the case's timeline (not per file), so that one crossing a file
boundary continues in the next file; they never depend on where the seizures are, so the negative
control (``effect_size: 0``) stays at chance: decoys scale with the effect like the preictal change
they imitate, and vigilance does not depend on seizures at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from preictal.synthetic.head import IDX, mix_into
from preictal.synthetic.noise import band_psd, bg_band_fraction, unit_noise
from preictal.synthetic.params import PatientProfile, PreictalEffect
from preictal.synthetic.seizures import preictal_ramp, ramp_shape

__all__ = [
    "CONFOUNDS",
    "CaseConfounds",
    "Decoy",
    "add_vigilance",
    "plan_confounds",
    "preictal_drive",
    "vigilance_envelope",
]

CONFOUNDS = ("heterogeneity", "decoys", "vigilance")

# Each seizure's preictal change relative to the patient's. Seizures without any change were
# tried and left out: with six per case, one in a within-patient training half decides that fold
# (docs/SYNTHETIC_DATA.md).
SEIZURE_WEIGHT = (0.5, 1.0)
DECOY_WEIGHT = (0.1, 0.6)  # a decoy's peak, relative to the patient's preictal change at onset
DECOY_RISE_MIN = (5.0, 15.0)  # rises with the preictal ramp's shape over this long ...
DECOY_FALL_MIN = (2.0, 8.0)  # ... and falls linearly over this long
DROWSY_MIN = (8.0, 30.0)  # length of a drowsiness episode
VIGILANCE_EDGE_SEC = 120.0  # smoothstep transition at each end of an episode
# Drowsiness at its full depth: relative power increase per band (on the electrodes given; None
# is every electrode, spatially correlated like the background) and the alpha suppression.
VIGILANCE_BANDS: tuple[tuple[tuple[float, float], float, tuple[str, ...] | None], ...] = (
    ((0.5, 4.0), 1.0, None),
    ((4.0, 8.0), 0.6, None),
    ((11.0, 15.0), 0.6, ("FZ", "CZ", "PZ", "C3", "C4", "F3", "F4", "P3", "P4")),
)
VIGILANCE_ALPHA_SUPPRESSION = 0.7


@dataclass(frozen=True)
class Decoy:
    """A preictal-like interictal episode (seconds): rises from ``start`` to ``weight`` at
    ``peak``, back to 0 at ``end``."""

    start_sec: float
    peak_sec: float
    end_sec: float
    weight: float

    def shifted(self, by: float) -> Decoy:
        return Decoy(self.start_sec + by, self.peak_sec + by, self.end_sec + by, self.weight)


@dataclass
class CaseConfounds:
    """The confounds of one case on its timeline (seconds from midnight of day 0)."""

    preictal_gain: float  # the patient's preictal change relative to effect_size
    seizure_weights: dict[float, float] = field(default_factory=dict)  # by onset_sec
    decoys: list[Decoy] = field(default_factory=list)
    drowsy: list[tuple[float, float]] = field(default_factory=list)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["seizure_weights"] = [[k, v] for k, v in self.seizure_weights.items()]
        return out


def check_switches(switches: Mapping[str, bool]) -> dict[str, bool]:
    unknown = sorted(set(switches) - set(CONFOUNDS))
    if unknown:
        raise ValueError(f"synthetic.confounds: unknown {unknown}; known: {list(CONFOUNDS)}")
    return {name: bool(switches.get(name, False)) for name in CONFOUNDS}


def plan_confounds(
    seed: int,
    case_key: int,
    span_sec: tuple[float, float],
    onsets: Sequence[float],
    profile: PatientProfile,
    switches: Mapping[str, bool],
) -> CaseConfounds:
    """Draw the case's confounds from streams of (seed, case_key); each seizure's weight comes from
    a stream of its own onset, so the seizures never move the decoys or the drowsiness."""
    on = check_switches(switches)
    t0, t1 = span_sec

    def stream(*keys: int) -> np.random.Generator:
        return np.random.default_rng([int(seed), int(case_key), 0xC0F0, *keys])

    out = CaseConfounds(preictal_gain=profile.preictal_gain if on["heterogeneity"] else 1.0)
    if on["heterogeneity"]:
        for onset in onsets:
            rng = stream(2, int(round(onset)))
            out.seizure_weights[float(onset)] = float(rng.uniform(*SEIZURE_WEIGHT))
    if on["decoys"] and profile.decoy_per_h > 0:
        rng = stream(0)
        count = int(rng.poisson(profile.decoy_per_h * (t1 - t0) / 3600.0))
        for start in np.sort(rng.uniform(t0, t1, count)):
            rise = 60.0 * rng.uniform(*DECOY_RISE_MIN)
            fall = 60.0 * rng.uniform(*DECOY_FALL_MIN)
            weight = rng.uniform(*DECOY_WEIGHT)
            out.decoys.append(
                Decoy(float(start), float(start + rise), float(start + rise + fall), float(weight))
            )
    if on["vigilance"] and profile.drowsy_per_h > 0:
        rng = stream(1)
        t = t0 + 3600.0 * rng.exponential(1.0 / profile.drowsy_per_h)
        while t < t1:
            length = 60.0 * rng.uniform(*DROWSY_MIN)
            out.drowsy.append((float(t), float(min(t + length, t1))))
            t += length + 3600.0 * rng.exponential(1.0 / profile.drowsy_per_h)
    return out


def preictal_drive(
    times_sec: np.ndarray,
    seizures: Sequence[tuple[float, float]],
    effect: PreictalEffect,
    weights: Sequence[float] | None = None,
    decoys: Sequence[Decoy] = (),
) -> np.ndarray:
    """What drives the preictal terms: the max of the seizures' weighted ramp
    (``preictal_ramp``) and of each decoy's envelope, in [0, 1]."""
    t = np.asarray(times_sec, dtype=np.float64)
    r = preictal_ramp(t, seizures, effect, weights)
    for d in decoys:
        rising = (t >= d.start_sec) & (t < d.peak_sec)
        x = (t[rising] - d.start_sec) / (d.peak_sec - d.start_sec)
        r[rising] = np.maximum(r[rising], d.weight * ramp_shape(x, effect.ramp))
        falling = (t >= d.peak_sec) & (t < d.end_sec)
        x = (d.end_sec - t[falling]) / (d.end_sec - d.peak_sec)
        r[falling] = np.maximum(r[falling], d.weight * x)
    return np.clip(r, 0.0, 1.0)


def vigilance_envelope(times_sec: np.ndarray, drowsy: Sequence[tuple[float, float]]) -> np.ndarray:
    """v(t) in [0, 1]: drowsiness depth, with smoothstep transitions inside each episode."""
    t = np.asarray(times_sec, dtype=np.float64)
    v = np.zeros_like(t)
    for start, end in drowsy:
        inside = (t >= start) & (t < end)
        if not inside.any():
            continue
        edge = min(VIGILANCE_EDGE_SEC, (end - start) / 2.0)
        x = np.minimum(t[inside] - start, end - t[inside]) / edge
        v[inside] = np.maximum(v[inside], ramp_shape(x, "smooth"))
    return v


def add_vigilance(
    pot: np.ndarray,
    v: np.ndarray,
    rng: np.random.Generator,
    profile: PatientProfile,
    sfreq: float,
) -> None:
    """Add the drowsiness bands (variance ``gain * v(t)`` x the background's band power) where
    v > 0; the alpha suppression is applied by the caller through ``add_alpha``."""
    nz = np.flatnonzero(v > 0)
    if nz.size == 0:
        return
    i0, i1 = int(nz[0]), int(nz[-1]) + 1
    beta = profile.spectral_exponent
    gains = np.asarray(profile.electrode_gains)
    for band, gain, electrodes in VIGILANCE_BANDS:
        sigma = profile.background_rms_uv * gains * np.sqrt(bg_band_fraction(*band, beta))
        env = np.sqrt(gain * v[i0:i1]).astype(np.float32)
        psd = band_psd(*band, beta)
        if electrodes is None:  # spatially correlated, like the background
            sources = [unit_noise(rng, i1 - i0, sfreq, psd) * env for _ in range(len(gains))]
            mix_into(pot[:, i0:i1], sources, sigma)
            continue
        for name in electrodes:
            e = IDX[name]
            pot[e, i0:i1] += np.float32(sigma[e]) * env * unit_noise(rng, i1 - i0, sfreq, psd)
