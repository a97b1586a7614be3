"""The confounds of the realistic synthetic default (lib/preictal/synthetic/confounds.py): what they
add to the signal, that they never depend on the seizures, and that the negative control stays
exact. Measured values are quoted next to each bound."""

from __future__ import annotations

import numpy as np
import pytest

from preictal.synthetic.confounds import (
    VIGILANCE_BANDS,
    Decoy,
    plan_confounds,
    preictal_drive,
    vigilance_envelope,
)
from preictal.synthetic.params import (
    SHARED_PREICTAL_BAND_HZ,
    ArtifactRates,
    PatientProfile,
    PreictalEffect,
)
from preictal.synthetic.seizures import preictal_ramp
from preictal.synthetic.signals import synthesize_recording
from tests.synthetic.test_signals import FS, MONTAGE, NO_EFFECT, band_power, rows, seg, synth

ALL_ON = {"heterogeneity": True, "decoys": True, "vigilance": True}
REALISTIC = PatientProfile(decoy_per_h=1.0, drowsy_per_h=0.6, preictal_gain=0.8)


def test_drive_reduces_to_the_ramp_and_adds_weighted_episodes():
    effect = PreictalEffect(duration_sec=600.0)
    t = np.arange(0, 4000, 0.5)
    seizures = [(1000.0, 1060.0), (3000.0, 3030.0)]
    assert np.array_equal(preictal_drive(t, seizures, effect), preictal_ramp(t, seizures, effect))
    decoy = Decoy(1500.0, 1800.0, 2100.0, 0.4)
    drive = preictal_drive(t, seizures, effect, [0.5, 0.0], [decoy])
    at = {float(x): float(v) for x, v in zip(t, drive, strict=True)}
    assert at[999.5] == pytest.approx(0.5 * 599.5 / 600)  # weighted ramp just before onset
    assert at[1800.0] == pytest.approx(0.4) and at[1650.0] == pytest.approx(0.2)  # rise
    assert at[1950.0] == pytest.approx(0.2) and at[2100.0] == 0.0  # linear fall
    assert drive[(t >= 2400) & (t < 3000)].max() == 0.0  # weight 0: a seizure without a change
    with pytest.raises(ValueError, match="one preictal weight per seizure"):
        preictal_drive(t, seizures, effect, [1.0])


def test_plan_is_deterministic_and_independent_of_the_seizures():
    span = (36000.0, 36000.0 + 6 * 3600.0)
    a = plan_confounds(7, 3, span, [40000.0, 45000.0], REALISTIC, ALL_ON)
    b = plan_confounds(7, 3, span, [40000.0, 45000.0], REALISTIC, ALL_ON)
    moved = plan_confounds(7, 3, span, [40000.0, 50000.0], REALISTIC, ALL_ON)
    assert a == b
    assert moved.decoys == a.decoys and moved.drowsy == a.drowsy  # seizures never move them
    assert moved.seizure_weights[40000.0] == a.seizure_weights[40000.0]
    assert a.decoys and a.drowsy  # 1/h and 0.6/h over 6 h
    assert all(span[0] <= d.start_sec < d.peak_sec < d.end_sec for d in a.decoys)
    assert all(span[0] <= s < e <= span[1] for s, e in a.drowsy)
    assert a.preictal_gain == 0.8
    off = plan_confounds(7, 3, span, [40000.0], REALISTIC, {})
    assert (off.preictal_gain, off.seizure_weights, off.decoys, off.drowsy) == (1.0, {}, [], [])
    with pytest.raises(ValueError, match="unknown \\['sleep'\\]"):
        plan_confounds(7, 3, span, [], REALISTIC, {"sleep": True})


def test_heterogeneity_over_many_patients_and_seizures():
    profiles = [PatientProfile.from_seed(s) for s in range(200)]
    gains = np.array([p.preictal_gain for p in profiles])
    weak = (gains <= 0.2).mean()
    assert 0.1 < weak < 0.3  # 0.2 by design; measured 0.2 over these 200 seeds (binomial SD 0.03)
    assert gains[gains > 0.2].min() >= 0.6
    weights = []
    for k in range(40):
        plan = plan_confounds(k, 1, (0.0, 3600.0), np.arange(100, 3600, 350.0), REALISTIC, ALL_ON)
        weights += list(plan.seizure_weights.values())
    assert 0.5 <= min(weights) < 0.55 and 0.95 < max(weights) <= 1.0  # U(0.5, 1), 400 seizures


def test_negative_control_ignores_decoys():
    decoys = [Decoy(20.0, 120.0, 200.0, 0.6)]
    plain, _ = synth(duration=240.0, seizures=[(230.0, 250.0)])
    with_decoys, _ = synthesize(decoys=decoys)
    assert np.array_equal(plain, with_decoys)


def synthesize(*, effect=NO_EFFECT, seizures=((230.0, 250.0),), decoys=(), drowsy=()):
    return synthesize_recording(
        labels=MONTAGE,
        duration_sec=240.0,
        sfreq=FS,
        profile=PatientProfile(),
        effect=effect,
        seizures=seizures,
        artifacts=ArtifactRates.none(),
        rng=np.random.default_rng(0),
        decoys=decoys,
        drowsy=drowsy,
    )


def test_a_decoy_imitates_the_band_power_change_but_not_the_spikes():
    """A decoy raises the shared band (midline) and the patient's own band on its own electrodes,
    like the change before a seizure, but adds none of the preictal spikes."""
    effect = PreictalEffect(effect_size=2.0, duration_sec=600.0)
    decoy = [Decoy(0.0, 239.0, 240.0, 1.0)]
    base, base_events = synthesize(effect=effect, seizures=())
    with_decoy, decoy_events = synthesize(effect=effect, seizures=(), decoys=decoy)
    late = [seg(x, 150, 240) for x in (base, with_decoy)]
    shared = [band_power(rows(x, MONTAGE, ["FZ-CZ"]), *SHARED_PREICTAL_BAND_HZ) for x in late]
    assert shared[1][0] / shared[0][0] > 1.5
    own_band = PatientProfile().preictal_band_hz
    own = [band_power(rows(x, MONTAGE, ["T7-FT9"]), *own_band) for x in late]
    assert own[1][0] / own[0][0] > 1.5
    assert decoy_events == base_events  # no spike (or any other event) more


def test_drowsiness_slows_the_background_and_lowers_alpha():
    drowsy = [(60.0, 400.0)]  # full depth from 180 s (120-s transitions)
    awake, _ = synthesize()
    asleep, _ = synthesize(drowsy=drowsy)
    assert np.array_equal(seg(awake, 0, 59), seg(asleep, 0, 59))  # nothing outside the episode
    v = vigilance_envelope(np.arange(0, 240, 1 / FS), drowsy)
    assert v[int(180 * FS)] == 1.0 and v[int(59 * FS)] == 0.0 and 0 < v[int(120 * FS)] < 1
    deep = [seg(x, 180, 238) for x in (awake, asleep)]
    (delta_lo, delta_hi), delta_gain, _ = VIGILANCE_BANDS[0]
    delta = band_power(deep[1], delta_lo, delta_hi) / band_power(deep[0], delta_lo, delta_hi)
    assert np.median(delta) > 1 + delta_gain / 2  # measured 1.8 (gain 1.0 at full depth)
    posterior = ["P7-O1", "P3-O1", "P4-O2", "P8-O2"]
    alpha = [band_power(rows(x, MONTAGE, posterior), 9.0, 11.0).mean() for x in deep]
    assert alpha[1] < 0.8 * alpha[0]  # measured 0.38 (alpha amplitude x 0.3, plus background)
