"""Alarms and their evaluation on hand-computed cases, the vectorised paths against the plain loops,
and a Poisson simulation of the false-alarm rate and time in warning.

Label defaults throughout: SPH = gap_sec = 30 s, SOP = 10 * 60 - 30 = 570 s, postictal 600 s, so a
seizure with onset o and end e removes [o - 600, e + 600] from the interictal time."""

from __future__ import annotations

import math
from itertools import product

import numpy as np
import pandas as pd
import pytest

from preictal.alarms.postprocess import (
    PLAIN_ALARMS,
    AlarmParams,
    WindowSeries,
    raise_alarms,
    smooth_risk,
    with_baseline,
)
from preictal.alarms.scoring import PartEvaluator, evaluate_predictions, score_alarms
from preictal.alarms.tuning import (
    candidate_thresholds,
    sensitivity_at_fah,
    threshold_curve,
    tune_thresholds,
)
from preictal.labels import LabelParams
from tests.alarms.reference import baseline_reference, raise_alarms_reference, smooth_risk_reference

LP = LabelParams()
SPH, SOP = 30.0, 570.0


def ledger(*seizures, case="chb99", segment=0):
    """Ledger rows from (onset, end) or (onset, end, lead, scorable)."""
    rows = [s if len(s) == 4 else (*s, True, True) for s in seizures]
    return pd.DataFrame(
        {
            "case": case,
            "segment": segment,
            "seizure": range(len(rows)),
            "onset_sec": [float(r[0]) for r in rows],
            "end_sec": [float(r[1]) for r in rows],
            "lead": [r[2] for r in rows],
            "scorable": [r[3] for r in rows],
        },
        index=range(len(rows)),
    )


def recorded(*intervals, case="chb99", segment=0):
    return pd.DataFrame(
        {
            "case": case,
            "segment": segment,
            "start_sec": [float(a) for a, _ in intervals],
            "end_sec": [float(b) for _, b in intervals],
        }
    )


def windows(starts, scores, bad=False, case="chb99", segment=0, file="chb99_01.edf"):
    """10 s windows starting at ``starts``."""
    starts = np.asarray(starts, dtype=float)
    return pd.DataFrame(
        {
            "case": case,
            "segment": segment,
            "file": file,
            "part": "val",
            "start_sec": starts,
            "end_sec": starts + 10,
            "bad": np.broadcast_to(np.asarray(bad, dtype=bool), starts.shape),
            "score": np.asarray(scores, dtype=float),
        }
    )


def alarm_ends(frame, threshold, **params):
    """Alarm times (window ends) from both the reference loop and the fast path, checked equal.
    The risk is not smoothed unless ``params`` say so."""
    p = AlarmParams(**{"smoothing": "none", **params})
    series = WindowSeries.from_predictions(frame, p.gap_tolerance_sec)
    smoothed = smooth_risk(series, p)
    ref = raise_alarms_reference(series, smoothed, threshold, p)
    np.testing.assert_array_equal(raise_alarms(series, smoothed, threshold, p), ref)
    return series.end_sec[ref].tolist()


# --- Truth, horizon and time to warning ----------------------------------------------------------

# Recorded [0, 36000], one seizure [20000, 20060]. True alarms: t in [20000 - 600, 20000 - 30]
# = [19400, 19970]; excluded time [19400, 20660]; everything else recorded is interictal.
HORIZON_CASES = [
    (19700, "true", 300.0),  # onset 300 s ahead: inside [30, 600]
    (19400, "true", 600.0),  # exactly SPH + SOP ahead: the horizon's far end, included
    (19970, "true", 30.0),  # exactly SPH ahead: the horizon's near end, included
    (19399, "false", None),  # 601 s ahead: beyond SPH + SOP, and in interictal time
    (19971, "excluded", None),  # 29 s ahead: inside the SPH, too late; not interictal time
    (20030, "excluded", None),  # during the seizure
    (20600, "excluded", None),  # postictal (end + 540 s)
    (20661, "false", None),  # just after the postictal period
]


@pytest.mark.parametrize("t, kind, ttw", HORIZON_CASES)
def test_alarm_relative_to_horizon(t, kind, ttw):
    m = score_alarms([t], recorded((0, 36000)), ledger((20000, 20060)), LP)
    assert m.alarms.kind.tolist() == [kind]
    assert (m.n_true_alarms, m.n_false_alarms, m.alarms_excluded) == (
        int(kind == "true"),
        int(kind == "false"),
        int(kind == "excluded"),
    )
    assert m.n_seizures_scored == 1
    assert m.n_caught == int(ttw is not None)
    assert m.sensitivity == (1.0 if ttw is not None else 0.0)
    if ttw is None:
        assert math.isnan(m.mean_time_to_warning_sec)
    else:
        assert m.mean_time_to_warning_sec == ttw
        assert m.seizures.first_true_alarm_sec.tolist() == [t]


def test_time_to_warning_uses_the_first_true_alarm():
    # Alarms at 19500 and 19800 both precede onset 20000 within the horizon: ttw = 20000 - 19500.
    m = score_alarms([19800, 19500], recorded((0, 36000)), ledger((20000, 20060)), LP)
    assert m.n_true_alarms == 2
    assert m.seizures.time_to_warning_sec.tolist() == [500.0]
    assert m.median_time_to_warning_sec == 500.0


# --- FAH denominator ------------------------------------------------------------------------------


def test_fah_denominator_with_a_gap_and_seizures():
    # Files [0, 7200] and [9000, 16200]: 4 h recorded, the gap [7200, 9000] is not.
    # Seizure A [9200, 9260]: excluded [8600, 9860], of which [9000, 9860] = 860 s is recorded.
    #   Its preictal period [8600, 9170] has 170 of 570 s recorded: the ledger marks it unscorable.
    # Seizure B [12000, 12100]: excluded [11400, 12700] = 1300 s, all recorded.
    # Interictal = 14400 - 860 - 1300 = 12240 s = 3.4 h.
    # Alarms: 1000 and 10000 false; 11500 true (B 500 s ahead); 12500 postictal of B, excluded.
    m = score_alarms(
        [1000, 10000, 11500, 12500],
        recorded((0, 7200), (9000, 16200)),
        ledger((9200, 9260, True, False), (12000, 12100)),
        LP,
    )
    assert m.recorded_hours == pytest.approx(4.0)
    assert m.interictal_hours == pytest.approx(3.4)
    assert (m.n_alarms, m.n_true_alarms, m.n_false_alarms, m.alarms_excluded) == (4, 1, 2, 1)
    assert m.fah == pytest.approx(2 / 3.4)
    assert m.fah_total_time == pytest.approx(3 / 4.0)  # all 3 non-true alarms over 4 h
    assert (m.n_seizures_scored, m.n_caught, m.sensitivity) == (1, 1, 1.0)
    assert m.excluded_seizures["preictal_not_recorded"] == 1
    assert m.summary()["excluded_preictal_not_recorded"] == 1


def test_alarm_in_a_recording_gap_is_an_error():
    with pytest.raises(ValueError, match="outside the part's recorded time"):
        score_alarms([8000], recorded((0, 7200), (9000, 16200)), ledger(), LP)


def test_seizures_scored_only_with_onset_and_preictal_period_in_the_part():
    # The part records only [3600, 7200] (the file [0, 3600] belongs to the other part).
    # X onset 3700: preictal [3100, 3670] has 70 s in the part (12 %) -> preictal_not_in_part.
    # Y onset 1800 lies in the other part's file -> onset_not_in_part.
    # Z onset 6000 is not a lead seizure -> not_lead.
    # An alarm at 3650 still predicts X (50 s ahead): true, though X is not scored.
    m = score_alarms(
        [3650, 5000],
        recorded((3600, 7200)),
        ledger((3700, 3760), (1800, 1850), (6000, 6050, False, False)),
        LP,
    )
    assert m.excluded_seizures == {
        "onset_not_in_part": 1,
        "not_lead": 1,
        "preictal_not_recorded": 0,
        "preictal_not_in_part": 1,
    }
    assert m.n_seizures_scored == 0 and math.isnan(m.sensitivity)
    assert m.seizures.preictal_in_part_fraction.iloc[0] == pytest.approx(70 / 570)
    # 5000 is before Z's excluded time [5400, 6650] and after X's [3100, 4360]: a false alarm.
    assert m.alarms.kind.tolist() == ["true", "false"]


def test_cases_are_separate_timelines():
    # Two cases with the same clock times; only chb01 has a seizure at 20000. An alarm at 19700
    # predicts it in chb01 but is false in chb21, whose interictal time is its whole 10 h file.
    rec = pd.concat([recorded((0, 36000), case="chb01"), recorded((0, 36000), case="chb21")])
    alarms = pd.DataFrame({"case": ["chb01", "chb21"], "segment": 0, "time_sec": [19700.0] * 2})
    m = score_alarms(alarms, rec, ledger((20000, 20060), case="chb01"), LP)
    assert m.alarms.kind.tolist() == ["true", "false"]
    # chb01: 36000 - 1260 s interictal; chb21: 36000 s.
    assert m.interictal_hours == pytest.approx((36000 - 1260 + 36000) / 3600)
    assert m.recorded_hours == pytest.approx(20.0)


# --- Time in warning ----------------------------------------------------------------------------


def test_time_in_warning_overlapping_and_clipped_at_recording_end():
    # Recorded [0, 3600], no seizure. Horizons [t + 30, t + 600]:
    # 100 -> [130, 700], 400 -> [430, 1000]; union [130, 1000] = 870 s.
    # 3300 -> [3330, 3900], clipped at the recording end to [3330, 3600] = 270 s.
    # (870 + 270) / 3600 = 0.316667.  Three false alarms in 1 h.
    m = score_alarms([100, 400, 3300], recorded((0, 3600)), ledger(), LP)
    assert m.time_in_warning == pytest.approx(1140 / 3600)
    assert m.fah == pytest.approx(3.0) and m.fah_total_time == pytest.approx(3.0)


def test_time_in_warning_excludes_a_gap_inside_the_horizon():
    # Files [0, 500] and [800, 3600] (3300 s). Alarm at 200: horizon [230, 800] is recorded only
    # on [230, 500] = 270 s.
    m = score_alarms([200], recorded((0, 500), (800, 3600)), ledger(), LP)
    assert m.time_in_warning == pytest.approx(270 / 3300)


# --- Post-processing: refractory, persistence, hysteresis ---------------------------------------


def test_refractory_period_suppresses_alarms():
    # Windows start 0, 5, ..., 3590 (ends 10 ... 3600), all at risk 0.9 > 0.5.
    # Refractory 20 min: alarms at the first end (10), then the first end >= 10 + 1200, and so on:
    # 10, 1210, 2410 (3610 is past the last end).
    frame = windows(np.arange(0, 3591, 5), 0.9)
    assert alarm_ends(frame, 0.5, refractory_min=20) == [10.0, 1210.0, 2410.0]
    assert len(alarm_ends(frame, 0.5, refractory_min=0)) == 719  # every window


def test_refractory_period_spans_gaps_but_not_timelines():
    # Files [0, 500] and [600, 2000] of one case: the alarm at 10 silences everything up to 1210,
    # across the gap. The same windows in a second case raise their own alarm at 10.
    starts = np.r_[np.arange(0, 491, 5), np.arange(600, 1991, 5)]
    one = windows(starts, 0.9, case="chb01")
    assert alarm_ends(one, 0.5, refractory_min=20) == [10.0, 1210.0]
    two = pd.concat([one, windows(starts, 0.9, case="chb21")])
    assert alarm_ends(two, 0.5, refractory_min=20) == [10.0, 1210.0, 10.0, 1210.0]


def test_persistence_three_windows():
    # Risk by window: 0.1 0.9 0.9 0.2 0.9 0.9 0.9 0.9, threshold 0.5, k = 3.
    # Runs of windows >= 0.5 end at positions 2 (length 2) and 4..7; the count reaches 3 at
    # position 6 (start 30, end 40). Refractory 20 min keeps it to one alarm.
    frame = windows(np.arange(8) * 5, [0.1, 0.9, 0.9, 0.2, 0.9, 0.9, 0.9, 0.9])
    assert alarm_ends(frame, 0.5, persistence_k=3) == [40.0]
    assert alarm_ends(frame, 0.5, persistence_k=1) == [15.0]  # position 1 (start 5, end 15)
    assert alarm_ends(frame, 0.5, persistence_k=5) == []


def test_hysteresis_rearms_below_the_reset_threshold():
    # Risk 0.7 0.8 0.5 0.7 0.2 0.65 (ends 10, 15, 20, 25, 30, 35), threshold 0.6, no refractory.
    risk = [0.7, 0.8, 0.5, 0.7, 0.2, 0.65]
    frame = windows(np.arange(6) * 5, risk)
    # Off: every window >= 0.6 alarms: positions 0, 1, 3, 5.
    assert alarm_ends(frame, 0.6, refractory_min=0) == [10.0, 15.0, 25.0, 35.0]
    # 0.5 * 0.6 = 0.3: disarmed after position 0 until 0.2 (position 4); next alarm position 5.
    assert alarm_ends(frame, 0.6, refractory_min=0, hysteresis=0.5) == [10.0, 35.0]
    # 1.0 * 0.6 = 0.6: 0.5 re-arms, so positions 0, 3, 5.
    assert alarm_ends(frame, 0.6, refractory_min=0, hysteresis=1.0) == [10.0, 25.0, 35.0]


def test_hysteresis_rearms_at_a_gap():
    # 0.7 0.8 | gap | 0.8: disarmed after the first alarm, re-armed by the new run.
    frame = windows([0, 5, 100], [0.7, 0.8, 0.8])
    assert alarm_ends(frame, 0.6, refractory_min=0, hysteresis=0.5) == [10.0, 110.0]


# --- Smoothing, gaps and bad windows --------------------------------------------------------------


def smoothed_both(frame, **params):
    p = AlarmParams(**params)
    series = WindowSeries.from_predictions(frame, p.gap_tolerance_sec)
    fast, ref = smooth_risk(series, p), smooth_risk_reference(series, p)
    np.testing.assert_allclose(fast, ref, equal_nan=True)
    return fast


def test_ema_and_moving_average_restart_at_a_gap():
    # Run 1: starts 0, 5, 10, risk 0 1 1; run 2 starts at 100 (90 s unrecorded): risk 1 0.
    # EMA alpha 0.5: 0, 0.5, 0.75 | 1 (restart at the first value), 0.5.
    # Without the restart the last two would be 0.875, 0.4375.
    frame = windows([0, 5, 10, 100, 105], [0, 1, 1, 1, 0])
    np.testing.assert_allclose(
        smoothed_both(frame, smoothing="ema", ema_alpha=0.5), [0, 0.5, 0.75, 1, 0.5]
    )
    # Moving average over 2 windows: 0, 0.5, 1 | 1, 0.5.
    np.testing.assert_allclose(
        smoothed_both(frame, smoothing="moving_average", ma_windows=2), [0, 0.5, 1, 1, 0.5]
    )


def test_runs_split_only_on_unrecorded_time():
    # Overlapping windows, and a file boundary with no unrecorded time (start 20 = previous end
    # 20), stay one run; a 6 s gap (start 36 after end 30) starts a new one.
    frame = windows([0, 5, 10, 20, 36], 0.5)
    series = WindowSeries.from_predictions(frame, gap_tolerance_sec=1.0)
    assert series.run_start.tolist() == [True, False, False, False, True]


def test_bad_windows_hold_the_smoothed_risk():
    # EMA alpha 0.5 over 0.2, (bad 0.9), 0.6: 0.2, held 0.2, 0.5 * 0.6 + 0.5 * 0.2 = 0.4.
    frame = windows([0, 5, 10], [0.2, 0.9, 0.6], bad=[False, True, False])
    np.testing.assert_allclose(
        smoothed_both(frame, smoothing="ema", ema_alpha=0.5), [0.2, 0.2, 0.4]
    )
    # A run that begins with a bad window (or a NaN score) has no smoothed risk there yet.
    frame = windows([0, 5, 10], [0.9, np.nan, 0.4], bad=[True, False, False])
    np.testing.assert_allclose(smoothed_both(frame, smoothing="ema"), [np.nan, np.nan, 0.4])


def test_bad_windows_neither_trigger_nor_interrupt_persistence():
    # A lone bad window at 0.99 raises nothing.
    frame = windows([0, 5, 10], [0.1, 0.99, 0.1], bad=[False, True, False])
    assert alarm_ends(frame, 0.5) == []
    # 0.9, (bad 0.1), 0.9 with k = 2: the bad window is skipped, the second 0.9 (end 20) is the
    # second good window in a row above 0.5.
    frame = windows([0, 5, 10], [0.9, 0.1, 0.9], bad=[False, True, False])
    assert alarm_ends(frame, 0.5, persistence_k=2) == [20.0]


# --- Fast paths against the reference loops -----------------------------------------------------


def random_part(rng, n_files=6):
    """Two cases, two segments each, files of random length with gaps of 0 to 2000 s between
    them, an AR(1) risk, 10 % bad windows (some in bursts) and a few NaN scores."""
    frames = []
    for case, segment in product(["chb01", "chb21"], [0, 1]):
        t = 0.0
        for f in range(n_files):
            n = int(rng.integers(1, 120))
            starts = t + 5.0 * np.arange(n)
            logit = np.zeros(n)
            for i in range(1, n):
                logit[i] = 0.9 * logit[i - 1] + rng.normal(0, 1)
            bad = rng.random(n) < 0.08
            if n > 10 and rng.random() < 0.5:
                b = int(rng.integers(0, n - 5))
                bad[b : b + 5] = True
            score = 1 / (1 + np.exp(-logit))
            score[rng.random(n) < 0.01] = np.nan
            frame = windows(starts, score, bad=bad, case=case, segment=segment)
            frames.append(frame.assign(file=f"{case}_{segment}_{f}.edf"))
            t = starts[-1] + 10 + rng.choice([0.0, 0.5, 3.0, 50.0, 2000.0])
    return pd.concat(frames, ignore_index=True)


PARAM_GRID = [
    dict(smoothing=s, persistence_k=k, hysteresis=h, refractory_min=r)
    for s, k, h, r in product(
        ["none", "ema", "moving_average"], [1, 3], [None, 0.7, 1.0], [0.0, 0.5, 5.0]
    )
]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_paths_equal_the_reference_loops(seed):
    rng = np.random.default_rng(seed)
    frame = random_part(rng).sample(frac=1.0, random_state=seed)  # from_predictions sorts
    n_alarms = 0
    for params in PARAM_GRID:
        p = AlarmParams(**params)
        series = WindowSeries.from_predictions(frame, p.gap_tolerance_sec)
        smoothed = smooth_risk(series, p)
        np.testing.assert_allclose(smoothed, smooth_risk_reference(series, p), equal_nan=True)
        for q in [0.2, 0.5, 0.8, 0.95, 1.0]:
            threshold = float(np.nanquantile(smoothed, q))
            ref = raise_alarms_reference(series, smoothed, threshold, p)
            np.testing.assert_array_equal(raise_alarms(series, smoothed, threshold, p), ref)
            n_alarms += ref.size
    assert n_alarms > 1000  # the comparison is not vacuous


# --- Evaluation of predictions and the threshold sweep -----------------------------------------


def synthetic_part(seed=0, hours=14.0, case="chb01"):
    """Windows every 5 s in two files (gap 600 s), seizures every ~2 h, risk rising before
    each onset plus noise. Returns predictions (one part), ledger and file index."""
    rng = np.random.default_rng(seed)
    half = hours * 3600 / 2
    files = pd.DataFrame(
        {
            "case": case,
            "file": [f"{case}_01.edf", f"{case}_02.edf"],
            "segment": 0,
            "start_sec": [0.0, half + 600],
            "end_sec": [half, 2 * half + 600],
        }
    )
    onsets = np.array([3000.0, 10000, 17000, half + 4000, half + 11000, half + 20000])
    frames = []
    for f in files.itertuples():
        starts = np.arange(f.start_sec, f.end_sec - 10 + 1e-9, 5.0)
        ahead = onsets[None, :] - (starts[:, None] + 10)
        near = ((ahead > 0) & (ahead < 900)).any(axis=1)
        logit = rng.normal(-3, 1.5, starts.size) + 3.5 * near
        frames.append(
            windows(starts, 1 / (1 + np.exp(-logit)), bad=rng.random(starts.size) < 0.05).assign(
                case=case, file=f.file
            )
        )
    pred = pd.concat(frames, ignore_index=True)
    seizures = ledger(*[(o, o + 60) for o in onsets], case=case)
    return pred, seizures, files


def test_evaluate_predictions_by_hand():
    # One file [0, 7200]; seizure [5000, 5060], excluded [4400, 5660] = 1260 s, so the interictal
    # time is 5940 s = 1.65 h. Risk 0.9 in the windows starting 1000 and 4600..4695, else 0.1.
    # Threshold 0.5, refractory 20 min: alarms at 1010 (false) and 4610 (true, 390 s ahead).
    starts = np.arange(0, 7191, 5.0)
    risk = np.where((starts == 1000) | ((starts >= 4600) & (starts < 4700)), 0.9, 0.1)
    pred = windows(starts, risk)
    files = pd.DataFrame(
        {
            "case": "chb99",
            "file": "chb99_01.edf",
            "segment": 0,
            "start_sec": 0.0,
            "end_sec": 7200.0,
        },
        index=[0],
    )
    plain = AlarmParams(smoothing="none")
    m = evaluate_predictions(pred, ledger((5000, 5060)), files, LP, plain, 0.5)
    assert m.alarms.time_sec.tolist() == [1010.0, 4610.0]
    assert m.alarms.kind.tolist() == ["false", "true"]
    assert m.interictal_hours == pytest.approx(1.65)
    assert m.fah == pytest.approx(1 / 1.65)
    assert (m.sensitivity, m.mean_time_to_warning_sec) == (1.0, 390.0)
    # Time in warning: 1010 -> [1040, 1610], 4610 -> [4640, 5210]: 2 * 570 s of 7200 s.
    assert m.time_in_warning == pytest.approx(1140 / 7200)


def test_evaluate_predictions_refuses_mixed_parts():
    pred, seizures, files = synthetic_part()
    pred.loc[pred.index[:10], "part"] = "test"
    with pytest.raises(ValueError, match="one part at a time"):
        evaluate_predictions(pred, seizures, files, LP, PLAIN_ALARMS, 0.5)


@pytest.mark.parametrize(
    "params",
    [
        AlarmParams(smoothing="none"),
        AlarmParams(smoothing="ema", persistence_k=3, hysteresis=0.8),
    ],
)
def test_curve_equals_evaluation_at_each_threshold(params):
    pred, seizures, files = synthetic_part()
    curve = threshold_curve(pred, seizures, files, LP, params, n_thresholds=40)
    assert curve.threshold.is_monotonic_increasing
    assert curve.n_alarms.iloc[-1] == 0  # the threshold above the maximum
    assert curve.sensitivity.max() > 0.5  # the planted rise is caught at some threshold
    for row in curve.iloc[::7].itertuples():
        m = evaluate_predictions(pred, seizures, files, LP, params, row.threshold)
        got = {k: getattr(row, k) for k in ["n_alarms", "n_false_alarms", "n_caught"]}
        assert got == {k: getattr(m, k) for k in got}
        assert row.fah == pytest.approx(m.fah)
        assert row.time_in_warning == pytest.approx(m.time_in_warning)


def test_candidates_resolve_the_highest_excursions():
    """The low FAH targets are decided by the few highest windows: every one of the ten highest
    (isolated peaks in 10,000 windows, 0.1 % of them) gets a candidate of its own, so the sweep
    can allow exactly k alarms for every k up to 10. Evenly spaced quantiles (one per 0.5 % of
    the windows) would jump from the highest one to all ten."""
    rng = np.random.default_rng(3)
    risk = rng.uniform(0.0, 0.5, 10_000)
    peaks = rng.choice(np.arange(10, 10_000, 20), 10, replace=False)
    risk[peaks] = np.linspace(0.91, 0.99, 10)
    good = np.ones(risk.size, dtype=bool)
    candidates = candidate_thresholds(risk, good)
    assert len(candidates) <= 201
    n_above = {int((risk >= t).sum()) for t in candidates}
    assert set(range(11)) <= n_above
    even = np.unique(np.quantile(risk, np.linspace(0, 1, 200), method="lower"))
    assert not set(range(2, 10)) & {int((risk >= t).sum()) for t in even}  # only the maximum


def test_sweep_of_ten_thousand_windows_tries_many_thresholds():
    """Its speed is measured by benchmarks/bench_alarms.py, not here (tests do not time)."""
    pred, seizures, files = synthetic_part(hours=10_000 * 5 / 3600)
    assert 9_900 <= len(pred) <= 10_000
    params = AlarmParams(smoothing="ema", persistence_k=3, hysteresis=0.8)
    curve = threshold_curve(pred, seizures, files, LP, params)
    assert len(curve) > 150
    assert curve.threshold.is_monotonic_increasing


def by_hand_curve():
    return pd.DataFrame(
        {
            "threshold": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
            "fah": [3.0, 0.9, 0.45, 0.3, 0.15, 0.05, 0.0],
            "sensitivity": [1.0, 0.75, 0.75, 0.75, 0.5, 0.0, 0.0],
            "time_in_warning": [0.5, 0.3, 0.2, 0.15, 0.1, 0.05, 0.0],
            "n_alarms": [60, 20, 12, 9, 5, 2, 0],
        }
    )


@pytest.mark.parametrize("tie_break", ["lowest", "highest"])
def test_tune_thresholds_picks(tie_break):
    picks = tune_thresholds(
        by_hand_curve(), targets=(0.1, 0.2, 0.5, 1.0, 5.0), tie_break=tie_break
    ).set_index("target_fah")
    # 0.1: only 0.6 and 0.7 meet it, neither catches anything: the lowest (0.6), flagged.
    assert picks.loc[0.1, "threshold"] == 0.6 and picks.loc[0.1, "flag"] != ""
    # 0.2: 0.5, 0.6, 0.7 meet it; best sensitivity 0.5 at 0.5 alone.
    assert picks.loc[0.2, "threshold"] == 0.5 and picks.loc[0.2, "sensitivity"] == 0.5
    if tie_break == "lowest":
        # 0.5: 0.3 .. 0.7 meet it; 0.75 at both 0.3 and 0.4: the lower, 0.3 (FAH 0.45).
        assert picks.loc[0.5, "threshold"] == 0.3 and picks.loc[0.5, "fah"] == 0.45
        # 1.0: 0.2 .. 0.7; 0.75 at 0.2, 0.3, 0.4 -> 0.2.
        assert picks.loc[1.0, "threshold"] == 0.2
    else:
        # The tie goes to the higher: 0.4 (FAH 0.3) at both targets.
        assert picks.loc[0.5, "threshold"] == 0.4 and picks.loc[0.5, "fah"] == 0.3
        assert picks.loc[1.0, "threshold"] == 0.4
    # 5.0: everything; 1.0 at 0.1 alone.
    assert picks.loc[5.0, "threshold"] == 0.1 and picks.loc[5.0, "n_alarms"] == 60
    assert (picks.loc[[0.2, 0.5, 1.0, 5.0], "flag"] == "").all()


def test_tune_thresholds_refuses_an_unknown_tie_break():
    with pytest.raises(ValueError, match="tie_break"):
        tune_thresholds(by_hand_curve(), targets=(0.5,), tie_break="middle")


def test_tune_thresholds_without_seizures_or_interictal_time():
    no_seizures = by_hand_curve().assign(sensitivity=np.nan)
    pick = tune_thresholds(no_seizures, targets=(0.5,)).iloc[0]
    assert pick.threshold == 0.3 and "no scored seizure" in pick.flag  # lowest meeting 0.5
    no_interictal = by_hand_curve().assign(fah=np.nan)
    pick = tune_thresholds(no_interictal, targets=(0.5,)).iloc[0]
    assert pick.threshold == 0.7 and "no threshold meets" in pick.flag


def test_sensitivity_at_fah():
    curve = by_hand_curve()
    assert sensitivity_at_fah(curve, 0.5) == 0.75
    assert sensitivity_at_fah(curve, 0.2) == 0.5
    assert sensitivity_at_fah(curve, 0.01) == 0.0  # only the no-alarm threshold
    assert math.isnan(sensitivity_at_fah(curve.assign(sensitivity=np.nan), 1.0))


def test_part_evaluator_alarms_point_back_to_prediction_rows():
    pred, seizures, files = synthetic_part()
    shuffled = pred.sample(frac=1.0, random_state=3)
    part = PartEvaluator(shuffled, seizures, files, LP, AlarmParams(smoothing="none"))
    alarms = part.alarms(0.9)
    assert len(alarms) > 0
    rows = shuffled.iloc[alarms.row.to_numpy()]
    np.testing.assert_array_equal(rows.end_sec.to_numpy(), alarms.time_sec.to_numpy())
    assert (rows.score >= 0.9).all() and not rows.bad.any()


# --- Poisson simulation ----------------------------------------------------------------------


def test_poisson_alarms_give_their_rate_and_the_expected_time_in_warning():
    # Alarms as a Poisson process at r = 1 per hour over T = 2000 h without seizures.
    # FAH = N / T with N ~ Poisson(r T): SD sqrt(r T) / T = 0.022 per hour.
    # A point is out of warning when no alarm fell in the SOP before it (minus SPH), so the
    # expected time in warning is 1 - exp(-r L) with L = SOP = 570 s = 0.1583 h: 0.1464.
    # Its variance over T is about (2 / T) * integral of the covariance of the covered
    # indicator, exp(-2 r L) * ((exp(r L) - 1) / r - L) = 0.0096 h: SD = 0.0031.
    r, hours, L = 1.0, 2000.0, SOP / 3600
    rng = np.random.default_rng(20261125)
    n = rng.poisson(r * hours)
    times = np.sort(rng.uniform(0, hours * 3600, n))
    m = score_alarms(times, recorded((0, hours * 3600)), ledger(), LP)
    assert m.n_false_alarms == n
    assert abs(m.fah - r) < 4 * math.sqrt(r * hours) / hours
    sd_warning = math.sqrt(2 / hours * math.exp(-2 * r * L) * ((math.exp(r * L) - 1) / r - L))
    assert abs(m.time_in_warning - (1 - math.exp(-r * L))) < 4 * sd_warning


# --- Parameters -----------------------------------------------------------------------------------


def test_alarm_params_from_config():
    p = AlarmParams(**{"smoothing": "ema", "persistence_k": 3, "hysteresis": 0.8})
    assert (p.smoothing, p.persistence_k, p.hysteresis, p.refractory_sec) == ("ema", 3, 0.8, 1200)
    with pytest.raises(TypeError, match="persistance_k"):
        AlarmParams(**{"persistance_k": 3})
    with pytest.raises(ValueError, match="smoothing"):
        AlarmParams(smoothing="median")


# --- Baseline (risk relative to the patient's recent level) -------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("minutes", [2.0, 10.0])
def test_baseline_fast_path_equals_the_reference_loop(seed, minutes):
    rng = np.random.default_rng(seed)
    frame = random_part(rng).sample(frac=1.0, random_state=seed)
    p = AlarmParams(baseline_min=minutes, baseline_min_windows=6)
    series = WindowSeries.from_predictions(frame, p.gap_tolerance_sec)
    fast = with_baseline(series, p)
    ref = baseline_reference(series, p)
    np.testing.assert_allclose(fast.score, ref, rtol=1e-9, atol=1e-12, equal_nan=True)
    np.testing.assert_array_equal(fast.good, series.good & np.isfinite(ref))
    assert np.isfinite(ref).sum() > 100 and np.isnan(ref[series.good]).sum() > 0  # both cases
    assert with_baseline(series, AlarmParams()) is series  # off by default


def test_baseline_removes_a_patient_offset_and_is_causal():
    """Two cases with the same risk shape but logits shifted by 4: relative to their own past
    hour, both give the same relative risk, so one threshold raises the same alarms in both."""
    starts = 5.0 * np.arange(2000)
    shape = np.where((starts > 6000) & (starts < 6600), 3.0, 0.0) + 0.3 * np.sin(starts / 300)
    frames = [
        windows(starts, 1 / (1 + np.exp(-(shape + offset))), case=case)
        for case, offset in (("chb01", -3.0), ("chb02", 1.0))
    ]
    frame = pd.concat(frames, ignore_index=True)
    p = AlarmParams(baseline_min=60, refractory_min=0)
    series = with_baseline(WindowSeries.from_predictions(frame), p)
    a, b = (series.score[series.case == c] for c in ("chb01", "chb02"))
    np.testing.assert_allclose(a, b, atol=1e-6, equal_nan=True)
    assert np.isnan(a[:12]).all() and np.isfinite(a[12:]).all()  # 12 earlier windows needed
    # Causal: changing the future leaves the past unchanged.
    later = frame.copy()
    later.loc[later.start_sec > 8000, "score"] = 0.999
    s2 = with_baseline(WindowSeries.from_predictions(later), p)
    keep = series.end_sec <= 8000
    np.testing.assert_array_equal(series.score[keep], s2.score[keep])
    # The raw scores of the two cases need different thresholds; the relative ones do not.
    files = pd.DataFrame(
        {
            "case": ["chb01", "chb02"],
            "file": "chb99_01.edf",
            "segment": 0,
            "start_sec": 0.0,
            "end_sec": starts[-1] + 10,
        }
    )
    ev = PartEvaluator(frame.assign(part="val"), ledger(), files, LP, p)
    hits = ev.alarms(0.9)
    assert set(hits.case) == {"chb01", "chb02"}
    assert sorted(hits[hits.case == "chb01"].time_sec) == sorted(
        hits[hits.case == "chb02"].time_sec
    )
