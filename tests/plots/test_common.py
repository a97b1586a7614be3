"""Helpers shared by the evaluation figures (preictal.plots.common)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from preictal.plots.common import _at_target, _trained, fah_targets, message_figure
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
