"""Tests of the generative signal model (lib/preictal/synthetic/signals.py and its modules).

Every statistical threshold below sits far from the value the model produces (measured
ratios are quoted in comments) and far from the value a broken model would produce.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.signal

from preictal.synthetic.head import (
    ELECTRODE_POSITIONS_2D,
    ELECTRODE_POSITIONS_3D,
    ELECTRODES,
    parse_label,
)
from preictal.synthetic.params import (
    SHARED_PREICTAL_BAND_HZ,
    ArtifactRates,
    PatientProfile,
    PreictalEffect,
)
from preictal.synthetic.seizures import postictal_envelope, preictal_ramp
from preictal.synthetic.signals import synthesize_recording

FS = 256.0
# CHB-MIT bipolar montage (23 channels, "T8-P8" twice)
MONTAGE = [
    "FP1-F7", "F7-T7", "T7-P7", "P7-O1", "FP1-F3", "F3-C3", "C3-P3", "P3-O1",
    "FP2-F4", "F4-C4", "C4-P4", "P4-O2", "FP2-F8", "F8-T8", "T8-P8", "P8-O2",
    "FZ-CZ", "CZ-PZ", "P7-T7", "T7-FT9", "FT9-FT10", "FT10-T8", "T8-P8",
]  # fmt: skip
NO_ARTIFACTS = ArtifactRates.none()
NO_EFFECT = PreictalEffect(effect_size=0.0)
# left temporal patient: focus T7/F7, preictal 25-33 Hz on T7/FT9/P7 (see PatientProfile defaults)
PROFILE = PatientProfile()


def synth(
    *,
    duration=300.0,
    labels=MONTAGE,
    profile=PROFILE,
    effect=NO_EFFECT,
    seizures=(),
    artifacts=NO_ARTIFACTS,
    seed=0,
):
    return synthesize_recording(
        labels=labels,
        duration_sec=duration,
        sfreq=FS,
        profile=profile,
        effect=effect,
        seizures=seizures,
        artifacts=artifacts,
        rng=np.random.default_rng(seed),
    )


def band_power(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Mean PSD in [lo, hi] Hz per row (Welch, 2-s segments)."""
    f, p = scipy.signal.welch(x, FS, nperseg=min(int(2 * FS), x.shape[-1]), axis=-1)
    sel = (f >= lo) & (f <= hi)
    return p[..., sel].mean(axis=-1)


def rows(data: np.ndarray, labels, wanted) -> np.ndarray:
    return data[[list(labels).index(w) for w in wanted]]


def seg(data: np.ndarray, t0: float, t1: float) -> np.ndarray:
    return data[:, int(round(t0 * FS)) : int(round(t1 * FS))]


# ---------------------------------------------------------------------------------------------
# Basic contract
# ---------------------------------------------------------------------------------------------


def test_electrodes_and_positions():
    assert len(ELECTRODES) == 21 and len(set(ELECTRODES)) == 21
    assert set(ELECTRODE_POSITIONS_3D) == set(ELECTRODES) == set(ELECTRODE_POSITIONS_2D)
    pos = np.array([ELECTRODE_POSITIONS_3D[e] for e in ELECTRODES])
    np.testing.assert_allclose(np.linalg.norm(pos, axis=1), 1.0, atol=1e-12)
    # left electrodes have x < 0, frontal ones y > 0, CZ at the vertex
    assert ELECTRODE_POSITIONS_3D["T7"][0] < 0 < ELECTRODE_POSITIONS_3D["T8"][0]
    assert ELECTRODE_POSITIONS_3D["FP1"][1] > 0 > ELECTRODE_POSITIONS_3D["O1"][1]
    assert ELECTRODE_POSITIONS_3D["CZ"][2] == pytest.approx(1.0)


def test_shape_dtype_and_determinism():
    labels = MONTAGE + ["-", ".", "ECG", "VNS", "FP1"]
    seizures = [(200.0, 240.0)]
    art = ArtifactRates(blink_per_h=300, muscle_per_h=60, pop_per_h=30, flat_per_h=10)
    kw = dict(duration=300.0, labels=labels, effect=PreictalEffect(), seizures=seizures)
    a, ev_a = synth(**kw, artifacts=art, seed=5)
    b, ev_b = synth(**kw, artifacts=art, seed=5)
    c, _ = synth(**kw, artifacts=art, seed=6)
    assert a.shape == (len(labels), round(300.0 * FS)) and a.dtype == np.float32
    assert np.array_equal(a, b) and ev_a == ev_b
    assert not np.array_equal(a[:23], c[:23])
    assert np.all(np.isfinite(a))
    # non-integer duration: n = round(duration * sfreq)
    d, _ = synth(duration=10.3, labels=["FP1-F7"])
    assert d.shape == (1, round(10.3 * FS))


def test_rng_is_read_but_caller_streams_stay_usable():
    rng = np.random.default_rng(1)
    kw = dict(labels=["CZ"], duration_sec=10.0, sfreq=FS, profile=PROFILE, effect=NO_EFFECT)
    x1, _ = synthesize_recording(**kw, seizures=[], artifacts=NO_ARTIFACTS, rng=rng)
    x2, _ = synthesize_recording(**kw, seizures=[], artifacts=NO_ARTIFACTS, rng=rng)
    assert not np.array_equal(x1, x2)  # consecutive files of one rng differ


def test_label_derivations():
    labels = ["FP1-F7", "fp1-f7", "FP1", "FP1-Ref", "Fp1-CS2", "F7", "T8-P8", "T8-P8", "-", "."]
    x, _ = synth(duration=60.0, labels=labels, profile=PatientProfile.from_seed(3))
    assert np.array_equal(x[0], x[1])
    assert np.array_equal(x[2], x[3]) and np.array_equal(x[2], x[4])
    assert np.array_equal(x[0], x[2] - x[5])  # bipolar = potential(A) - potential(B)
    assert np.array_equal(x[6], x[7])  # duplicated T8-P8
    assert x[6].std() > 5.0
    assert not np.any(x[8]) and not np.any(x[9])  # dummy channels are exactly zero
    assert parse_label(" t3-T5 ").electrodes == ("T7", "P7")  # old 10-20 names accepted


@pytest.mark.parametrize("bad", ["XX", "FP1-XX", "FP1-FP1", "FP1-F7-T7", "", "EEG FP1-F7", "Cz-"])
def test_unknown_label_raises(bad):
    with pytest.raises(ValueError, match="unknown channel label"):
        synth(duration=10.0, labels=["FP1-F7", bad])


def test_invalid_parameters_raise():
    with pytest.raises(ValueError):
        PatientProfile(focus=("T9",))
    with pytest.raises(ValueError):
        PatientProfile(preictal_band_hz=(30.0, 20.0))
    with pytest.raises(ValueError):
        PreictalEffect(shared_fraction=1.5)
    with pytest.raises(ValueError):
        PreictalEffect(effect_size=-1.0)
    with pytest.raises(ValueError):
        ArtifactRates(blink_per_h=-1.0)
    with pytest.raises(ValueError):
        synth(duration=60.0, seizures=[(30.0, 20.0)])


def test_ecg_and_vns_channels():
    x, _ = synth(duration=60.0, labels=["ECG", "VNS", "EKG"])
    ecg, vns = x[0], x[1]
    assert np.array_equal(x[0], x[2])
    peaks, _ = scipy.signal.find_peaks(ecg, height=400.0, distance=int(0.3 * FS))
    assert 50 <= len(peaks) <= 110  # 65-95 bpm over one minute
    assert set(np.unique(vns)) <= {-500.0, 0.0, 500.0}


def test_profile_from_seed():
    assert PatientProfile.from_seed(7) == PatientProfile.from_seed(7)
    profiles = [PatientProfile.from_seed(s) for s in range(12)]
    for p in profiles:
        assert 8.0 <= p.alpha_freq_hz <= 11.0
        assert set(p.focus) <= set(ELECTRODES) and set(p.preictal_electrodes) <= set(ELECTRODES)
        lo, hi = p.preictal_band_hz
        # patient bands avoid the alpha range and the shared band
        assert hi <= 8.5 or lo >= 20.5
        assert hi <= SHARED_PREICTAL_BAND_HZ[0] or lo >= SHARED_PREICTAL_BAND_HZ[1]
    # the patient-specific part differs between patients
    assert len({(p.preictal_band_hz, p.preictal_electrodes) for p in profiles}) == 12
    assert len({p.preictal_electrodes for p in profiles}) >= 6
    assert len({p.focus[0] for p in profiles}) >= 5


# ---------------------------------------------------------------------------------------------
# Background
# ---------------------------------------------------------------------------------------------


def bandpassed(x: np.ndarray, lo=0.5, hi=45.0) -> np.ndarray:
    sos = scipy.signal.butter(4, [lo, hi], btype="band", fs=FS, output="sos")
    return scipy.signal.sosfiltfilt(sos, x, axis=-1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_background_rms_plausible(seed):
    x, _ = synth(duration=300.0, profile=PatientProfile.from_seed(seed), seed=seed)
    rms = bandpassed(x).std(axis=1)
    assert np.all(rms >= 10.0) and np.all(rms <= 60.0), rms  # measured 18-53 uV


@pytest.mark.parametrize("beta", [1.2, 1.6, 1.9])
def test_background_one_over_f_slope(beta):
    profile = dataclasses.replace(PROFILE, spectral_exponent=beta)
    x, _ = synth(duration=300.0, profile=profile, seed=1)
    f, p = scipy.signal.welch(x, FS, nperseg=1024, axis=-1)
    sel = (f >= 2.0) & (f <= 40.0) & ~((f > 6.0) & (f < 14.0))  # exclude alpha
    slopes = np.array([np.polyfit(np.log(f[sel]), np.log(row[sel]), 1)[0] for row in p])
    assert np.all(np.abs(slopes + beta) < 0.15), slopes  # measured within 0.05 of -beta
    assert np.all((slopes < -1.0) & (slopes > -2.1))


def test_background_spatial_correlation():
    x, _ = synth(duration=300.0, labels=list(ELECTRODES), seed=2)
    c = np.corrcoef(bandpassed(x))
    i = {e: k for k, e in enumerate(ELECTRODES)}
    near = [c[i["FP1"], i["F7"]], c[i["C3"], i["CZ"]], c[i["P8"], i["O2"]]]
    far = [c[i["FP1"], i["O2"]], c[i["T7"], i["T8"]], c[i["F8"], i["P7"]]]
    assert min(near) > 0.35 and max(far) < 0.2, (near, far)  # measured ~0.5 vs ~0.1
    # neighbouring parallel bipolar chains correlate positively
    y, _ = synth(duration=300.0, seed=2)
    cb = np.corrcoef(bandpassed(y))
    assert cb[MONTAGE.index("F7-T7"), MONTAGE.index("F3-C3")] > 0.15  # measured ~0.3


def test_alpha_peak_posterior():
    profile = dataclasses.replace(PROFILE, alpha_freq_hz=9.3, alpha_rms_uv=18.0)
    x, _ = synth(duration=300.0, profile=profile, seed=3)
    f, p = scipy.signal.welch(x, FS, nperseg=int(4 * FS), axis=-1)
    flank = ((f >= 5.0) & (f <= 6.5)) | ((f >= 13.0) & (f <= 15.0))

    def peak_ratio(label):
        row = p[MONTAGE.index(label)]
        return row[np.argmin(np.abs(f - 9.3))] / row[flank].mean()

    post = [peak_ratio(c) for c in ("P7-O1", "P3-O1", "P8-O2", "P4-O2")]
    front = [peak_ratio(c) for c in ("FP1-F7", "FP1-F3", "FP2-F4", "FP2-F8")]
    assert min(post) > 3.0 and max(front) < 1.5, (post, front)  # measured >4 vs ~0.7
    row = p[MONTAGE.index("P7-O1")]
    sel = (f >= 6.0) & (f <= 14.0)
    assert abs(f[sel][np.argmax(row[sel])] - 9.3) <= 0.5


# ---------------------------------------------------------------------------------------------
# Seizures
# ---------------------------------------------------------------------------------------------

ONSET, END = 200.0, 260.0


def test_seizure_band_power_and_focal_onset():
    profile = dataclasses.replace(PROFILE, spread_sec=12.0)
    x, _ = synth(duration=320.0, profile=profile, seizures=[(ONSET, END)], seed=4)
    base = band_power(seg(x, 20.0, 180.0), 3.0, 8.0)
    ictal = band_power(seg(x, ONSET + 5.0, END - 5.0), 3.0, 8.0)
    ratio = ictal / base
    assert np.median(ratio) > 3.0 and np.mean(ratio > 1.5) > 0.75, ratio  # measured median ~6
    focal_all = rows(ratio[:, None], MONTAGE, ["T7-P7", "T7-FT9", "F7-T7"])[:, 0]
    assert focal_all.min() > 3.0, focal_all  # measured 4-10
    # first seconds: the discharge is on the focus (T7, F7) before it reaches the far side
    early = band_power(seg(x, ONSET + 1.0, ONSET + 3.5), 3.0, 8.0) / base
    focal = rows(early[:, None], MONTAGE, ["T7-P7", "T7-FT9", "P7-T7"])[:, 0]
    remote = rows(early[:, None], MONTAGE, ["FP2-F4", "F4-C4", "C4-P4", "P8-O2", "FT10-T8"])[:, 0]
    assert focal.min() > 4.0 and remote.max() < 2.0, (focal, remote)  # measured >7 vs <1.5
    # the rhythm slows down: dominant frequency early vs late on a focus channel
    k = MONTAGE.index("T7-P7")

    def dominant(t0, t1):
        f, p = scipy.signal.welch(seg(x, t0, t1)[k], FS, nperseg=1024)
        return f[np.argmax(p)]

    f_early, f_late = dominant(ONSET + 2, ONSET + 14), dominant(END - 14, END - 2)
    assert f_early > 5.5 and f_late < 4.5 and f_early > f_late + 2.0, (f_early, f_late)


def test_postictal_slowing():
    x, _ = synth(duration=500.0, seizures=[(ONSET, END)], seed=5)
    pre = seg(x, 10.0, 190.0)
    post = seg(x, END + 5.0, END + 125.0)
    delta = band_power(post, 1.0, 4.0) / band_power(pre, 1.0, 4.0)
    assert np.median(delta) > 2.0, delta  # measured ~3 (gain 4, tau 180 s)
    k = [MONTAGE.index(c) for c in ("P7-O1", "P3-O1", "P8-O2", "P4-O2")]
    fa = PROFILE.alpha_freq_hz
    alpha = band_power(post[k], fa - 1, fa + 1) / band_power(pre[k], fa - 1, fa + 1)
    assert np.all(alpha < 0.8), alpha  # alpha suppressed
    # slowing decays: much weaker 4-5 tau after the end
    late = band_power(seg(x, END + 180.0, END + 240.0), 1.0, 4.0) / band_power(pre, 1.0, 4.0)
    assert np.median(late) < np.median(delta)


def test_seizures_outside_file():
    # seizure ended before the file: postictal slowing at the start, identical later on
    x_prev, _ = synth(duration=300.0, seizures=[(-80.0, -20.0)], seed=6)
    x_none, _ = synth(duration=300.0, seed=6)
    assert not np.array_equal(x_prev[:, : int(10 * FS)], x_none[:, : int(10 * FS)])
    p_early = band_power(seg(x_prev, 0, 60), 1, 4) / band_power(seg(x_none, 0, 60), 1, 4)
    assert np.median(p_early) > 1.8
    # seizure after the file: only the preictal ramp reaches into it
    eff = PreictalEffect(effect_size=2.0, duration_sec=300.0)
    x_next, _ = synth(duration=300.0, seizures=[(350.0, 400.0)], effect=eff, seed=6)
    assert x_next.shape == x_none.shape
    assert np.array_equal(x_next[:, : int(49 * FS)], x_none[:, : int(49 * FS)])  # ramp from 50 s
    assert not np.array_equal(x_next[:, int(60 * FS) :], x_none[:, int(60 * FS) :])
    # seizure spanning the file start: ictal activity at the beginning
    x_span, _ = synth(duration=300.0, seizures=[(-20.0, 30.0)], seed=6)
    r = band_power(seg(x_span, 2, 25), 3, 8) / band_power(seg(x_none, 2, 25), 3, 8)
    assert np.median(r) > 5.0


# ---------------------------------------------------------------------------------------------
# Preictal effect
# ---------------------------------------------------------------------------------------------


def test_preictal_ramp_and_postictal_envelope_functions():
    eff = PreictalEffect(duration_sec=100.0)
    t = np.array([0.0, 99.0, 100.0, 150.0, 199.9, 200.0, 250.0])
    r = preictal_ramp(t, [(200.0, 230.0)], eff)
    np.testing.assert_allclose(r, [0.0, 0.0, 0.0, 0.5, 0.999, 0.0, 0.0], atol=1e-9)
    smooth = dataclasses.replace(eff, ramp="smooth")
    rs = preictal_ramp(np.array([100.0, 125.0, 150.0, 175.0]), [(200.0, 230.0)], smooth)
    np.testing.assert_allclose(rs, [0.0, 0.15625, 0.5, 0.84375])  # 3x^2 - 2x^3
    # overlapping windows of two seizures: the larger ramp wins
    r2 = preictal_ramp(np.array([150.0, 190.0]), [(200.0, 230.0), (160.0, 170.0)], eff)
    np.testing.assert_allclose(r2, [0.9, 0.9])
    p = postictal_envelope(np.array([199.0, 210.0, 230.0, 330.0]), [(200.0, 230.0)], 100.0)
    np.testing.assert_allclose(p, [0.0, 1.0, 1.0, np.exp(-1.0)])


def test_preictal_band_power_increases_before_onset():
    onset = 1000.0
    eff = PreictalEffect(effect_size=2.0, duration_sec=600.0, shared_fraction=0.5)
    labels = MONTAGE + ["T7", "FT9", "CZ", "O2"]
    profile = dataclasses.replace(PROFILE, spike_rate_per_h=60.0)
    x, events = synth(
        duration=1030.0,
        labels=labels,
        profile=profile,
        effect=eff,
        seizures=[(onset, onset + 25.0)],
        seed=7,
    )
    far = seg(x, 20.0, 380.0)  # > 600 s before onset: ramp is 0
    near = seg(x, onset - 180.0, onset - 2.0)  # ramp 0.7-1.0 -> +70-100 % referential power
    lo, hi = PROFILE.preictal_band_hz
    ratio = band_power(near, lo, hi) / band_power(far, lo, hi)
    patient = rows(ratio[:, None], labels, ["T7", "FT9", "T7-FT9", "T7-P7", "P7-O1"])[:, 0]
    other = rows(ratio[:, None], labels, ["FP2-F4", "C4-P4", "P8-O2", "CZ", "O2", "FZ-CZ"])[:, 0]
    assert patient.min() > 1.4 and np.all(np.abs(other - 1.0) < 0.15), (patient, other)
    # shared component: 14-20 Hz on the midline/central electrodes, in every patient
    slo, shi = SHARED_PREICTAL_BAND_HZ
    sratio = band_power(near, slo, shi) / band_power(far, slo, shi)
    shared = rows(sratio[:, None], labels, ["CZ", "FZ-CZ", "CZ-PZ", "C3-P3"])[:, 0]
    unshared = rows(sratio[:, None], labels, ["T7", "FP2-F8", "P8-O2", "FT9-FT10"])[:, 0]
    assert shared.min() > 1.4 and np.all(np.abs(unshared - 1.0) < 0.15), (shared, unshared)
    # spike rate at the focus rises towards onset: baseline 60/h, extra 60 * 4 * 2 * 0.5 * r(t)
    # per hour, i.e. 20 expected extra spikes over the linear 600-s ramp
    pre_spikes = [e for e in events if e["kind"] == "spike" and e["source"] == "preictal"]
    assert len(pre_spikes) >= 10
    base_spikes = [e for e in events if e["kind"] == "spike" and e["source"] == "baseline"]
    assert 5 <= len(base_spikes) <= 35  # 17 expected
    assert all(onset - 600.0 <= e["peak_sec"] < onset for e in pre_spikes)
    assert all(set(e["electrodes"]) & set(PROFILE.focus) for e in pre_spikes)


def test_preictal_effect_scales_with_effect_size():
    onset = 700.0
    lo, hi = PROFILE.preictal_band_hz
    ratios = []
    for size in (0.5, 1.0, 3.0):
        eff = PreictalEffect(effect_size=size, duration_sec=600.0, shared_fraction=0.0)
        x, _ = synth(duration=720.0, labels=["T7"], effect=eff, seizures=[(onset, 710)], seed=8)
        near = band_power(seg(x, onset - 120, onset), lo, hi)[0]
        far = band_power(seg(x, 0, 90), lo, hi)[0]
        ratios.append(near / far)
    # expected relative increase about size * mean(r) ~ 0.9 * size
    assert ratios[0] < ratios[1] < ratios[2]
    assert 1.2 < ratios[0] < 1.8 and 3.0 < ratios[2] < 4.6, ratios


def test_effect_size_zero_is_a_negative_control():
    onset = 600.0
    seizures = [(onset, onset + 40.0)]
    kw = dict(duration=700.0, seizures=seizures, artifacts=ArtifactRates(), seed=9)
    x0, ev0 = synth(effect=PreictalEffect(effect_size=0.0), **kw)
    x_none, ev_none = synth(effect=PreictalEffect(effect_size=0.0), **{**kw, "seizures": []})
    x1, ev1 = synth(effect=PreictalEffect(effect_size=2.0, duration_sec=300.0), **kw)
    i_on = int(onset * FS)
    # no seizure-dependent randomness: before onset the data are bit-identical without seizures
    assert np.array_equal(x0[:, :i_on], x_none[:, :i_on])
    assert [e for e in ev0 if e["start_sec"] < onset] == [
        e for e in ev_none if e["start_sec"] < onset
    ]
    assert not any(e.get("source") == "preictal" for e in ev0)
    # the effect only adds terms inside the ramp window
    i_ramp = int((onset - 300.0) * FS)
    assert np.array_equal(x1[:, :i_ramp], x0[:, :i_ramp])
    assert not np.array_equal(x1[:, i_ramp:i_on], x0[:, i_ramp:i_on])
    assert np.array_equal(x1[:, i_on + int(5 * FS) :], x0[:, i_on + int(5 * FS) :])


def test_within_patient_differs_from_cross_patient():
    """The patient-specific preictal change of patient A is absent in patient B's recording."""
    a = PROFILE
    b = dataclasses.replace(
        PROFILE, preictal_electrodes=("FP2", "F4", "F8"), preictal_band_hz=(3.0, 6.0)
    )
    eff = PreictalEffect(effect_size=2.0, duration_sec=600.0, shared_fraction=0.5)
    onset = 700.0
    lo, hi = a.preictal_band_hz
    ratios = {}
    for name, prof in (("a", a), ("b", b)):
        x, _ = synth(
            duration=720.0, labels=["T7-FT9"], profile=prof, effect=eff,
            seizures=[(onset, 710.0)], seed=10,
        )  # fmt: skip
        ratios[name] = (
            band_power(seg(x, onset - 150, onset), lo, hi)[0] / band_power(seg(x, 0, 90), lo, hi)[0]
        )
    assert ratios["a"] > 1.5 and abs(ratios["b"] - 1.0) < 0.15, ratios


# ---------------------------------------------------------------------------------------------
# Artifacts
# ---------------------------------------------------------------------------------------------


def test_blinks_on_frontal_channels_at_reported_times():
    art = ArtifactRates(blink_per_h=240.0, muscle_per_h=0.0, pop_per_h=0.0, flat_per_h=0.0)
    x, events = synth(duration=300.0, artifacts=art, seed=11)
    x0, _ = synth(duration=300.0, seed=11)
    blinks = [e for e in events if e["kind"] == "blink"]
    assert len(blinks) >= 8
    diff = x - x0  # the artifact terms exactly
    inside = np.zeros(x.shape[1], dtype=bool)
    for e in blinks:
        assert {"FP1", "FP2"} <= set(e["electrodes"])
        assert "FP1-F7" in e["channels"] and "P7-O1" not in e["channels"]
        assert 0.3 <= e["end_sec"] - e["start_sec"] <= 0.51
        assert 100.0 <= e["amplitude_uv"] <= 300.0
        i0, i1 = int(round(e["start_sec"] * FS)), int(round(e["end_sec"] * FS))
        inside[i0:i1] = True
        k = MONTAGE.index("FP1-F3")  # FP1 weight 1, F3 weight 0.2
        assert diff[k, i0:i1].max() >= 0.7 * e["amplitude_uv"]
    # visible in the recorded data: blink-locked average of the raw signal (background averages
    # out) shows a large positive deflection on frontal channels and nothing posteriorly
    starts = [int(round(e["start_sec"] * FS)) for e in blinks if 1.0 < e["start_sec"] < 298.0]
    epochs = np.stack([x[:, i - 64 : i + 192] for i in starts])
    erp = epochs.mean(axis=0) - epochs[:, :, :64].mean(axis=(0, 2))[:, None]
    fp = erp[[MONTAGE.index(c) for c in ("FP1-F3", "FP2-F4")]].max(axis=1)
    po = np.abs(erp[[MONTAGE.index(c) for c in ("P7-O1", "P3-O1", "C4-P4")]]).max(axis=1)
    assert fp.min() > 80.0 and po.max() < 25.0, (fp, po)  # measured ~150 vs ~10
    assert not np.any(diff[:, ~inside])  # nothing outside the reported windows
    frontal = np.abs(diff[[MONTAGE.index(c) for c in ("FP1-F7", "FP1-F3", "FP2-F8")]]).max()
    posterior = np.abs(diff[[MONTAGE.index(c) for c in ("P7-O1", "C3-P3", "P8-O2")]]).max()
    assert frontal > 80.0 and posterior < 0.05 * frontal


def test_muscle_pop_and_flat_events():
    art = ArtifactRates(blink_per_h=0.0, muscle_per_h=60.0, pop_per_h=60.0, flat_per_h=60.0)
    labels = MONTAGE + ["-", "ECG"]
    x, events = synth(duration=600.0, labels=labels, artifacts=art, seed=12)
    x0, _ = synth(duration=600.0, labels=labels, seed=12)
    kinds = {e["kind"] for e in events}
    assert kinds == {"muscle", "pop", "flat", "spike"}
    flats = [e for e in events if e["kind"] == "flat"]
    for e in flats:
        i0, i1 = int(round(e["start_sec"] * FS)), int(round(e["end_sec"] * FS))
        assert 2.0 <= e["end_sec"] - e["start_sec"] <= 10.0
        block = x[:, i0:i1]
        assert block.size and np.all(block == block[:, :1])  # exactly constant
        assert e["channels"] == list(dict.fromkeys(labels))
    flat_mask = np.zeros(x.shape[1], dtype=bool)
    for e in flats:
        flat_mask[int(round(e["start_sec"] * FS)) : int(round(e["end_sec"] * FS))] = True
    for e in events:
        if e["kind"] in ("flat", "spike"):
            continue
        i0, i1 = int(round(e["start_sec"] * FS)), int(round(e["end_sec"] * FS))
        if flat_mask[i0:i1].any():
            continue
        hit = [k for k, c in enumerate(labels) if c in e["channels"]]
        miss = [k for k in range(len(MONTAGE)) if k not in hit]
        d = np.abs(x[:, i0:i1] - x0[:, i0:i1])
        assert d[hit].max() > 30.0 and (not miss or d[miss].max() == 0.0)
        if e["kind"] == "muscle":
            assert 1.0 <= e["end_sec"] - e["start_sec"] <= 5.01
            assert set(e["electrodes"]) <= {"T7", "FT9", "F7", "P7", "T8", "FT10", "F8", "P8"}
            hf = band_power(x[hit, i0:i1], 25.0, 45.0) / band_power(x0[hit, i0:i1], 25.0, 45.0)
            assert hf.max() > 3.0
        if e["kind"] == "pop":
            assert len(e["electrodes"]) == 1
            k = hit[0]
            jump = x[k, i0] - x0[k, i0]
            assert abs(jump) >= 150.0 and abs(x[k, i1 - 1] - x0[k, i1 - 1]) < 0.05 * abs(jump)


def test_no_artifacts_means_no_artifact_events():
    _, events = synth(duration=600.0, seed=13)
    assert {e["kind"] for e in events} <= {"spike"}
