"""The validation threshold sweep and the FAH / sensitivity trade-off (preictal.plots.thresholds)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from preictal.labels import LabelParams
from preictal.plots.thresholds import (
    plot_fah_sensitivity_tradeoff,
    plot_threshold_vs_fah,
    plot_threshold_vs_sensitivity,
)
from tests.plots.evaluation_data import (
    FOLDS,
    LABELS,
    SKIPPED,
    SOP,
    SOURCE,
    TARGETS,
    lines_by_gid,
    val_curve,
)


def test_threshold_vs_fah_one_line_per_trained_fold_floor_and_targets(frames):
    fig = plot_threshold_vs_fah(frames["curves"], "logreg", "loso", SOURCE, targets=TARGETS)
    ax = fig.axes[0]
    folds = [line for line in ax.get_lines() if line.get_label() in (*FOLDS, SKIPPED)]
    assert sorted(line.get_label() for line in folds) == sorted(FOLDS)
    floor = min(TARGETS) / 10
    for line in folds:
        y = np.asarray(line.get_ydata(), float)
        assert y.min() == pytest.approx(floor)  # the curves reach FAH 0, drawn at the floor
    dashed = [
        line.get_ydata()[0]
        for line in ax.get_lines()
        if line.get_linestyle() == "--" and line.get_label() not in FOLDS
    ]
    assert sorted(dashed) == list(TARGETS)
    assert ax.get_yscale() == "log"
    assert "SYNTHETIC" in ax.get_title() and ax.get_xlabel() and "1/h" in ax.get_ylabel()
    plt.close(fig)


def test_threshold_vs_sensitivity_one_line_per_trained_fold(frames):
    fig = plot_threshold_vs_sensitivity(frames["curves"], "logreg", "loso", SOURCE)
    ax = fig.axes[0]
    lines = [line for line in ax.get_lines() if line.get_label() in (*FOLDS, SKIPPED)]
    assert sorted(line.get_label() for line in lines) == sorted(FOLDS)
    np.testing.assert_allclose(lines[0].get_ydata(), val_curve(0).sensitivity)
    plt.close(fig)


def test_tradeoff_points_curves_and_chance_line(frames):
    fig = plot_fah_sensitivity_tradeoff(
        frames["curves"], frames["results"], "logreg", "loso", SOURCE, label_params=LABELS
    )
    ax = fig.axes[0]
    curves = lines_by_gid(ax, "val_curve")
    assert len([line for line in ax.get_lines() if line.get_gid() == "val_curve"]) == len(FOLDS)
    assert curves  # best sensitivity at FAH <= x never decreases along x
    for line in (line for line in ax.get_lines() if line.get_gid() == "val_curve"):
        assert np.all(np.diff(np.asarray(line.get_ydata(), float)) >= 0)
    points = {c.get_gid(): c for c in ax.collections if c.get_gid()}
    # logreg p03 has NaN test sensitivity: two folds per target
    for t in TARGETS:
        offsets = points[f"test_points:{t:g}"].get_offsets()
        assert len(offsets) == 2
        np.testing.assert_allclose(sorted(offsets[:, 0]), [0.2, 0.4])
    chance = next(line for line in ax.get_lines() if "random predictor" in line.get_label())
    x, y = np.asarray(chance.get_xdata()), np.asarray(chance.get_ydata())
    np.testing.assert_allclose(y, 1 - np.exp(-x * SOP / 3600))
    plt.close(fig)


def test_tradeoff_chance_line_follows_the_label_params(frames):
    """The random predictor's SOP is that of the LabelParams (SPH + SOP 20 min, SPH 60 s)."""
    labels = LabelParams(preictal_min=20, gap_sec=60)
    fig = plot_fah_sensitivity_tradeoff(
        frames["curves"], frames["results"], "logreg", "loso", SOURCE, label_params=labels
    )
    ax = fig.axes[0]
    chance = next(line for line in ax.get_lines() if "random predictor" in line.get_label())
    x, y = np.asarray(chance.get_xdata()), np.asarray(chance.get_ydata())
    np.testing.assert_allclose(y, 1 - np.exp(-x * 1140 / 3600))
    assert "SOP 19 min" in chance.get_label()
    plt.close(fig)


def test_many_folds_are_grey_with_their_median_and_a_short_legend():
    """CHB-MIT's 23 loso folds: no repeated colours and no 23-entry legend."""
    curves = {f"chb{i:02d}": val_curve(i % 5) for i in range(1, 24)}
    for fig in (
        plot_threshold_vs_fah(curves, "logreg", "loso", SOURCE, targets=TARGETS),
        plot_threshold_vs_sensitivity(curves, "logreg", "loso", SOURCE),
    ):
        ax = fig.axes[0]
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert "each fold (23)" in labels and "median over folds" in labels
        assert len(labels) <= 4
        folds = [line for line in ax.get_lines() if line.get_color() != "k"][:23]
        assert len({tuple(np.round(line.get_color(), 3)) for line in folds}) == 1
        plt.close(fig)
