"""Window AUROC/AUPRC and the rotation null of window AUROC."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from preictal.evaluate.window_metrics import (
    auroc_auprc,
    auroc_by_ranks,
    rotation_null,
    window_auroc_table,
)
from preictal.io import write_parquet


def test_auroc_by_ranks_matches_sklearn_with_ties():
    rng = np.random.default_rng(1)
    score = np.round(rng.random(500), 2)  # many ties
    positive = rng.random(500) < 0.3
    assert auroc_by_ranks(score, positive) == pytest.approx(roc_auc_score(positive, score))


def test_single_class_gives_nan_with_a_warning():
    with pytest.warns(UserWarning, match="0 positive and 3 negative"):
        auroc, auprc = auroc_auprc(np.zeros(3), np.array([0.1, 0.2, 0.3]), "val")
    assert np.isnan(auroc) and np.isnan(auprc)


def seizure_like(n_cases: int, rng, informative: bool):
    """Labels in blocks (a preictal run of 120 windows before each of 3 onsets per case, excluded
    windows around it) and a smooth score: AR(1) noise, plus the label when informative. Onsets
    are irregular, as seizures are: with periodic onsets a rotation by the period realigns
    preictal blocks (the null then grows conservative)."""
    scores, labels, groups = [], [], []
    for case in range(n_cases):
        n = 3000
        y = np.zeros(n, np.int8)
        for onset in (600, 1450, 2700):
            y[onset - 300 : onset - 120] = -1
            y[onset - 120 : onset] = 1
            y[onset : onset + 150] = -1
        noise = np.zeros(n)
        e = rng.normal(size=n)
        for i in range(1, n):
            noise[i] = 0.98 * noise[i - 1] + e[i]
        scores.append(noise + (3.0 * (y == 1) if informative else 0))
        labels.append(y)
        groups.append(np.full(n, case))
    return np.concatenate(scores), np.concatenate(labels), np.concatenate(groups)


def test_rotation_null_is_wider_than_iid_and_calibrated():
    """Under no information, the rotation p-value is roughly uniform (about 5 % below 0.05),
    while the iid standard error would call far more folds significant: the autocorrelated
    score drifts, so the chance range is wide."""
    rng = np.random.default_rng(7)
    p_values, iid_hits = [], 0
    for _ in range(60):
        score, y, groups = seizure_like(2, rng, informative=False)
        lab = y >= 0
        observed = auroc_by_ranks(score[lab], y[lab] == 1)
        null = rotation_null(score, y, groups, n=99, seed=int(rng.integers(1 << 30)))
        p_values.append((1 + (null >= observed).sum()) / 100)
        n_pos, n_neg = (y == 1).sum(), (y == 0).sum()
        se = np.sqrt((n_pos + n_neg + 1) / (12 * n_pos * n_neg))
        iid_hits += observed > 0.5 + 1.645 * se
    p_values = np.array(p_values)
    # 60 null folds: P(> 9 below 0.05) < 0.2 % (binomial); the iid test rejects far more often
    assert (p_values < 0.05).sum() <= 9
    assert iid_hits >= 15
    assert 0.3 < np.median(p_values) < 0.7


def test_rotation_null_rejects_an_informative_score():
    rng = np.random.default_rng(3)
    score, y, groups = seizure_like(2, rng, informative=True)
    lab = y >= 0
    observed = auroc_by_ranks(score[lab], y[lab] == 1)
    null = rotation_null(score, y, groups, n=199, seed=0)
    assert observed > np.quantile(null, 0.99)


def test_window_auroc_table(tmp_path):
    rng = np.random.default_rng(5)
    score, y, groups = seizure_like(2, rng, informative=True)
    n = len(y)
    preds = pd.DataFrame(
        {
            "case": np.where(groups == 0, "chb01", "chb02"),
            "part": np.where(groups == 0, "val", "test"),
            "start_sec": np.tile(np.arange(n // 2) * 5.0, 2),
            "y_cls": y,
            "score": 1 / (1 + np.exp(-score)),
        }
    )
    path = tmp_path / "p.parquet"
    meta = {"split": "loso", "fold": "chb02", "model": "m", "data_source": {"kind": "synthetic"}}
    write_parquet(path, preds.sample(frac=1, random_state=0), metadata=meta)  # order restored
    table = window_auroc_table([path], n_null=99)
    assert table.part.tolist() == ["val", "test"]
    test = table.set_index("part").loc["test"]
    lab = preds[(preds.part == "test") & (preds.y_cls >= 0)]
    assert test.auroc == pytest.approx(roc_auc_score(lab.y_cls, lab.score))
    assert test.n_pos == 360 and test.null_lo < 0.5 < test.null_hi < test.auroc
    assert test.p_chance == pytest.approx(0.01)
    assert (table.data_source == "synthetic").all()
