"""Training curves (preictal.plots.training)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from preictal.plots.training import plot_training_curves
from tests.plots.evaluation_data import FOLDS, SOURCE, train_curve


def test_training_curves_lines_per_fold(frames):
    fig = plot_training_curves(frames["train"], "loso", SOURCE)
    ax_l, ax_a = fig.axes[:2]
    assert len(ax_l.get_lines()) == 2 * len(FOLDS)
    folds = [line for line in ax_a.get_lines() if line.get_label() in FOLDS]
    assert len(folds) == len(FOLDS)
    np.testing.assert_allclose(folds[0].get_ydata(), train_curve(0).val_auroc)
    # The validation alarm metric (best_by_fah.pt, early_stopping: fah), one line per fold.
    ax_s = fig.axes[2]
    lines = [line for line in ax_s.get_lines() if line.get_label() in FOLDS]
    assert len(lines) == len(FOLDS)
    np.testing.assert_allclose(lines[1].get_ydata(), train_curve(1).val_sens_at_fah)
    plt.close(fig)
