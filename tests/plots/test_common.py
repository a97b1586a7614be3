"""Helpers shared by the evaluation figures (preictal.plots.common)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from preictal.plots.common import (
    _at_target,
    _trained,
    fah_targets,
    median_curve,
    message_figure,
)
from tests.plots.evaluation_data import SKIPPED, SOURCE, TARGETS, results_table


def test_fah_targets_are_those_of_the_table():
    results = results_table()
    assert fah_targets(results) == TARGETS
    assert fah_targets(results.assign(target_fah=results.target_fah[::-1].to_numpy())) == TARGETS
    assert fah_targets(pd.concat([results, pd.DataFrame({"target_fah": [np.nan]})])) == TARGETS
    assert fah_targets(results.drop(columns="target_fah")) == ()
    assert fah_targets(pd.DataFrame()) == ()


def test_trained_and_at_target_select_rows():
    results = results_table()
    trained = _trained(results)
    assert SKIPPED not in set(trained.fold) and len(trained) == len(results) - 4
    assert set(_at_target(trained, 0.5).target_fah) == {0.5}
    assert _at_target(pd.DataFrame(), 0.5).empty


def test_message_figure_says_why():
    fig = message_figure("Risk timeline", "no test predictions", SOURCE)
    assert [t.get_text() for t in fig.axes[0].texts] == ["no test predictions"]
    assert "SYNTHETIC" in fig.axes[0].get_title()
    plt.close(fig)


def test_median_curve_interpolates_each_fold_inside_its_own_range():
    lines = [
        (np.array([0.0, 1.0]), np.array([0.0, 1.0])),  # y = x
        (np.array([1.0, 0.0]), np.array([3.0, 1.0])),  # y = 1 + 2x, unsorted x
        (np.array([0.0, 0.5]), np.array([10.0, 10.0])),  # only up to x = 0.5
    ]
    x, y = median_curve(lines, points=11)
    np.testing.assert_allclose(x, np.linspace(0, 1, 11))
    # x <= 0.5: median of x, 1 + 2x and 10 is 1 + 2x; beyond: median of x and 1 + 2x
    np.testing.assert_allclose(y[:6], 1 + 2 * x[:6])
    np.testing.assert_allclose(y[6:], (x[6:] + 1 + 2 * x[6:]) / 2)
    assert median_curve([])[0].size == 0
