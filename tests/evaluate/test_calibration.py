"""Temperature scaling, Brier score and skill score, ECE and the reliability table, and the
per-fold calibration report (validation-only fit)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from scipy.stats import rankdata
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from preictal.evaluate.calibration import (
    LeakageError,
    apply_temperature,
    binary_nll,
    brier,
    brier_skill_score,
    calibration_report,
    expected_calibration_error,
    fit_temperature,
    fit_temperature_on_validation,
    reliability_table,
)


def simulate(n: int, t_true: float, rng, mean: float = 0.0, sd: float = 3.0):
    """Logits z ~ N(mean, sd) and labels y ~ Bernoulli(sigmoid(z / t_true)): the logits are
    miscalibrated by exactly the temperature t_true."""
    z = rng.normal(mean, sd, n)
    y = (rng.random(n) < expit(z / t_true)).astype(int)
    return z, y


def test_temperature_recovers_a_known_temperature():
    t_true = 2.5
    z, y = simulate(20000, t_true, np.random.default_rng(0))
    t = fit_temperature(z, y)
    # Standard error from the Fisher information of beta = 1 / T: I = sum z^2 p (1 - p), and
    # se(T) = T^2 se(beta) by the delta method: about 0.042 here (0.043 is the spread of the fit
    # over 30 seeds), so 3 se is about 0.13, within the 0.15 the statistics allow.
    p = expit(z / t_true)
    se_t = t_true**2 / np.sqrt(np.sum(z**2 * p * (1 - p)))
    tol = 3 * se_t
    assert tol < 0.15
    assert t == pytest.approx(t_true, abs=tol)
    nll_fit = binary_nll(y, z, t)
    for other in (1.0, t_true - 0.5, t_true + 0.5):
        assert nll_fit <= binary_nll(y, z, other)


def test_binary_nll_matches_sklearn_log_loss():
    z, y = simulate(2000, 1.5, np.random.default_rng(1))
    for t in (0.7, 1.0, 2.0):
        assert binary_nll(y, z, t) == pytest.approx(log_loss(y, apply_temperature(z, t)))


def test_temperature_scaling_keeps_the_ranking():
    z, y = simulate(3000, 2.0, np.random.default_rng(2))
    auroc = roc_auc_score(y, z)
    for t in (0.5, 1.0, fit_temperature(z, y), 5.0):
        p = apply_temperature(z, t)
        assert np.array_equal(rankdata(p), rankdata(z))
        assert roc_auc_score(y, p) == auroc


def test_apply_temperature_is_sigmoid_of_scaled_logit():
    z = np.array([-4.0, -1.0, 0.0, 2.0])
    np.testing.assert_allclose(apply_temperature(z, 2.0), 1 / (1 + np.exp(-z / 2.0)))
    with pytest.raises(ValueError, match="temperature"):
        apply_temperature(z, 0.0)


def test_brier_matches_sklearn():
    rng = np.random.default_rng(3)
    y = (rng.random(500) < 0.2).astype(int)
    p = rng.random(500)
    assert brier(y, p) == pytest.approx(brier_score_loss(y, p))
    assert brier(y, p) == pytest.approx(np.mean((p - y) ** 2))


def test_brier_skill_score_reference_points():
    rng = np.random.default_rng(4)
    y = (rng.random(400) < 0.3).astype(int)
    base = 0.25  # a training base rate, not the fraction of this set
    assert brier_skill_score(y, np.full(len(y), base), base) == pytest.approx(0.0, abs=1e-12)
    assert brier_skill_score(y, y.astype(float), base) == pytest.approx(1.0)
    assert brier_skill_score(y, 1.0 - y, base) < 0


def test_brier_skill_score_uses_the_given_base_rate_by_hand():
    # Half positive; predicting 0.5 everywhere: Brier 0.25. Reference 0.1: 0.5 * 0.81 + 0.5 * 0.01
    # = 0.41, so BSS = 1 - 0.25 / 0.41 (the evaluated set's own rate, 0.5, would give 0).
    y = np.array([0, 1, 0, 1])
    p = np.full(4, 0.5)
    assert brier_skill_score(y, p, 0.1) == pytest.approx(1 - 0.25 / 0.41)
    with pytest.raises(ValueError, match="base_rate"):
        brier_skill_score(y, p, 1.5)


def test_ece_is_zero_for_perfectly_calibrated_bins():
    # In each bin every window has the same probability, equal to the bin's preictal fraction.
    p = np.repeat([0.05, 0.25, 0.5, 0.75, 1.0], [20, 20, 10, 4, 3])
    y = np.concatenate(
        [
            np.repeat([1, 0], [1, 19]),
            np.repeat([1, 0], [5, 15]),
            np.repeat([1, 0], [5, 5]),
            np.repeat([1, 0], [3, 1]),
            np.ones(3, int),
        ]
    )
    assert expected_calibration_error(y, p, n_bins=15) == pytest.approx(0.0, abs=1e-12)
    assert expected_calibration_error(y, p, n_bins=10) == pytest.approx(0.0, abs=1e-12)


def test_ece_by_hand_on_a_tiny_example():
    # Two bins, (0, 0.5] and (0.5, 1]. Bin 1: p 0.1, 0.2, 0.5 -> mean 0.8 / 3, observed 1/3.
    # Bin 2: p 0.8, 0.9 -> mean 0.85, observed 1. ECE = 3/5 * |1/3 - 0.8/3| + 2/5 * 0.15.
    p = np.array([0.1, 0.2, 0.5, 0.8, 0.9])
    y = np.array([0, 1, 0, 1, 1])
    expected = 3 / 5 * abs(1 / 3 - 0.8 / 3) + 2 / 5 * 0.15
    assert expected_calibration_error(y, p, n_bins=2) == pytest.approx(expected)
    table = reliability_table(y, p, n_bins=2)
    assert table.n.tolist() == [3, 2]  # 0.5 sits on the inner edge: lower bin, as in sklearn
    np.testing.assert_allclose(table.lower, [0.0, 0.5])
    np.testing.assert_allclose(table.upper, [0.5, 1.0])


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_reliability_table_matches_sklearn_calibration_curve(strategy):
    rng = np.random.default_rng(5)
    p = np.round(rng.beta(0.6, 3.0, 3000), 2)  # skewed, with ties and values on bin edges
    y = (rng.random(3000) < p**0.8).astype(int)
    table = reliability_table(y, p, n_bins=15, strategy=strategy)
    assert len(table) == 15 and table.n.sum() == len(p)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=15, strategy=strategy)
    filled = table[table.n > 0]
    np.testing.assert_allclose(filled.observed_fraction, prob_true)
    np.testing.assert_allclose(filled.mean_predicted, prob_pred)
    # Empty bins are kept, with NaN means; ECE is the n-weighted gap over the filled ones.
    assert table[table.n == 0].mean_predicted.isna().all()
    ece = np.sum(filled.n / len(p) * np.abs(prob_true - prob_pred))
    assert expected_calibration_error(y, p, n_bins=15, strategy=strategy) == pytest.approx(ece)


def prediction_frame(rng, n_val: int, n_test: int, t_true: float = 3.0) -> pd.DataFrame:
    """One fold's predictions, over-confident by t_true, validation and test drawn alike (rare
    preictal windows), plus excluded windows with extreme logits and a few bad windows."""
    parts = []
    for part, n in (("val", n_val), ("test", n_test)):
        z, y = simulate(n, t_true, rng, mean=-6.0, sd=4.0)
        parts.append(
            pd.DataFrame({"part": part, "y_cls": y, "logit": z, "bad": rng.random(n) < 0.05})
        )
        excluded = pd.DataFrame(
            {"part": part, "y_cls": -1, "logit": np.full(50, 30.0), "bad": False}
        )
        parts.append(excluded)
    pred = pd.concat(parts, ignore_index=True)
    pred["y_cls"] = pred.y_cls.astype(np.int8)
    pred["score"] = expit(pred.logit)
    return pred


def report_row(report: pd.DataFrame, part: str, scaling: str) -> pd.Series:
    rows = report[(report.part == part) & (report.scaling == scaling)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_fit_on_test_rows_is_refused():
    pred = prediction_frame(np.random.default_rng(6), 500, 500)
    with pytest.raises(LeakageError, match="validation rows only"):
        fit_temperature_on_validation(pred)
    with pytest.raises(LeakageError):
        fit_temperature_on_validation(pred[pred.part == "test"])
    val = pred[pred.part == "val"]
    labelled = val[val.y_cls >= 0]
    assert fit_temperature_on_validation(val) == fit_temperature(labelled.logit, labelled.y_cls)


def test_report_applies_the_validation_temperature_to_test():
    pred = prediction_frame(np.random.default_rng(7), 4000, 4000)
    base_rate = 0.1
    report = calibration_report(pred, base_rate)
    assert len(report) == 4
    val = pred[(pred.part == "val") & (pred.y_cls >= 0)]
    test = pred[(pred.part == "test") & (pred.y_cls >= 0)]
    t_val = fit_temperature(val.logit.to_numpy(), val.y_cls.to_numpy())
    for part, rows in (("val", val), ("test", test)):
        row = report_row(report, part, "temperature")
        assert row.temperature == t_val
        assert row.n == len(rows) and row.n_bad == int(rows.bad.sum())  # bad kept, -1 dropped
        p = apply_temperature(rows.logit.to_numpy(), t_val)
        y = rows.y_cls.to_numpy()
        assert row.brier == pytest.approx(brier_score_loss(y, p))
        assert row.bss == pytest.approx(brier_skill_score(y, p, base_rate))
        assert row.nll == pytest.approx(binary_nll(y, rows.logit.to_numpy(), t_val))
        assert report_row(report, part, "none").temperature == 1.0


def test_report_temperature_ignores_test_data():
    rng = np.random.default_rng(8)
    pred = prediction_frame(rng, 2000, 2000)
    t = report_row(calibration_report(pred, 0.1), "test", "temperature").temperature
    shuffled = pred.copy()
    is_test = shuffled.part == "test"
    shuffled.loc[is_test, "logit"] = rng.permutation(shuffled.loc[is_test, "logit"].to_numpy()) * 7
    shuffled.loc[is_test, "y_cls"] = 1 - shuffled.loc[is_test, "y_cls"].clip(lower=0)
    report = calibration_report(shuffled, 0.1)
    assert report_row(report, "test", "temperature").temperature == t
    assert report_row(report, "val", "temperature").temperature == t


def test_temperature_improves_test_calibration_of_an_overconfident_model():
    pred = prediction_frame(np.random.default_rng(9), 5000, 5000, t_true=3.0)
    report = calibration_report(pred, base_rate=0.1)
    none, scaled = report_row(report, "test", "none"), report_row(report, "test", "temperature")
    assert scaled.temperature == pytest.approx(3.0, abs=0.5)
    assert scaled.nll < none.nll
    assert scaled.brier < none.brier
    assert scaled.ece < none.ece


def test_one_class_temperature_is_one_with_a_warning():
    with pytest.warns(UserWarning, match="0 positive and 4 negative"):
        assert fit_temperature(np.array([-2.0, -1.0, 0.5, 3.0]), np.zeros(4)) == 1.0
    with pytest.warns(UserWarning, match="0 positive and 0 negative"):
        assert fit_temperature(np.zeros(0), np.zeros(0)) == 1.0


def test_one_class_validation_leaves_the_report_uncalibrated():
    pred = prediction_frame(np.random.default_rng(10), 300, 300)
    pred.loc[pred.part == "val", "y_cls"] = pred.loc[pred.part == "val", "y_cls"].clip(upper=0)
    with pytest.warns(UserWarning, match="temperature left at 1.0"):
        report = calibration_report(pred, 0.1)
    assert (report.temperature == 1.0).all()
    for part in ("val", "test"):
        none, scaled = report_row(report, part, "none"), report_row(report, part, "temperature")
        assert scaled[["brier", "bss", "ece", "nll"]].tolist() == pytest.approx(
            none[["brier", "bss", "ece", "nll"]].tolist()
        )


def test_degenerate_metrics_are_nan_with_a_warning_never_zero():
    empty = np.zeros(0)
    for metric in (brier, expected_calibration_error):
        with pytest.warns(UserWarning, match="no labelled window"):
            assert np.isnan(metric(empty, empty))
    with pytest.warns(UserWarning, match="no labelled window"):
        assert np.isnan(brier_skill_score(empty, empty, 0.1))
    with pytest.warns(UserWarning, match="predicts every label exactly"):
        assert np.isnan(brier_skill_score(np.zeros(5), np.full(5, 0.2), 0.0))
    with pytest.warns(UserWarning, match="no labelled window"):
        assert reliability_table(empty, empty).empty


def test_excluded_labels_are_rejected():
    with pytest.raises(ValueError, match="y_cls -1"):
        fit_temperature(np.array([0.1, 0.2]), np.array([1, -1]))
    with pytest.raises(ValueError, match="y_cls -1"):
        brier(np.array([0, -1]), np.array([0.1, 0.2]))
