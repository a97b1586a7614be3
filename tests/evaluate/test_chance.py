"""Chance-level tests of alarm performance (preictal.evaluate.chance): hand-computed values, Poisson
simulations of the random predictor and of the time-in-warning chance level, the Poisson-binomial
distribution against enumeration, and seizure-time surrogates on a timeline with gaps.

SPH = 30 s and SOP = 570 s (the label defaults) throughout."""

from __future__ import annotations

import math
from itertools import product

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from preictal.alarms.scoring import score_alarms
from preictal.evaluate.chance import (
    binomial_p_value,
    chance_p_value,
    chance_sensitivity,
    cohort_chance_test,
    improvement_over_chance,
    patient_chance_test,
    patient_test_power,
    patients_significant_power,
    poisson_binomial_pmf,
    random_predictor_p,
    surrogate_p_value,
    surrogate_seizure_times,
)
from preictal.labels import LabelParams, seizure_ledger

LP = LabelParams()
SPH, SOP = 30.0, 570.0
# FAH at which the random predictor catches a seizure with p = 0.1 exactly: 1 - exp(-x) = 0.1.
FAH_P10 = -math.log(0.9) * 3600 / SOP


# --- Random predictor -----------------------------------------------------------------------------


def test_random_predictor_p_by_hand():
    # x = 0.5 * 570 / 3600 = 0.0791667; 1 - exp(-x) = x - x^2/2 + x^3/6 - x^4/24 + ...
    # = 0.0791667 - 0.0031337 + 0.0000827 - 0.0000016 = 0.0761141.
    assert random_predictor_p(0.5, SOP) == pytest.approx(0.0761140694, abs=1e-10)
    assert random_predictor_p(FAH_P10, SOP) == pytest.approx(0.1, abs=1e-14)
    assert random_predictor_p(0.0, SOP) == 0.0
    assert math.isnan(random_predictor_p(np.nan, SOP))
    np.testing.assert_allclose(
        random_predictor_p(np.array([0.0, 0.5, np.inf]), SOP), [0.0, 0.0761140694, 1.0], atol=1e-10
    )
    with pytest.raises(ValueError):
        random_predictor_p(-0.1, SOP)


def test_binomial_tail_two_of_three_by_hand():
    p = 0.0761140694
    # P(X >= 2) = C(3,2) p^2 (1 - p) + C(3,3) p^3
    tail = 3 * p**2 * (1 - p) + p**3
    assert chance_p_value(2, 3, 0.5, SOP) == pytest.approx(tail, rel=1e-8)
    assert chance_p_value(3, 3, 0.5, SOP) == pytest.approx(p**3, rel=1e-8)
    assert chance_p_value(1, 3, 0.5, SOP) == pytest.approx(1 - (1 - p) ** 3, rel=1e-8)
    assert chance_p_value(0, 3, 0.5, SOP) == 1.0
    with pytest.raises(ValueError):
        chance_p_value(4, 3, 0.5, SOP)


def test_d_correction_by_hand():
    # One seizure caught at p = 0.1: P = 0.1; best of d = 3 tries: 1 - 0.9^3 = 0.271.
    assert binomial_p_value(1, 1, 0.1, d=3) == pytest.approx(0.271, abs=1e-12)
    # Two of three at p = 0.1: P = 3 * 0.01 * 0.9 + 0.001 = 0.028; d = 4: 1 - 0.972^4.
    assert binomial_p_value(2, 3, 0.1) == pytest.approx(0.028, abs=1e-12)
    assert binomial_p_value(2, 3, 0.1, d=4) == pytest.approx(1 - 0.972**4, abs=1e-12)
    assert binomial_p_value(0, 3, 0.1, d=4) == 1.0
    assert math.isnan(binomial_p_value(0, 0, 0.1))
    with pytest.raises(ValueError):
        binomial_p_value(1, 1, 0.1, d=0)


def test_chance_sensitivity_by_hand():
    # K = 5, p = 0.1: P(X >= 1) = 1 - 0.9^5 = 0.40951; P(X >= 2) = 0.40951 - 5 * 0.1 * 0.9^4
    # = 0.08146; P(X >= 3) = 0.08146 - 10 * 0.01 * 0.9^3 = 0.00856: the critical count is 3.
    assert chance_sensitivity(5, FAH_P10, SOP) == pytest.approx(3 / 5)
    # d = 10: 1 - (1 - 0.00856)^10 = 0.0824 > 0.05; P(X >= 4) = 0.00856 - 5 * 0.001 * 0.81
    # = 0.00046, 1 - (1 - 0.00046)^10 = 0.0046 <= 0.05: four are needed.
    assert chance_sensitivity(5, FAH_P10, SOP, d=10) == pytest.approx(4 / 5)
    # At alpha equal to P(X >= 3) itself, 3 of 5 is still significant (p <= alpha).
    alpha = chance_p_value(3, 5, FAH_P10, SOP)
    assert chance_sensitivity(5, FAH_P10, SOP, alpha=alpha) == pytest.approx(3 / 5)
    # K = 2: P(X >= 1) = 0.19, P(X >= 2) = 0.01: both must be caught.
    assert chance_sensitivity(2, FAH_P10, SOP) == 1.0
    # K = 1: catching it has p = 0.1 > 0.05; no sensitivity is significant.
    assert math.isnan(chance_sensitivity(1, FAH_P10, SOP))
    assert math.isnan(chance_sensitivity(0, FAH_P10, SOP))
    # No false alarm: chance catches nothing, so one catch is enough.
    assert chance_sensitivity(4, 0.0, SOP) == pytest.approx(1 / 4)


def test_patient_test_is_significant_exactly_at_or_above_the_chance_sensitivity():
    for n_seizures, fah, d in product((1, 2, 5, 12), (0.0, 0.1, 0.5, 2.0, 8.0), (1, 4)):
        for caught in range(n_seizures + 1):
            r = patient_chance_test(caught, n_seizures, fah, SOP, 0.05, d)
            assert r["sensitivity"] == caught / n_seizures
            assert r["p_value"] == chance_p_value(caught, n_seizures, fah, SOP, d)
            assert r["significant"] == (r["p_value"] <= 0.05)
            at_or_above = r["sensitivity"] >= r["chance_sensitivity"]  # False for NaN
            assert r["significant"] == at_or_above, (n_seizures, fah, d, caught)


def test_patient_test_power_by_hand():
    # K = 5, p = 0.1: the critical count is 3 (test_chance_sensitivity_by_hand), so a predictor
    # catching each seizure with probability 0.5 is significant with P(Bin(5, 0.5) >= 3) = 1/2.
    assert patient_test_power(5, 0.5, FAH_P10, SOP) == pytest.approx(0.5)
    # d = 10 needs 4 of 5: P(Bin(5, 0.5) >= 4) = 6/32.
    assert patient_test_power(5, 0.5, FAH_P10, SOP, d=10) == pytest.approx(6 / 32)
    # K = 1 at p = 0.1: no count is significant, whatever the sensitivity.
    assert patient_test_power(1, 1.0, FAH_P10, SOP) == 0.0
    assert math.isnan(patient_test_power(0, 0.5, FAH_P10, SOP))
    with pytest.raises(ValueError, match="sensitivity"):
        patient_test_power(4, 1.5, FAH_P10, SOP)


def test_patient_test_power_matches_simulated_predictors():
    """The share of simulated predictors (each seizure caught with probability s) that the
    patient test calls significant agrees with the power within 4 binomial standard errors."""
    rng = np.random.default_rng(5)
    n_sim = 4000
    for n_seizures, s, fah, d in ((4, 0.5, 0.5, 4), (8, 0.33, 0.5, 4), (6, 0.6, 1.0, 1)):
        caught = rng.binomial(n_seizures, s, size=n_sim)
        share = np.mean(
            [patient_chance_test(c, n_seizures, fah, SOP, d=d)["significant"] for c in caught]
        )
        power = patient_test_power(n_seizures, s, fah, SOP, d=d)
        assert 0.05 < power < 0.95  # the cases are informative
        assert abs(share - power) < 4 * math.sqrt(power * (1 - power) / n_sim)


def test_patients_significant_power_by_enumeration():
    seizures, s, fah = [4, 8, 5], 0.5, 0.5
    out = patients_significant_power(seizures, s, fah, SOP, d=4)
    powers = [patient_test_power(k, s, fah, SOP, d=4) for k in seizures]
    np.testing.assert_allclose(out["powers"], powers)
    assert out["expected"] == pytest.approx(sum(powers))
    # More than half of 3 is 2 or 3 significant patients.
    most = sum(
        np.prod([q if hit else 1 - q for q, hit in zip(powers, hits, strict=True)])
        for hits in product((0, 1), repeat=3)
        if sum(hits) >= 2
    )
    assert out["p_most"] == pytest.approx(most)
    # A patient without seizures is left out.
    assert patients_significant_power([0, *seizures], s, fah, SOP, d=4)["p_most"] == (
        pytest.approx(most)
    )


def test_patient_test_without_seizures_and_without_false_alarms():
    none = patient_chance_test(0, 0, 0.3, SOP)
    assert math.isnan(none["sensitivity"]) and math.isnan(none["p_value"])
    assert math.isnan(none["chance_sensitivity"]) and none["significant"] is False
    no_fah = patient_chance_test(np.int64(3), 3, np.nan, SOP)  # no interictal time: FAH unknown
    assert math.isnan(no_fah["p_value"]) and no_fah["significant"] is False
    zero = patient_chance_test(1, 3, 0.0, SOP)
    assert zero["p_chance"] == 0.0 and zero["p_value"] == 0.0 and zero["significant"] is True
    assert patient_chance_test(0, 3, 0.0, SOP)["significant"] is False


@pytest.mark.parametrize("rate", [0.5, 2.0])
def test_random_predictor_p_matches_simulated_poisson_alarms(rate):
    # A homogeneous Poisson alarm process at `rate` per hour over 10^6 h and 10^5 seizure onsets
    # at random: the share of onsets with an alarm in [onset - SPH - SOP, onset - SPH] is a
    # binomial proportion around p, SE sqrt(p (1 - p) / M) (0.0008 at rate 0.5, 0.0014 at 2).
    # At rate 2 a window of SPH + SOP instead of SOP would be 0.0121 off, 8 SE.
    rng = np.random.default_rng(20261126 + int(rate * 10))
    seconds, m = 1e6 * 3600, 100_000
    alarms = np.sort(rng.uniform(0, seconds, rng.poisson(rate * 1e6)))
    onsets = rng.uniform(SPH + SOP, seconds, m)
    first = np.searchsorted(alarms, onsets - SPH - SOP, side="left")
    last = np.searchsorted(alarms, onsets - SPH, side="right")
    caught = (last > first).mean()
    p = random_predictor_p(rate, SOP)
    assert abs(caught - p) < 4 * math.sqrt(p * (1 - p) / m)


# --- Improvement over chance ----------------------------------------------------------------------


def test_improvement_over_chance_by_hand():
    assert improvement_over_chance(0.6, 0.15) == pytest.approx(0.45)
    assert improvement_over_chance(1.0, 1.0) == 0.0  # warned all the time: no better than chance
    assert improvement_over_chance(0.2, 0.35) == pytest.approx(-0.15)
    np.testing.assert_allclose(
        improvement_over_chance(np.array([0.5, np.nan]), np.array([0.1, 0.2])), [0.4, np.nan]
    )


def test_random_alarms_catch_seizures_at_their_time_in_warning():
    # Why the chance sensitivity is the time in warning: with Poisson alarms (1 per hour over
    # 20,000 h) blind to 20,000 random onsets, the scored sensitivity is a binomial proportion
    # around the measured time in warning (about 0.146), SE 0.0025, so IoC is 0 within 4 SE.
    rng = np.random.default_rng(7)
    hours, m = 20_000.0, 20_000
    alarms = np.sort(rng.uniform(0, hours * 3600, rng.poisson(hours)))
    onsets = np.sort(rng.uniform(SPH + SOP, hours * 3600 - 10, m))
    seizures = pd.DataFrame(
        {"onset_sec": onsets, "end_sec": onsets + 1.0, "lead": True, "scorable": True}
    )
    recorded = pd.DataFrame({"start_sec": [0.0], "end_sec": [hours * 3600]})
    metrics = score_alarms(alarms, recorded, seizures, LP)
    assert metrics.n_seizures_scored == m
    tiw = metrics.time_in_warning
    assert tiw == pytest.approx(1 - math.exp(-SOP / 3600), abs=0.01)  # sanity: Poisson coverage
    ioc = improvement_over_chance(metrics.sensitivity, tiw)
    assert abs(ioc) < 4 * math.sqrt(tiw * (1 - tiw) / m)


# --- Poisson-binomial and the cohort --------------------------------------------------------------


def brute_force_pmf(probs):
    pmf = np.zeros(len(probs) + 1)
    for outcome in product((0, 1), repeat=len(probs)):
        pmf[sum(outcome)] += math.prod(
            p if o else 1 - p for p, o in zip(probs, outcome, strict=True)
        )
    return pmf


@pytest.mark.parametrize("n", range(9))
def test_poisson_binomial_equals_enumeration(n):
    rng = np.random.default_rng(n)
    probs = list(rng.random(n))
    if n >= 3:
        probs[0], probs[1] = 0.0, 1.0  # certain outcomes too
    pmf = poisson_binomial_pmf(probs)
    assert pmf.shape == (n + 1,)
    np.testing.assert_allclose(pmf, brute_force_pmf(probs), rtol=1e-12, atol=1e-15)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("n, p", [(60, 0.3), (200, 0.01), (25, 0.9)])
def test_poisson_binomial_with_equal_probabilities_is_binomial(n, p):
    pmf = poisson_binomial_pmf(np.full(n, p))
    expected = stats.binom.pmf(np.arange(n + 1), n, p)
    # Relative accuracy down to the far tail (0.01^200 = 1e-400 underflows to 0 in both).
    np.testing.assert_allclose(pmf, expected, rtol=1e-9, atol=1e-300)


def test_poisson_binomial_refuses_probabilities_outside_the_unit_interval():
    with pytest.raises(ValueError):
        poisson_binomial_pmf([0.2, 1.5])
    with pytest.raises(ValueError):
        poisson_binomial_pmf([np.nan])


def test_cohort_two_single_seizure_patients_by_hand():
    # p = 0.1 and 0.2, one seizure each: P(both) = 0.02; P(at least one) = 1 - 0.9 * 0.8 = 0.28.
    both = cohort_chance_test([1, 1], [1, 1], [0.1, 0.2])
    assert both["p_value"] == pytest.approx(0.02, abs=1e-14)
    assert both["expected_caught"] == pytest.approx(0.3)
    one = cohort_chance_test([1, 0], [1, 1], [0.1, 0.2])
    assert one["p_value"] == pytest.approx(0.28, abs=1e-14)
    assert cohort_chance_test([0, 0], [1, 1], [0.1, 0.2])["p_value"] == 1.0
    # d = 2: 1 - (1 - 0.02)^2 = 0.0396.
    assert cohort_chance_test([1, 1], [1, 1], [0.1, 0.2], d=2)["p_value"] == pytest.approx(0.0396)


def test_cohort_counts_and_tests_the_significant_patients():
    # All at p = 0.1. A: 3 of 3 (P = 0.001, significant; critical count 2, size P(X >= 2) =
    # 0.028). B: 1 of 1 (P = 0.1; never significant, size 0). C: 0 of 2 (critical count 2, size
    # 0.01). D: no seizure, unknown chance: left out.
    r = cohort_chance_test([3, 1, 0, 0], [3, 1, 2, 0], [0.1, 0.1, 0.1, np.nan])
    assert r["n_patients"] == 3 and r["n_seizures"] == 6 and r["n_caught"] == 4
    assert r["expected_caught"] == pytest.approx(0.6)
    np.testing.assert_allclose(r["patient_p_values"], [0.001, 0.1, 1.0], atol=1e-12)
    assert r["n_significant"] == 1
    # At least one of three significant by chance: 1 - (1 - 0.028)(1 - 0)(1 - 0.01) = 0.03772,
    # below the alpha-for-everyone value 1 - 0.95^3 = 0.142625.
    assert r["p_value_n_significant"] == pytest.approx(0.03772, abs=1e-12)
    assert r["p_value_n_significant"] < stats.binom.sf(0, 3, 0.05)
    # 4 of 6 at p = 0.1: 15 * 1e-4 * 0.81 + 6 * 1e-5 * 0.9 + 1e-6 = 0.00127.
    assert r["p_value"] == pytest.approx(0.00127, abs=1e-12)


def test_cohort_edge_cases():
    empty = cohort_chance_test([0], [0], [np.nan])
    assert empty["n_patients"] == 0 and math.isnan(empty["p_value"])
    assert empty["n_significant"] == 0 and math.isnan(empty["p_value_n_significant"])
    with pytest.raises(ValueError):
        cohort_chance_test([1], [2], [np.nan])  # a patient with seizures needs its chance
    with pytest.raises(ValueError):
        cohort_chance_test([3], [2], [0.1])
    with pytest.raises(ValueError):
        cohort_chance_test([1, 1], [2], [0.1])


# --- Seizure-time surrogates ----------------------------------------------------------------------

# Patient p1: chb01 segment 0 with two gaps, chb01 segment 1, and chb21 (its own clock);
# patient p2: chb02, one file. Recorded time of p1: 3600 + 6300 + 8000 + 5000 + 8000 = 30,900 s.
RECORDED = pd.DataFrame(
    [
        ("chb01", 0, 0.0, 3600.0),
        ("chb01", 0, 3700.0, 10000.0),
        ("chb01", 0, 12000.0, 20000.0),
        ("chb01", 1, 0.0, 5000.0),
        ("chb21", 0, 1000.0, 9000.0),
        ("chb02", 0, 0.0, 30000.0),
    ],
    columns=["case", "segment", "start_sec", "end_sec"],
)
PATIENT = {"chb01": "p1", "chb21": "p1", "chb02": "p2"}
IN_GAP = 11000.0  # chb01 segment 0: in the gap [10000, 12000], cannot be placed


def ledger_rows(rows):
    frame = pd.DataFrame(rows, columns=["case", "segment", "onset_sec", "end_sec"])
    return frame.assign(
        patient=frame.case.map(PATIENT),
        file=frame.case + "_01.edf",
        seizure_in_file=1,
        seizure=range(len(frame)),
        lead=True,
        scorable=True,
        min_since_previous=np.nan,
        preictal_recorded_sec=0.0,
        preictal_recorded_fraction=0.0,
    ).set_index(pd.Index(range(100, 100 + len(frame))))  # a non-default index, to be kept


LEDGER = ledger_rows(
    [
        ("chb01", 0, 2000.0, 2060.0),
        ("chb01", 0, 3300.0, 3340.0),  # 1240 s after the previous one ended: not a lead seizure
        ("chb01", 0, IN_GAP, IN_GAP + 50),
        ("chb01", 0, 15000.0, 15120.0),
        ("chb01", 1, 4000.0, 4050.0),
        ("chb21", 0, 6000.0, 6090.0),
        ("chb02", 0, 5000.0, 5100.0),
        ("chb02", 0, 5900.0, 5960.0),
        ("chb02", 0, 20000.0, 20200.0),
    ]
)


def axis_position(patient, case, segment, t):
    """Recorded seconds of the patient before (case, segment, t): timelines in (case, segment)
    order, intervals in time order. Written out as a loop, independently of the module."""
    before = 0.0
    for r in RECORDED.sort_values(["case", "segment", "start_sec"]).itertuples():
        if PATIENT[r.case] != patient:
            continue
        if (r.case, r.segment) < (case, segment):
            before += r.end_sec - r.start_sec
        elif (r.case, r.segment) == (case, segment):
            before += min(max(t, r.start_sec), r.end_sec) - r.start_sec
    return before


def free_stretches(ledger, patient):
    """Sorted seizure-free stretches of the patient's recorded-time axis, the gap seizure left
    out. A seizure is the block from its onset's position, as long as its duration (every
    original seizure lies inside one recorded interval, so that is its recorded duration)."""
    total = axis_position(patient, "zzz", 0, 0.0)
    rows = ledger[(ledger.case.map(PATIENT) == patient) & (ledger.onset_sec != IN_GAP)]
    blocks = sorted(
        (axis_position(patient, r.case, r.segment, r.onset_sec), r.end_sec - r.onset_sec)
        for r in rows.itertuples()
    )
    starts = [u for u, _ in blocks] + [total]
    ends = [0.0] + [u + length for u, length in blocks]
    return np.sort(np.array(starts) - np.array(ends))


def in_recorded_time(case, segment, t):
    r = RECORDED[(RECORDED.case == case) & (RECORDED.segment == segment)]
    return bool(((r.start_sec <= t) & (t <= r.end_sec)).any())


def test_surrogates_stay_in_recorded_time_and_keep_durations_and_stretches():
    surrogates = surrogate_seizure_times(LEDGER, RECORDED, n=19, seed=5, label_params=LP)
    assert len(surrogates) == 19
    assert axis_position("p1", "zzz", 0, 0.0) == 30_900.0
    moved = 0
    for s in surrogates:
        assert list(s.columns) == list(LEDGER.columns) and s.index.equals(LEDGER.index)
        np.testing.assert_allclose(s.end_sec - s.onset_sec, LEDGER.end_sec - LEDGER.onset_sec)
        gap = s.onset_sec == IN_GAP
        assert gap.sum() == 1 and s.case[gap].item() == "chb01"  # unplaceable: left in place
        for r in s[~gap].itertuples():
            assert in_recorded_time(r.case, r.segment, r.onset_sec), r
            assert PATIENT[r.case] == r.patient  # seizures stay with their patient
        for patient in ("p1", "p2"):
            np.testing.assert_allclose(
                free_stretches(s, patient), free_stretches(LEDGER, patient), atol=1e-6
            )
        moved += not np.allclose(s.onset_sec, LEDGER.onset_sec)
    assert moved >= 15  # 6! and 4! orderings: the original order comes back rarely
    # Seizures reach other timelines of the patient.
    timelines = {(c, g) for s in surrogates for c, g in zip(s.case, s.segment, strict=True)}
    assert {("chb01", 0), ("chb01", 1), ("chb21", 0)} <= timelines


def test_point_seizures_keep_the_multiset_of_onset_intervals():
    # Zero-duration seizures: the intervals between successive onsets (with start to first and
    # last to end) on the recorded-time axis are what is permuted.
    ledger = ledger_rows([("chb02", 0, t, t) for t in (1000.0, 4000.0, 4500.0, 17000.0)])
    original = np.diff([0.0, 1000, 4000, 4500, 17000, 30000])
    for s in surrogate_seizure_times(ledger, RECORDED, n=10, seed=1, label_params=LP):
        intervals = np.diff(np.concatenate([[0.0], np.sort(s.onset_sec), [30000.0]]))
        np.testing.assert_allclose(np.sort(intervals), np.sort(original))


def test_one_seizure_across_a_gap_by_hand():
    # Recorded [0, 500] and [1500, 2000]: an axis of 1000 s. The seizure [1600, 1650] is the block
    # [600, 650], between free stretches 600 and 350. Swapping them puts it at axis 350 = time 350;
    # keeping them, at axis 600 = time 1600. Nothing else is possible.
    recorded = pd.DataFrame(
        {"case": "c", "segment": 0, "start_sec": [0.0, 1500], "end_sec": [500.0, 2000]}
    )
    seizures = pd.DataFrame(
        {"case": ["c"], "segment": [0], "onset_sec": [1600.0], "end_sec": [1650.0]}
    )
    onsets = {
        s.onset_sec.item()
        for s in surrogate_seizure_times(seizures, recorded, n=19, seed=0, label_params=LP)
    }
    assert onsets == {350.0, 1600.0}


def test_an_onset_on_an_interval_boundary_goes_to_the_later_interval():
    # The seizure [450, 500] ends the first file: free stretches 450 and 500 (axis [500, 1000]).
    # Swapped, its block starts at axis 500, the start of the second file: time 1500, not the
    # first file's end (500), from where the seizure would run into the gap.
    recorded = pd.DataFrame(
        {"case": "c", "segment": 0, "start_sec": [0.0, 1500], "end_sec": [500.0, 2000]}
    )
    seizures = pd.DataFrame(
        {"case": ["c"], "segment": [0], "onset_sec": [450.0], "end_sec": [500.0]}
    )
    onsets = {
        s.onset_sec.item()
        for s in surrogate_seizure_times(seizures, recorded, n=19, seed=0, label_params=LP)
    }
    assert onsets == {450.0, 1500.0}


def test_surrogates_are_deterministic_by_seed():
    a = surrogate_seizure_times(LEDGER, RECORDED, n=5, seed=11, label_params=LP)
    b = surrogate_seizure_times(LEDGER, RECORDED, n=5, seed=11, label_params=LP)
    c = surrogate_seizure_times(LEDGER, RECORDED, n=5, seed=12, label_params=LP)
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x, y)
    assert any(not x.equals(z) for x, z in zip(a, c, strict=True))


def test_surrogate_ledger_flags_follow_the_ledger_rules():
    # lead, scorable and the recorded preictal share recomputed for the new times equal what
    # labels.seizure_ledger gives for them.
    leads = set()
    for s in surrogate_seizure_times(LEDGER, RECORDED, n=19, seed=2, label_params=LP):
        leads |= set(s.lead)
        for case, rows in s.groupby("case"):
            files = RECORDED[RECORDED.case == case]
            expected = seizure_ledger(files, rows.reset_index(drop=True), None, LP)
            np.testing.assert_array_equal(rows.lead, expected.lead)
            np.testing.assert_array_equal(rows.scorable, expected.scorable)
            np.testing.assert_allclose(
                rows.preictal_recorded_fraction, expected.preictal_recorded_fraction
            )
            np.testing.assert_allclose(rows.min_since_previous, expected.min_since_previous)
    # The ledger given says lead everywhere; recomputed, the short stretches make some not lead.
    assert leads == {True, False}


def test_surrogate_p_value_formula():
    # (1 + #{0.5, 0.7} >= 0.5) / (4 + 1) = 3 / 5.
    assert surrogate_p_value(0.5, [0.2, 0.5, 0.7, 0.1]) == pytest.approx(0.6)
    assert surrogate_p_value(0.9, [0.2, 0.5, 0.7, 0.1]) == pytest.approx(0.2)
    assert surrogate_p_value(0.0, np.zeros(19)) == 1.0
    assert surrogate_p_value(1.0, np.zeros(19)) == pytest.approx(0.05)
    assert math.isnan(surrogate_p_value(np.nan, [0.1]))
    # Undefined surrogate values are left out: (1 + 1) / (2 + 1).
    assert surrogate_p_value(0.5, [0.1, np.nan, 0.6]) == pytest.approx(2 / 3)
    assert math.isnan(surrogate_p_value(0.5, [np.nan, np.nan]))
