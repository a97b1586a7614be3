"""The driver of the evaluation figures (preictal.plots.evaluation), and every figure on empty inputs."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import preictal.plots.evaluation as ev
from preictal.plots.calibration import plot_confusion_matrix, plot_reliability
from preictal.plots.chance import plot_chance_tests
from preictal.plots.thresholds import (
    plot_fah_sensitivity_tradeoff,
    plot_threshold_vs_fah,
    plot_threshold_vs_sensitivity,
)
from preictal.plots.timeline import plot_warning_times
from preictal.plots.training import plot_training_curves
from tests.plots.evaluation_data import LABELS, SKIPPED, SOURCE, TARGETS, assert_png, results_table


def draw(paths, outputs):
    """The driver as the workflow calls it: logistic regression at FAH 0.5."""
    ev.make_evaluation_figures(
        paths,
        outputs,
        split="loso",
        model="logreg",
        target_fah=0.5,
        label_params=LABELS,
        data_source=SOURCE,
    )


def test_driver_writes_every_figure(workflow_files, monkeypatch):
    paths, outputs = workflow_files
    titles = {}
    real_save = ev.save

    def spy(fig, path):
        texts = [fig._suptitle.get_text()] if fig._suptitle else []
        titles[str(path)] = " ".join(texts + [ax.get_title() for ax in fig.axes])
        real_save(fig, path)

    monkeypatch.setattr(ev, "save", spy)
    draw(paths, outputs)
    for name in ev.FIGURES:
        path = Path(outputs[name])
        assert_png(path)
        assert "SYNTHETIC data (seed 7" in titles[str(path)], name
    assert not list(Path(outputs["tradeoff"]).parent.glob(".*.tmp"))  # atomic writes
    timeline = titles[outputs["risk_timeline"]]
    assert "test case p02" in timeline and "fold p02" in timeline  # first with a caught seizure
    assert "2 true, 3 false, 1 excluded" in timeline
    assert "3 folds" in titles[outputs["training_curves"]]
    assert "3 folds" in titles[outputs["reliability"]]


def test_driver_draws_the_targets_of_the_results_table(workflow_files, monkeypatch):
    """The FAH targets come from the results table (its target_fah column), not from a list kept
    in the figures' code."""
    paths, outputs = workflow_files
    seen = {}
    real = ev.plot_threshold_vs_fah

    def spy(*args, targets, **kwargs):
        seen["targets"] = tuple(targets)
        return real(*args, targets=targets, **kwargs)

    monkeypatch.setattr(ev, "plot_threshold_vs_fah", spy)
    results = pd.read_csv(paths["results"])
    results[results.target_fah == 0.5].to_csv(paths["results"], index=False)
    draw(paths, outputs)
    assert seen["targets"] == (0.5,)


def test_driver_when_nothing_trained(workflow_files):
    paths, outputs = workflow_files
    results = pd.read_csv(paths["results"])
    results[results.fold == SKIPPED].to_csv(paths["results"], index=False)
    draw(paths, outputs)
    for name in ev.FIGURES:
        assert_png(Path(outputs[name]), min_bytes=5_000)


def test_driver_skips_folds_without_files(workflow_files):
    """A trained fold whose predictions are empty (e.g. evaluation skipped it) is left out of the
    timeline choice and the reliability figure instead of failing."""
    paths, outputs = workflow_files
    pd.DataFrame().to_parquet(paths["predictions"]["p02"])
    draw(paths, outputs)
    for name in ev.FIGURES:
        assert_png(Path(outputs[name]))


@pytest.mark.parametrize(
    "make",
    [
        lambda: plot_threshold_vs_fah(
            {"p04": pd.DataFrame()}, "m", "loso", SOURCE, targets=TARGETS
        ),
        lambda: plot_threshold_vs_fah({"p04": pd.DataFrame()}, "m", "loso", SOURCE, targets=()),
        lambda: plot_threshold_vs_sensitivity({"p04": pd.DataFrame()}, "m", "loso", SOURCE),
        lambda: plot_fah_sensitivity_tradeoff(
            {}, pd.DataFrame(), "m", "loso", SOURCE, label_params=LABELS
        ),
        lambda: plot_warning_times(pd.DataFrame(), SOURCE, label_params=LABELS),
        lambda: plot_training_curves({"p04": pd.DataFrame()}, "loso", SOURCE),
        lambda: plot_confusion_matrix(results_table().iloc[-4:], "m", "loso", 0.5, SOURCE),
        lambda: plot_reliability({"p04": pd.DataFrame()}, None, "m", "loso", SOURCE),
        lambda: plot_chance_tests(results_table().iloc[-4:], "loso", 0.5, SOURCE),
    ],
)
def test_empty_inputs_give_a_figure_that_says_so(make):
    fig = make()
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any(t.startswith("no ") for t in texts), texts
    plt.close(fig)


def test_figures_show_the_model_chosen_on_validation_unless_one_is_named():
    from preictal.plots.evaluation import figures_model

    results = pd.DataFrame(
        {
            "model": ["logreg", "xgboost"] * 2,
            "fold": ["chb01", "chb01", "chb02", "chb02"],
            "target_fah": [0.5] * 4,
            "skipped": [np.nan] * 4,
            "val_sensitivity": [0.2, 0.6, 0.4, 0.5],
            "test_sensitivity": [0.9, 0.0, 0.9, 0.0],  # test never decides
            "val_auroc": [0.7] * 4,
        }
    )
    assert figures_model("chosen", results, 0.5, ["logreg", "xgboost"]) == "xgboost"
    assert figures_model("logreg", results, 0.5, ["logreg", "xgboost"]) == "logreg"
    assert figures_model("chosen", results.iloc[0:0], 0.5, ["mlp", "fusion"]) == "mlp"
