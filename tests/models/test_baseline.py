"""The feature baselines (preictal.models.baseline): training rows, fitting, JSON models."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from preictal.models.baseline import BaselineParams, fit_baseline, predict_logit, training_rows


def test_training_rows_subsample_interictal_and_drop_bad():
    y = np.array([1] * 10 + [0] * 100 + [-1] * 5)
    bad = np.zeros(len(y), bool)
    bad[0] = bad[50] = True
    rows = training_rows(y, bad, BaselineParams(interictal_ratio=4), np.random.default_rng(0))
    assert (y[rows] == 1).sum() == 9 and (y[rows] == 0).sum() == 36 and 0 not in rows
    again = training_rows(y, bad, BaselineParams(interictal_ratio=4), np.random.default_rng(0))
    assert np.array_equal(rows, again)
    keep_all = training_rows(y, bad, BaselineParams(interictal_ratio=0), np.random.default_rng(0))
    assert (y[keep_all] == 0).sum() == 99 and (y[keep_all] == -1).sum() == 0


@pytest.mark.parametrize("name", ["logreg", "mlp", "xgboost"])
def test_baselines_learn_and_json_models_predict_like_the_fitted_ones(name):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(600, 6)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(0, 0.5, 600) > 0.8).astype(int)
    model = fit_baseline(name, X[:400], y[:400], BaselineParams())
    logit = predict_logit(model, X[400:])
    assert roc_auc_score(y[400:], logit) > 0.85
    again = json.loads(json.dumps(model))  # what is saved is all that is needed
    np.testing.assert_allclose(predict_logit(again, X[400:]), logit, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="one class"):
        fit_baseline(name, X[:10], np.zeros(10, int), BaselineParams())
