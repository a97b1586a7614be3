"""Per-patient chance tests (preictal.plots.chance)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from preictal.plots.chance import plot_chance_tests
from tests.plots.evaluation_data import FOLDS, SOURCE, lines_by_gid


def test_chance_tests_filled_for_significant_hollow_otherwise(frames, tmp_path):
    path = tmp_path / "r.csv"
    frames["results"].to_csv(path, index=False)  # as read back by the driver (NaN rows: object)
    results = pd.read_csv(path)
    fig = plot_chance_tests(results, "loso", 0.5, SOURCE)
    ax, ax_p = fig.axes[:2]
    marks = lines_by_gid(ax, "chance:")
    # logreg: p01 significant, p02 not, p03 no scored seizure (not drawn); mlp: p01, p03 vs p02
    assert len(marks["chance:logreg:significant"].get_xdata()) == 1
    assert len(marks["chance:logreg:not_significant"].get_xdata()) == 1
    assert len(marks["chance:mlp:significant"].get_xdata()) == 2
    assert len(marks["chance:mlp:not_significant"].get_xdata()) == 1
    assert marks["chance:mlp:not_significant"].get_markerfacecolor() == "none"
    assert marks["chance:mlp:significant"].get_markerfacecolor() != "none"
    p = lines_by_gid(ax_p, "p:")
    np.testing.assert_allclose(p["p:mlp:not_significant"].get_ydata(), [0.3])
    assert [t.get_text() for t in ax_p.get_xticklabels()] == list(FOLDS)
    assert "mlp 2/3" in ax.get_title()
    renderer = fig.canvas.get_renderer()
    for axis in (ax, ax_p):  # the legends lie beside the points, not on them
        assert (
            axis.get_legend().get_window_extent(renderer).x0 >= axis.get_window_extent(renderer).x1
        )
    plt.close(fig)
