"""Our alarm metrics against an independent implementation: scitex-seizure-metrics 0.2.1
(`scitex_seizure_metrics.forecasting`, AGPL-3.0, a test-only dependency), on the same inputs.

Its definitions match ours (docs/EVALUATION.md) on inputs that avoid where they differ by design:
it has one timeline [0, T] (no gaps, no cases), removes [onset - SOP - SPH, onset + SOP] from the
false-alarm denominator where we remove [onset - SOP - SPH, seizure end + postictal], counts every
non-true alarm as false where we set apart those in excluded time, scores every onset passed to it,
and does not clip time in warning at T. So: one recording, seizures of 30 s with a 9-minute
postictal period (end + postictal = onset + SOP), all lead and scorable with their whole preictal
period recorded, no alarm in excluded time, and every warning horizon ending before T.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from preictal.alarms.postprocess import AlarmDetector, AlarmParams, WindowSeries, smooth_risk
from preictal.alarms.scoring import score_alarms
from preictal.labels import LabelParams

scitex = pytest.importorskip("scitex_seizure_metrics")
from scitex_seizure_metrics import AlarmPolicy, _alarm, forecasting  # noqa: E402

SPH, SOP, DURATION = 30.0, 570.0, 30.0
LP = LabelParams(preictal_min=10, gap_sec=SPH, postictal_min=(SOP - DURATION) / 60)
T = 12 * 3600.0


def scenario(rng: np.random.Generator):
    """Random onsets (lead seizures, preictal fully recorded) and alarms outside excluded time,
    every horizon inside [0, T]."""
    onsets = []
    t = rng.uniform(SPH + SOP + 600, 3 * 3600)
    while t < T - 3600:
        onsets.append(t)
        t += rng.uniform(2 * 3600, 4 * 3600)  # lead: far more than 30 min apart
    onsets = np.array(onsets)
    excluded = [(o - SPH, o + SOP) for o in onsets]  # the SPH, the seizure, the postictal period
    alarms = []
    for a in np.sort(rng.uniform(0, T - SPH - SOP, rng.integers(5, 40))):
        if not any(lo < a <= hi for lo, hi in excluded):
            alarms.append(a)
    # Alarms inside preictal horizons as well, so that seizures get caught.
    for o in onsets[rng.random(onsets.size) < 0.7]:
        alarms.append(o - rng.uniform(SPH, SPH + SOP))
    return onsets, np.sort(np.array(alarms))


def ours(onsets, alarms):
    recorded = pd.DataFrame({"start_sec": [0.0], "end_sec": [T]})
    ledger = pd.DataFrame(
        {
            "onset_sec": onsets,
            "end_sec": onsets + DURATION,
            "lead": True,
            "scorable": True,
        }
    )
    return score_alarms(alarms, recorded, ledger, LP)


def theirs(onsets, alarms):
    policy = AlarmPolicy(
        sph_seconds=SPH,
        sop_seconds=SOP,
        cadence_seconds=5.0,
        refractory_seconds=0.0,
        fp_denominator="interictal",
    )
    return forecasting.evaluate(
        alarms, onsets, policy, total_recording_time=T, n_surrogate=0, rng_seed=0
    )


def test_hand_checked_case_agrees():
    onsets = np.array([3600.0, 10800.0])
    alarms = np.array([3000.0, 3300.0, 6000.0, 8000.0, 10770.0, 13000.0])
    m, r = ours(onsets, alarms), theirs(onsets, alarms)
    assert m.sensitivity == r.sensitivity == 1.0
    assert m.n_false_alarms == r.n_fp == 3
    # 12 h minus, per seizure, SOP + SPH before it, 30 s of seizure and 540 s postictal: 1170 s.
    assert m.interictal_hours * 3600 == pytest.approx(r.extras["interictal_seconds"]) == 40860
    assert m.fah == pytest.approx(r.fp_per_hour)
    assert m.time_in_warning == pytest.approx(r.time_in_warning_frac)
    ttw = m.seizures.time_to_warning_sec.to_numpy()
    np.testing.assert_allclose(np.sort(ttw), np.sort(r.extras["lead_times_seconds"]))


@pytest.mark.parametrize("seed", range(20))
def test_random_scenarios_agree(seed):
    onsets, alarms = scenario(np.random.default_rng(seed))
    m, r = ours(onsets, alarms), theirs(onsets, alarms)
    assert m.alarms_excluded == 0  # the scenario avoids the definitions' difference
    assert m.n_caught == r.n_tp and m.sensitivity == pytest.approx(r.sensitivity)
    assert m.n_false_alarms == r.n_fp
    assert m.fah == pytest.approx(r.fp_per_hour)
    assert m.time_in_warning == pytest.approx(r.time_in_warning_frac)
    caught = m.seizures.time_to_warning_sec.dropna().to_numpy()
    np.testing.assert_allclose(np.sort(caught), np.sort(r.extras["lead_times_seconds"]))


@pytest.mark.parametrize("refractory_min", [0.0, 5.0, 20.0])
def test_threshold_crossings_with_refractory_period_agree(refractory_min):
    """Alarm generation: a threshold crossing with a refractory period, no smoothing, persistence
    or hysteresis, equals their `proba_stream_to_alarms` without merging."""
    rng = np.random.default_rng(3)
    n = 4000
    logit = np.zeros(n)
    for i in range(1, n):
        logit[i] = 0.95 * logit[i - 1] + rng.normal(0, 0.5)
    score = 1 / (1 + np.exp(-logit))
    start = 5.0 * np.arange(n)
    pred = pd.DataFrame(
        {
            "case": "chb01",
            "segment": 0,
            "start_sec": start,
            "end_sec": start + 10,
            "bad": False,
            "score": score,
        }
    )
    params = AlarmParams(smoothing="none", refractory_min=refractory_min)
    series = WindowSeries.from_predictions(pred, params.gap_tolerance_sec)
    detector = AlarmDetector(series, smooth_risk(series, params), params)
    total = 0
    for threshold in (0.5, 0.6, 0.7):
        mine = series.end_sec[detector.alarms(threshold)]
        ref = _alarm.proba_stream_to_alarms(
            score, start + 10, threshold, refractory_min * 60, merge_consecutive=False
        )
        np.testing.assert_array_equal(mine, np.asarray(ref, dtype=float))
        total += mine.size
    assert total > 20  # not vacuous
