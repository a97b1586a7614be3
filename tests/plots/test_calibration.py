"""Window confusion matrix and reliability (preictal.plots.calibration)."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

import preictal.plots.calibration as cal
from preictal.evaluate.calibration import fit_temperature_on_validation, reliability_table
from preictal.plots.calibration import plot_confusion_matrix, plot_reliability
from tests.plots.evaluation_data import FOLDS, SKIPPED, SOURCE, lines_by_gid


def test_confusion_matrix_annotations_sum_counts(frames):
    results = frames["results"]
    fig = plot_confusion_matrix(results, "mlp", "loso", 0.5, SOURCE)
    ax = fig.axes[0]
    cells = {t.get_gid(): int(t.get_text().split("\n")[0]) for t in ax.texts if t.get_gid()}
    sel = results[(results.model == "mlp") & (results.target_fah == 0.5)]
    expected = {k: int(sel[f"window_{k}"].sum()) for k in ("tp", "fp", "fn", "tn")}
    assert cells == {
        "cell:00": expected["tp"],
        "cell:01": expected["fn"],
        "cell:10": expected["fp"],
        "cell:11": expected["tn"],
    }
    assert sum(cells.values()) == sum(expected.values())
    tp, fn = expected["tp"], expected["fn"]
    row = next(t.get_text() for t in ax.texts if t.get_gid() == "cell:00")
    assert f"{100 * tp / (tp + fn):.1f} %" in row
    plt.close(fig)


def test_reliability_fits_temperature_on_validation_and_plots_test(frames, monkeypatch):
    preds = frames["predictions"] | {SKIPPED: pd.DataFrame()}
    seen = []

    def spy(rows):
        seen.append(rows.copy())
        return fit_temperature_on_validation(rows)

    monkeypatch.setattr(cal, "fit_temperature_on_validation", spy)
    d = cal.reliability_data(preds)
    assert len(seen) == len(FOLDS)
    for rows, fold in zip(seen, FOLDS, strict=True):
        assert set(rows.part) == {"val"}
        val = preds[fold][preds[fold].part == "val"]
        assert len(rows) == len(val)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert d["temperature"][fold] == pytest.approx(fit_temperature_on_validation(val))
    # the validation logits are 4x larger than the test logits: T about 2 on validation, under 1
    # had it been fitted on the test windows
    assert all(t > 1.5 for t in d["temperature"].values())
    test0 = preds["p01"][preds["p01"].part == "test"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert fit_temperature_on_validation(test0.assign(part="val")) < 1
    tests = [preds[f][(preds[f].part == "test") & preds[f].y_cls.isin([0, 1])] for f in FOLDS]
    assert len(d["y"]) == sum(len(t) for t in tests)
    np.testing.assert_allclose(
        d["p_temperature"][: len(tests[0])],
        expit(tests[0].logit / d["temperature"][FOLDS[0]]),
    )

    fig = plot_reliability(preds, {f: 0.2 for f in FOLDS}, "logreg", "loso", SOURCE)
    ax = fig.axes[0]
    lines = lines_by_gid(ax, "reliability:")
    y = np.concatenate([t.y_cls.to_numpy(float) for t in tests])
    z = np.concatenate([t.logit.to_numpy(float) for t in tests])
    for scaling, p in (
        ("none", expit(z)),
        ("temperature", np.concatenate([expit(t.logit / d["temperature"][f]) for f, t in zip(FOLDS, tests, strict=True)])),
    ):  # fmt: skip
        table = reliability_table(y, p, n_bins=10)
        table = table[table.n > 0]
        np.testing.assert_allclose(
            lines[f"reliability:{scaling}"].get_xdata(), table.mean_predicted
        )
        np.testing.assert_allclose(
            lines[f"reliability:{scaling}"].get_ydata(), table.observed_fraction
        )
    # pooling validation rows as well would move the points
    allrows = pd.concat([preds[f][preds[f].y_cls.isin([0, 1])] for f in FOLDS])
    wrong = reliability_table(allrows.y_cls.to_numpy(float), expit(allrows.logit.to_numpy()), 10)
    wrong = wrong[wrong.n > 0]
    xs = np.asarray(lines["reliability:none"].get_xdata(), float)
    assert len(xs) != len(wrong) or not np.allclose(xs, wrong.mean_predicted)
    assert "BSS" in lines["reliability:none"].get_label()
    assert len(fig.axes[1].patches) == 2  # a histogram per scaling underneath
    plt.close(fig)
