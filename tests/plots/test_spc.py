"""The seizure prediction characteristic figure (preictal.plots.spc)."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from preictal.plots.spc import plot_spc
from tests.plots.evaluation_data import SOURCE, lines_by_gid


def characteristic() -> pd.DataFrame:
    rows = []
    for model, sph, target, sop in itertools.product(
        ("logreg", "xgboost"), (30, 300), (0.1, 0.5), (5, 9.5, 30)
    ):
        rows.append(
            {
                "split": "loso", "model": model, "sph_sec": sph, "target_fah": target,
                "sop_min": sop, "pooled_sensitivity": min(1.0, sop / 40 + target),
                "random_sensitivity": 1 - np.exp(-target * sop / 60),
                "trained_sop_min": 9.5, "trained_sph_sec": 30,
            }
        )  # fmt: skip
    return pd.DataFrame(rows)


def test_a_line_per_model_horizon_and_target_beside_the_random_predictor():
    c = characteristic()
    fig = plot_spc(c, "loso", SOURCE)
    axes = np.array(fig.axes[:4]).reshape(2, 2)  # rows: SPH 30, 300 s; columns: the models
    line = lines_by_gid(axes[1, 1], "spc:")["spc:xgboost:300:0.5"]
    expected = c[(c.model == "xgboost") & (c.sph_sec == 300) & (c.target_fah == 0.5)]
    np.testing.assert_allclose(line.get_xdata(), [5, 9.5, 30])
    np.testing.assert_allclose(line.get_ydata(), expected.sort_values("sop_min").pooled_sensitivity)
    chance = lines_by_gid(axes[0, 0], "random:")["random:logreg:30:0.1"]
    np.testing.assert_allclose(chance.get_ydata(), 1 - np.exp(-0.1 * np.array([5, 9.5, 30]) / 60))
    # The trained definition (SOP 9.5 min at SPH 30 s) is marked where it lies, not elsewhere.
    marked = [ax for ax in axes.ravel() if any(x.get_xdata()[0] == 9.5 for x in ax.lines)]
    assert set(map(id, marked)) == {id(axes[0, 0]), id(axes[0, 1])}
    assert "re-scored under the others" in fig._suptitle.get_text()
    plt.close(fig)


def test_no_trained_fold_says_so():
    fig = plot_spc(pd.DataFrame(), "within", SOURCE)
    assert "No fold was trained" in fig.axes[0].texts[0].get_text()
    plt.close(fig)
