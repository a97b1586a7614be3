"""Risk timeline, warning times and the choice of the timeline's fold (preictal.plots.timeline)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from preictal.alarms.postprocess import AlarmParams
from preictal.labels import LabelParams
from preictal.plots.timeline import (
    ALARM_COLORS,
    choose_timeline_fold,
    plot_risk_timeline,
    plot_warning_times,
)
from tests.plots.evaluation_data import (
    FILES,
    FOLDS,
    LABELS,
    MODELS,
    ONSET,
    SKIPPED,
    SOP,
    SOURCE,
    SPH,
    alarms_of,
    files_of,
    ledger_of,
    lines_by_gid,
    results_table,
    seizures_of,
    windows_of,
)


def test_risk_timeline_alarms_bad_windows_gaps_sop(frames):
    preds = frames["predictions"]["p01"]
    alarms = alarms_of("p01")
    fig = plot_risk_timeline(
        preds,
        files_of("p01"),
        ledger_of("p01"),
        alarms,
        0.7,
        LABELS,
        SOURCE,
        target_fah=0.5,
        fold="p01",
        model="logreg",
    )
    ax = fig.axes[0]
    marks = lines_by_gid(ax, "alarms:")
    at = alarms[alarms.target_fah == 0.5]
    for kind in ("true", "false", "excluded"):
        line = marks[f"alarms:{kind}"]
        np.testing.assert_allclose(
            sorted(line.get_xdata()), sorted(at.time_sec[at.kind == kind] / 3600)
        )
        assert line.get_color() == ALARM_COLORS[kind]
    assert ALARM_COLORS["true"] != ALARM_COLORS["false"]
    assert [len(marks[f"alarms:{k}"].get_xdata()) for k in ("true", "false")] == [2, 3]
    # bad windows of the test part only (the validation case p02 is not drawn)
    test = preds[(preds.part == "test") & preds.bad]
    rug = lines_by_gid(ax, "bad_windows")["bad_windows"]
    np.testing.assert_allclose(sorted(rug.get_xdata()), sorted(test.end_sec / 3600))
    score = next(line for line in ax.get_lines() if line.get_label() == "risk score (window)")
    xs = np.asarray(score.get_xdata(), float)
    assert np.nanmax(xs) == pytest.approx(FILES[-1][1] / 3600)
    assert np.isnan(xs).sum() == 2  # the line breaks at both gaps
    gaps = sorted(
        (p.get_x(), p.get_x() + p.get_width()) for p in ax.patches if p.get_gid() == "gap"
    )
    np.testing.assert_allclose(gaps, [(1800 / 3600, 1810 / 3600), (3610 / 3600, 5400 / 3600)])
    sop = [p for p in ax.patches if p.get_gid() == "sop"]
    assert len(sop) == 1
    assert sop[0].get_x() == pytest.approx((ONSET - SPH - SOP) / 3600)
    assert sop[0].get_x() + sop[0].get_width() == pytest.approx((ONSET - SPH) / 3600)
    assert any(
        line.get_ydata()[0] == 0.7 for line in ax.get_lines() if line.get_linestyle() == "--"
    )
    assert "2 true, 3 false, 1 excluded" in fig._suptitle.get_text()
    plt.close(fig)


def test_risk_timeline_within_split_draws_only_test_files():
    """Within a patient, validation and test are different files of one case: only the test
    part's windows are drawn, and the axis spans its files."""
    w = windows_of("p01", "test", np.random.default_rng(0), 1.0)
    w = w[w.segment == 0]
    w = w.assign(part=np.where(w.file == "p01_00.edf", "val", "test"))
    fig = plot_risk_timeline(
        w, files_of("p01"), ledger_of("p01"), alarms_of("p01"), 0.7, LABELS, SOURCE, target_fah=0.5
    )
    ax = fig.axes[0]
    score = next(line for line in ax.get_lines() if line.get_label() == "risk score (window)")
    xs = np.asarray(score.get_xdata(), float)
    test = w[w.part == "test"]
    assert np.nanmin(xs) == pytest.approx(test.end_sec.min() / 3600)
    assert np.isfinite(xs).sum() == len(test)
    rug = lines_by_gid(ax, "bad_windows")["bad_windows"]
    assert len(rug.get_xdata()) == int(test.bad.sum())
    assert ax.get_xlim()[0] == pytest.approx(FILES[1][0] / 3600)
    plt.close(fig)


def test_risk_timeline_one_panel_per_segment_and_smoothing(frames):
    preds = frames["predictions"]["p02"]
    fig = plot_risk_timeline(
        preds,
        files_of("p02"),
        ledger_of("p02"),
        alarms_of("p02"),
        0.7,
        LABELS,
        SOURCE,
        target_fah=0.5,
        alarm_params=AlarmParams(smoothing="ema", ema_alpha=0.3),
    )
    panels = [ax for ax in fig.axes if ax.get_ylabel()]
    assert len(panels) == 2  # segments 0 and 1 of p02
    assert any(line.get_label().startswith("smoothed risk") for line in panels[0].get_lines())
    # all alarms are on segment 0
    assert len(lines_by_gid(panels[1], "alarms:")["alarms:false"].get_xdata()) == 0
    plt.close(fig)


def test_risk_timeline_without_test_rows_says_so(frames):
    preds = frames["predictions"]["p01"]
    fig = plot_risk_timeline(
        preds[preds.part == "val"], files_of("p01"), ledger_of("p01"), alarms_of("p01"), 0.5,
        LABELS, SOURCE,
    )  # fmt: skip
    assert any("no test predictions" in t.get_text() for t in fig.axes[0].texts)
    plt.close(fig)


def test_warning_times_counts_caught_at_target_per_model():
    tables = pd.concat(
        [seizures_of(f, m).assign(model=m) for f in FOLDS for m in MODELS], ignore_index=True
    )
    fig = plot_warning_times(tables, SOURCE, target_fah=0.5, split="loso", label_params=LABELS)
    ax = fig.axes[0]
    bars = {m: [p for p in ax.patches if p.get_gid() == f"hist:{m}"] for m in MODELS}
    heights = {m: sum(p.get_height() for p in bars[m]) for m in MODELS}
    assert heights == {"logreg": 2, "mlp": 3}  # logreg misses p01; 0.1-target rows ignored
    centres = [p.get_x() + p.get_width() / 2 for p in bars["mlp"] if p.get_height()]
    assert len(centres) == 1 and 1.0 <= centres[0] <= 1.5  # 60 s = 1 min, bin [1, 1.5)
    assert "minutes" in ax.get_xlabel() and "count" in ax.get_ylabel()
    plt.close(fig)


def test_warning_times_marks_sph_and_preictal_of_the_label_params():
    tables = pd.concat(
        [seizures_of(f, m).assign(model=m) for f in FOLDS for m in MODELS], ignore_index=True
    )
    labels = LabelParams(preictal_min=20, gap_sec=90)
    fig = plot_warning_times(tables, SOURCE, target_fah=0.5, label_params=labels)
    ax = fig.axes[0]
    marks = {line.get_linestyle(): line.get_xdata()[0] for line in ax.get_lines()}
    assert marks == {"--": pytest.approx(1.5), ":": pytest.approx(20.0)}  # SPH, SPH + SOP
    plt.close(fig)


def test_choose_timeline_fold_prefers_a_caught_seizure():
    tables = pd.concat(
        [seizures_of(f, m).assign(fold=f, model=m) for f in FOLDS for m in MODELS],
        ignore_index=True,
    )
    results = results_table()
    assert choose_timeline_fold(results, tables, "logreg", 0.5) == ("p02", "p02")
    assert choose_timeline_fold(results, tables, "mlp", 0.5) == ("p01", "p01")
    none_caught = tables.assign(caught=False)
    assert choose_timeline_fold(results, none_caught, "logreg", 0.5) == ("p01", None)
    assert choose_timeline_fold(results[results.fold == SKIPPED], tables, "logreg", 0.5) is None


def test_risk_gallery_one_short_row_per_test_patient_with_counts():
    """23 patients (CHB-MIT's loso folds) stay one figure of short rows, each titled with its
    seizures and alarms at the target."""
    from preictal.plots.timeline import plot_risk_gallery

    preds, alarms, files, seizures = {}, {}, [], []
    for i in range(23):
        case = f"chb{i + 1:02d}"
        start = np.arange(0, 7200, 5.0)
        preds[case] = pd.DataFrame(
            {"case": case, "file": f"{case}_01.edf", "part": "test", "start_sec": start,
             "end_sec": start + 10, "score": np.linspace(0, 1, start.size)}
        )  # fmt: skip
        files.append({"case": case, "file": f"{case}_01.edf", "start_sec": 0.0, "end_sec": 7210.0})
        seizures.append({"case": case, "onset_sec": 5000.0})
        alarms[case] = pd.DataFrame(
            {"case": case, "time_sec": [4600.0, 1000.0, 2000.0], "kind": ["true", "false", "false"],
             "target_fah": [0.5, 0.5, 1.0]}
        )  # fmt: skip
    fig = plot_risk_gallery(
        preds, alarms, dict.fromkeys(preds, 0.8), pd.DataFrame(files), pd.DataFrame(seizures),
        {"kind": "synthetic"}, model="xgboost", split="loso", target_fah=0.5,
    )  # fmt: skip
    assert len(fig.axes) == 23
    assert fig.get_size_inches()[1] <= 1.3 * 23 + 1.8
    title = fig.axes[4].get_title(loc="left")
    assert title == "chb05: 1 seizure onset(s), 1 true and 1 false alarm(s), 2.0 h"
    plt.close(fig)
