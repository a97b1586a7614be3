"""Evaluation figures (preictal.plots.evaluation) on small synthetic evaluation outputs: three
trained folds and one skipped, two models, files with gaps, bad windows, a second segment."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy.special import expit

import preictal.plots.evaluation as ev
from preictal.evaluate.calibration import fit_temperature_on_validation, reliability_table

SOURCE = {"kind": "synthetic", "seed": 7, "effect_size": 1.0}
LABELS = {"preictal_min": 10, "gap_sec": 30, "postictal_min": 10}  # SPH 30 s, SOP 570 s
SOP, SPH = 570.0, 30.0
TARGETS = (0.1, 0.5)
FOLDS = ("p01", "p02", "p03")  # trained
SKIPPED = "p04"
MODELS = ("logreg", "mlp")
ONSET = 3000.0
FILES = ((0.0, 1800.0), (1810.0, 3610.0), (5400.0, 7200.0))  # gaps: 10 s and 1790 s


def files_of(case: str) -> pd.DataFrame:
    rows = [
        {"case": case, "file": f"{case}_{i:02d}.edf", "segment": 0, "start_sec": a, "end_sec": b}
        for i, (a, b) in enumerate(FILES)
    ]
    if case == "p02":  # a second timeline
        rows.append(
            {
                "case": case,
                "file": f"{case}_s1.edf",
                "segment": 1,
                "start_sec": 0.0,
                "end_sec": 900.0,
            }
        )
    return pd.DataFrame(rows)


def ledger_of(case: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case": [case],
            "segment": [0],
            "seizure": [0],
            "onset_sec": [ONSET],
            "end_sec": [ONSET + 60],
            "lead": [True],
            "scorable": [True],
        }
    )


def windows_of(case: str, part: str, rng: np.random.Generator, scale: float) -> pd.DataFrame:
    """10 s windows every 10 s over the case's files; preictal before ONSET; every 13th bad."""
    rows = []
    for f in files_of(case).itertuples():
        for start in np.arange(f.start_sec, f.end_sec - 10 + 1e-9, 10.0):
            rows.append((f.file, f.segment, start, start + 10))
    w = pd.DataFrame(rows, columns=["file", "segment", "start_sec", "end_sec"])
    end = w.end_sec.to_numpy()
    pre = (w.segment == 0) & (end >= ONSET - 600) & (end <= ONSET - SPH)
    near = (w.segment == 0) & (end > ONSET - SPH) & (end < ONSET + 60 + 600)
    y = np.where(pre, 1, np.where(near, -1, 0)).astype(np.int8)
    logit = scale * (2.0 * (y == 1) - 1.0 + rng.normal(0, 1.0, len(w)))
    return w.assign(
        case=case,
        window=np.arange(len(w)),
        part=part,
        bad=np.arange(len(w)) % 13 == 5,
        y_cls=y,
        logit=logit,
        score=expit(logit),
    )


def predictions(fold: str, rng: np.random.Generator) -> pd.DataFrame:
    """Test: the fold's case. Validation: the next case, with logits 4x as large (so that the
    validation rows give a clearly different temperature and reliability)."""
    val_case = FOLDS[(FOLDS.index(fold) + 1) % len(FOLDS)]
    return pd.concat(
        [windows_of(val_case, "val", rng, 4.0), windows_of(fold, "test", rng, 1.0)],
        ignore_index=True,
    )


def alarms_of(fold: str) -> pd.DataFrame:
    """Test alarms at two targets: at 0.5, 2 true, 3 false, 1 excluded; at 0.1, 1 false."""
    kinds = {
        0.5: [
            (2500.0, "true"),
            (2900.0, "true"),
            (600.0, "false"),
            (2000.0, "false"),
            (6000.0, "false"),
            (3050.0, "excluded"),
        ],
        0.1: [(1000.0, "false")],
    }
    return pd.DataFrame(
        [
            {"case": fold, "segment": 0, "time_sec": t, "kind": k, "target_fah": target}
            for target, rows in kinds.items()
            for t, k in rows
        ]
    )


# Caught at 0.5 in p02 and p03 (warning 5 and 8 min), not in p01; all caught at 0.1 (ignored).
CAUGHT = {"p01": None, "p02": 300.0, "p03": 480.0}


def seizures_of(fold: str, model: str) -> pd.DataFrame:
    rows = []
    for target in TARGETS:
        ttw = CAUGHT[fold] if target == 0.5 else 100.0
        if model == "mlp" and target == 0.5:
            ttw = 60.0  # mlp catches every seizure, 1 minute ahead
        rows.append(
            {
                "case": fold,
                "segment": 0,
                "seizure": 0,
                "onset_sec": ONSET,
                "scored": True,
                "excluded_reason": "",
                "caught": ttw is not None,
                "first_true_alarm_sec": ONSET - ttw if ttw else np.nan,
                "time_to_warning_sec": ttw if ttw else np.nan,
                "target_fah": target,
            }
        )
    return pd.DataFrame(rows)


def results_table() -> pd.DataFrame:
    rows = []
    for i, fold in enumerate(FOLDS):
        for k, model in enumerate(MODELS):
            for j, target in enumerate(TARGETS):
                base = 10 * i + 100 * k + 1000 * j
                rows.append(
                    {
                        "split": "loso",
                        "fold": fold,
                        "model": model,
                        "target_fah": target,
                        "threshold": 0.9 - 0.2 * j,
                        "flag": None,
                        "val_fah": target / 2,
                        "val_sensitivity": 1.0,
                        # p03 of logreg scores no seizure: NaN sensitivity
                        "test_sensitivity": np.nan if (fold, model) == ("p03", "logreg") else 0.5,
                        "test_fah": 0.2 * (i + 1),
                        "test_time_in_warning": 0.1,
                        "test_n_caught": 1,
                        "test_n_seizures_scored": 2,
                        "test_mean_time_to_warning_sec": 300.0,
                        "chance_sensitivity": 0.5 + 0.1 * i,
                        "chance_p": 0.01 if i != 1 else 0.3,
                        "significant": i != 1,  # p02 not significant
                        "surrogate_p": 0.05,
                        "window_tp": base + 1,
                        "window_fp": base + 2,
                        "window_fn": base + 3,
                        "window_tn": base + 4,
                        "val_auroc": 0.8,
                        "test_auroc": 0.7,
                        "skipped": None,
                        "data_source": "synthetic",
                    }
                )
    for model in MODELS:
        for target in TARGETS:
            rows.append(
                {
                    "split": "loso",
                    "fold": SKIPPED,
                    "model": model,
                    "target_fah": target,
                    "skipped": "fewer than 3 lead seizures",
                }
            )
    return pd.DataFrame(rows)


def val_curve(i: int) -> pd.DataFrame:
    t = np.linspace(0, 1, 21)
    fah = np.maximum(0.0, 2.0 * (1 - t) - 0.2 * i)  # reaches 0: drawn at the floor
    return pd.DataFrame(
        {
            "threshold": t,
            "fah": fah,
            "sensitivity": np.clip(1.2 - t, 0, 1),
            "time_in_warning": 0.5 * (1 - t),
            "n_alarms": np.round(10 * (1 - t)),
        }
    )


def train_curve(i: int) -> pd.DataFrame:
    e = np.arange(4)
    return pd.DataFrame(
        {
            "epoch": e,
            "train_loss": 1.0 / (e + 1) + 0.1 * i,
            "val_loss": 1.2 / (e + 1) + 0.1 * i,
            "val_auroc": 0.6 + 0.05 * e + 0.01 * i,
        }
    )


@pytest.fixture
def frames():
    rng = np.random.default_rng(3)
    return {
        "results": results_table(),
        "curves": {f: val_curve(i) for i, f in enumerate(FOLDS)} | {SKIPPED: pd.DataFrame()},
        "predictions": {f: predictions(f, rng) for f in FOLDS},
        "train": {f: train_curve(i) for i, f in enumerate(FOLDS)} | {SKIPPED: pd.DataFrame()},
    }


@pytest.fixture
def workflow_files(tmp_path, frames):
    """The files the driver reads, laid out as the workflow writes them (skipped fold: empty)."""
    r = tmp_path / "results"
    (r / "tables").mkdir(parents=True)
    results = r / "loso_results.csv"
    frames["results"].to_csv(results, index=False)
    paths = {
        "results": str(results),
        "curves": {},
        "seizures": {},
        "alarms": {},
        "predictions": {},
        "train_curves": {},
        "files": [],
        "ledgers": [],
    }
    for fold in (*FOLDS, SKIPPED):
        trained = fold != SKIPPED
        for model in MODELS:
            d = r / f"eval/loso/{fold}/{model}"
            d.mkdir(parents=True)
            p = d / "test_seizures.parquet"
            (seizures_of(fold, model) if trained else pd.DataFrame()).to_parquet(p)
            paths["seizures"][(fold, model)] = str(p)
        d = r / f"eval/loso/{fold}/logreg"
        (frames["curves"][fold]).to_csv(d / "val_curve.csv", index=False)
        paths["curves"][fold] = str(d / "val_curve.csv")
        (alarms_of(fold) if trained else pd.DataFrame()).to_parquet(d / "test_alarms.parquet")
        paths["alarms"][fold] = str(d / "test_alarms.parquet")
        f = r / f"folds/loso/{fold}/logreg"
        f.mkdir(parents=True)
        (frames["predictions"][fold] if trained else pd.DataFrame()).to_parquet(
            f / "predictions.parquet"
        )
        paths["predictions"][fold] = str(f / "predictions.parquet")
        t = r / f"folds/loso/{fold}/fusion"
        t.mkdir(parents=True)
        frames["train"][fold].to_csv(t / "train_curves.csv", index=False)
        paths["train_curves"][fold] = str(t / "train_curves.csv")
        (r / f"folds/loso/{fold}/split.json").write_text(
            '{"counts": {"train": {"n_pos": 20, "n_neg": 80}}, "skipped": null}'
            if trained
            else '{"skipped": "fewer than 3 lead seizures"}'
        )
    paths["split_manifests"] = {
        fold: str(r / f"folds/loso/{fold}/split.json") for fold in (*FOLDS, SKIPPED)
    }
    for case in (*FOLDS, SKIPPED):
        (r / f"index/{case}").mkdir(parents=True)
        files_of(case).to_parquet(r / f"index/{case}/files.parquet")
        (r / "labels").mkdir(exist_ok=True)
        ledger_of(case).to_parquet(r / f"labels/{case}_seizures.parquet")
        paths["files"].append(str(r / f"index/{case}/files.parquet"))
        paths["ledgers"].append(str(r / f"labels/{case}_seizures.parquet"))
    outputs = {name: str(tmp_path / "figures" / f"{name}.png") for name in ev.FIGURES}
    return paths, outputs


def lines_by_gid(ax, prefix: str) -> dict:
    return {
        line.get_gid(): line
        for line in ax.get_lines()
        if line.get_gid() and line.get_gid().startswith(prefix)
    }


def assert_png(path, min_bytes=15_000) -> None:
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        w, h = im.size
    assert 600 <= w <= 4000 and 300 <= h <= 4000, (path, w, h)
    assert path.stat().st_size > min_bytes, (path, path.stat().st_size)


# --- Figures one by one --------------------------------------------------------------------------


def test_threshold_vs_fah_one_line_per_trained_fold_floor_and_targets(frames):
    fig = ev.plot_threshold_vs_fah(frames["curves"], "logreg", "loso", SOURCE, targets=TARGETS)
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
    ev.plt.close(fig)


def test_threshold_vs_sensitivity_one_line_per_trained_fold(frames):
    fig = ev.plot_threshold_vs_sensitivity(frames["curves"], "logreg", "loso", SOURCE)
    ax = fig.axes[0]
    lines = [line for line in ax.get_lines() if line.get_label() in (*FOLDS, SKIPPED)]
    assert sorted(line.get_label() for line in lines) == sorted(FOLDS)
    np.testing.assert_allclose(lines[0].get_ydata(), val_curve(0).sensitivity)
    ev.plt.close(fig)


def test_tradeoff_points_curves_and_chance_line(frames):
    fig = ev.plot_fah_sensitivity_tradeoff(
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
    ev.plt.close(fig)


def test_risk_timeline_alarms_bad_windows_gaps_sop(frames):
    preds = frames["predictions"]["p01"]
    alarms = alarms_of("p01")
    fig = ev.plot_risk_timeline(
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
        assert line.get_color() == ev.ALARM_COLORS[kind]
    assert ev.ALARM_COLORS["true"] != ev.ALARM_COLORS["false"]
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
    ev.plt.close(fig)


def test_risk_timeline_within_split_draws_only_test_files():
    """Within a patient, validation and test are different files of one case: only the test
    part's windows are drawn, and the axis spans its files."""
    w = windows_of("p01", "test", np.random.default_rng(0), 1.0)
    w = w[w.segment == 0]
    w = w.assign(part=np.where(w.file == "p01_00.edf", "val", "test"))
    fig = ev.plot_risk_timeline(
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
    ev.plt.close(fig)


def test_risk_timeline_one_panel_per_segment_and_smoothing(frames):
    preds = frames["predictions"]["p02"]
    fig = ev.plot_risk_timeline(
        preds,
        files_of("p02"),
        ledger_of("p02"),
        alarms_of("p02"),
        0.7,
        LABELS,
        SOURCE,
        target_fah=0.5,
        alarm_params={"smoothing": "ema", "ema_alpha": 0.3},
    )
    panels = [ax for ax in fig.axes if ax.get_ylabel()]
    assert len(panels) == 2  # segments 0 and 1 of p02
    assert any(line.get_label().startswith("smoothed risk") for line in panels[0].get_lines())
    # all alarms are on segment 0
    assert len(lines_by_gid(panels[1], "alarms:")["alarms:false"].get_xdata()) == 0
    ev.plt.close(fig)


def test_risk_timeline_without_test_rows_says_so(frames):
    preds = frames["predictions"]["p01"]
    fig = ev.plot_risk_timeline(
        preds[preds.part == "val"], files_of("p01"), ledger_of("p01"), alarms_of("p01"), 0.5,
        LABELS, SOURCE,
    )  # fmt: skip
    assert any("no test predictions" in t.get_text() for t in fig.axes[0].texts)
    ev.plt.close(fig)


def test_warning_times_counts_caught_at_target_per_model():
    tables = pd.concat(
        [seizures_of(f, m).assign(model=m) for f in FOLDS for m in MODELS], ignore_index=True
    )
    fig = ev.plot_warning_times(tables, SOURCE, target_fah=0.5, split="loso", label_params=LABELS)
    ax = fig.axes[0]
    bars = {m: [p for p in ax.patches if p.get_gid() == f"hist:{m}"] for m in MODELS}
    heights = {m: sum(p.get_height() for p in bars[m]) for m in MODELS}
    assert heights == {"logreg": 2, "mlp": 3}  # logreg misses p01; 0.1-target rows ignored
    centres = [p.get_x() + p.get_width() / 2 for p in bars["mlp"] if p.get_height()]
    assert len(centres) == 1 and 1.0 <= centres[0] <= 1.5  # 60 s = 1 min, bin [1, 1.5)
    assert "minutes" in ax.get_xlabel() and "count" in ax.get_ylabel()
    ev.plt.close(fig)


def test_training_curves_lines_per_fold(frames):
    fig = ev.plot_training_curves(frames["train"], "loso", SOURCE)
    ax_l, ax_a = fig.axes[:2]
    assert len(ax_l.get_lines()) == 2 * len(FOLDS)
    folds = [line for line in ax_a.get_lines() if line.get_label() in FOLDS]
    assert len(folds) == len(FOLDS)
    np.testing.assert_allclose(folds[0].get_ydata(), train_curve(0).val_auroc)
    ev.plt.close(fig)


def test_confusion_matrix_annotations_sum_counts(frames):
    results = frames["results"]
    fig = ev.plot_confusion_matrix(results, "mlp", "loso", 0.5, SOURCE)
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
    ev.plt.close(fig)


def test_reliability_fits_temperature_on_validation_and_plots_test(frames, monkeypatch):
    preds = frames["predictions"] | {SKIPPED: pd.DataFrame()}
    seen = []

    def spy(rows):
        seen.append(rows.copy())
        return fit_temperature_on_validation(rows)

    monkeypatch.setattr(ev, "fit_temperature_on_validation", spy)
    d = ev.reliability_data(preds)
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

    fig = ev.plot_reliability(preds, {f: 0.2 for f in FOLDS}, "logreg", "loso", SOURCE)
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
    ev.plt.close(fig)


def test_chance_tests_filled_for_significant_hollow_otherwise(frames, tmp_path):
    path = tmp_path / "r.csv"
    frames["results"].to_csv(path, index=False)  # as read back by the driver (NaN rows: object)
    results = pd.read_csv(path)
    fig = ev.plot_chance_tests(results, "loso", 0.5, SOURCE)
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
    ev.plt.close(fig)


# --- Driver --------------------------------------------------------------------------------------


def test_choose_timeline_fold_prefers_a_caught_seizure():
    tables = pd.concat(
        [seizures_of(f, m).assign(fold=f, model=m) for f in FOLDS for m in MODELS],
        ignore_index=True,
    )
    results = results_table()
    assert ev.choose_timeline_fold(results, tables, "logreg", 0.5) == ("p02", "p02")
    assert ev.choose_timeline_fold(results, tables, "mlp", 0.5) == ("p01", "p01")
    none_caught = tables.assign(caught=False)
    assert ev.choose_timeline_fold(results, none_caught, "logreg", 0.5) == ("p01", None)
    assert ev.choose_timeline_fold(results[results.fold == SKIPPED], tables, "logreg", 0.5) is None


def test_driver_writes_every_figure(workflow_files, monkeypatch):
    paths, outputs = workflow_files
    titles = {}
    real_save = ev.save

    def spy(fig, path):
        texts = [fig._suptitle.get_text()] if fig._suptitle else []
        titles[str(path)] = " ".join(texts + [ax.get_title() for ax in fig.axes])
        real_save(fig, path)

    monkeypatch.setattr(ev, "save", spy)
    ev.make_evaluation_figures(
        paths,
        outputs,
        split="loso",
        model="logreg",
        target_fah=0.5,
        label_params=LABELS,
        data_source=SOURCE,
    )
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


def test_driver_when_nothing_trained(workflow_files):
    paths, outputs = workflow_files
    results = pd.read_csv(paths["results"])
    results[results.fold == SKIPPED].to_csv(paths["results"], index=False)
    ev.make_evaluation_figures(
        paths,
        outputs,
        split="loso",
        model="logreg",
        target_fah=0.5,
        label_params=LABELS,
        data_source=SOURCE,
    )
    for name in ev.FIGURES:
        assert_png(Path(outputs[name]), min_bytes=5_000)


def test_driver_skips_folds_without_files(workflow_files):
    """A trained fold whose predictions are empty (e.g. evaluation skipped it) is left out of the
    timeline choice and the reliability figure instead of failing."""
    paths, outputs = workflow_files
    pd.DataFrame().to_parquet(paths["predictions"]["p02"])
    ev.make_evaluation_figures(
        paths,
        outputs,
        split="loso",
        model="logreg",
        target_fah=0.5,
        label_params=LABELS,
        data_source=SOURCE,
    )
    for name in ev.FIGURES:
        assert_png(Path(outputs[name]))


@pytest.mark.parametrize(
    "make",
    [
        lambda: ev.plot_threshold_vs_fah({"p04": pd.DataFrame()}, "m", "loso", SOURCE),
        lambda: ev.plot_threshold_vs_sensitivity({"p04": pd.DataFrame()}, "m", "loso", SOURCE),
        lambda: ev.plot_fah_sensitivity_tradeoff({}, pd.DataFrame(), "m", "loso", SOURCE),
        lambda: ev.plot_warning_times(pd.DataFrame(), SOURCE),
        lambda: ev.plot_training_curves({"p04": pd.DataFrame()}, "loso", SOURCE),
        lambda: ev.plot_confusion_matrix(results_table().iloc[-4:], "m", "loso", 0.5, SOURCE),
        lambda: ev.plot_reliability({"p04": pd.DataFrame()}, None, "m", "loso", SOURCE),
        lambda: ev.plot_chance_tests(results_table().iloc[-4:], "loso", 0.5, SOURCE),
    ],
)
def test_empty_inputs_give_a_figure_that_says_so(make):
    fig = make()
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any(t.startswith("no ") for t in texts), texts
    ev.plt.close(fig)
