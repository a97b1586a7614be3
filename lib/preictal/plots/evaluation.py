"""Figures of the evaluation stage (docs/EVALUATION.md): the validation threshold sweep, the
trade-off between false alarms and sensitivity, a test patient's risk timeline with its alarms,
warning times, FusionNet training curves, the window confusion matrix, reliability before and
after temperature scaling, and the per-patient chance tests.

Every ``plot_*`` function is a pure function of DataFrames that returns a matplotlib Figure;
:func:`make_evaluation_figures` reads the workflow's files and writes them all as PNG. Skipped
folds (empty tables) are left out; a figure with nothing to show says so instead of failing.
"""

from __future__ import annotations

import json
import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from scipy.special import expit  # noqa: E402

from preictal.alarms.scoring import label_params_from, merge_intervals  # noqa: E402
from preictal.evaluate.calibration import (  # noqa: E402
    apply_temperature,
    expected_calibration_error,
    fit_temperature_on_validation,
    reliability_table,
)
from preictal.evaluate.chance import random_predictor_p  # noqa: E402
from preictal.io import atomic_path, read_parquets  # noqa: E402
from preictal.plots.dataset import source_label  # noqa: E402

log = logging.getLogger(__name__)

FIGURES = (
    "threshold_vs_fah",
    "threshold_vs_sensitivity",
    "tradeoff",
    "risk_timeline",
    "warning_times",
    "training_curves",
    "confusion_matrix",
    "reliability",
    "chance_tests",
)
DEFAULT_TARGETS = (0.1, 0.2, 0.5, 1.0)  # as preictal.evaluate.fold.FAH_TARGETS
ALARM_COLORS = {"true": "#2ca02c", "false": "#d62728", "excluded": "#7f7f7f"}
ALARM_NAMES = {
    "true": "true alarm",
    "false": "false alarm",
    "excluded": "excluded alarm (SPH, ictal, postictal)",
}
SCALING_COLORS = {"none": "#1f77b4", "temperature": "#ff7f0e"}


def save(fig: plt.Figure, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=150, format="png")
    plt.close(fig)


# --- Helpers -------------------------------------------------------------------------------------


def _suffix(source: Mapping | None) -> str:
    return source_label(dict(source or {}))


def _read_csv(path: str | Path) -> pd.DataFrame:
    """A CSV, or an empty frame for an empty file (what a skipped fold writes)."""
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def _trained(results: pd.DataFrame) -> pd.DataFrame:
    """Rows of folds that trained: ``skipped`` empty (or no such column)."""
    if results.empty:
        return results
    if "skipped" not in results:
        return results
    s = results["skipped"]
    keep = s.isna() | (s.astype(str).str.strip() == "")
    return results[keep]


def _as_bool(values: pd.Series) -> np.ndarray:
    """Booleans from a column read from CSV (bool, 0/1, or the strings True/False)."""
    if values.dtype == bool:
        return values.to_numpy()
    return values.map(lambda v: str(v).strip().lower() in ("true", "1", "1.0")).to_numpy(bool)


def _at_target(frame: pd.DataFrame, target_fah: float) -> pd.DataFrame:
    if frame.empty or "target_fah" not in frame:
        return frame.iloc[0:0]
    return frame[np.isclose(frame.target_fah.astype(float), float(target_fah))]


def _sop_sph_sec(label_params: Mapping | None) -> tuple[float, float]:
    lp = label_params_from(label_params)
    return float(lp.preictal_min * 60 - lp.gap_sec), float(lp.gap_sec)


def _fold_colors(folds: Sequence[str]) -> dict[str, tuple]:
    cmap = plt.get_cmap("tab10" if len(folds) <= 10 else "tab20")
    return {f: cmap(i % cmap.N) for i, f in enumerate(folds)}


def _nonempty(frames: Mapping[str, pd.DataFrame], *columns: str) -> dict[str, pd.DataFrame]:
    """The frames with rows and the given columns, in sorted key order."""
    return {
        k: frames[k]
        for k in sorted(frames)
        if frames[k] is not None and len(frames[k]) and set(columns) <= set(frames[k].columns)
    }


def _empty_note(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=11)


def message_figure(title: str, message: str, source: Mapping | None) -> plt.Figure:
    """A figure that only says why there is nothing to plot."""
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.axis("off")
    _empty_note(ax, message)
    ax.set_title(f"{title} - {_suffix(source)}")
    fig.tight_layout()
    return fig


def _dedup_legend(ax, handles, labels, **kwargs) -> None:
    unique = dict(zip(labels, handles, strict=False))
    if unique:
        ax.legend(unique.values(), unique.keys(), **kwargs)


# --- 1, 2: the validation threshold sweep --------------------------------------------------------


def plot_threshold_vs_fah(
    curves: Mapping[str, pd.DataFrame],
    model: str,
    split: str,
    source: Mapping | None,
    *,
    targets: Sequence[float] = DEFAULT_TARGETS,
    floor: float | None = None,
) -> plt.Figure:
    """Validation false alarms per interictal hour against the threshold, one line per fold,
    on a log axis; FAH 0 (and NaN: no interictal time) is drawn at ``floor`` (default a tenth of
    the smallest target). The FAH targets are dashed horizontal lines."""
    floor = floor or min(targets) / 10
    curves = _nonempty(curves, "threshold", "fah")
    colors = _fold_colors(list(curves))
    fig, ax = plt.subplots(figsize=(9, 5))
    for fold, c in curves.items():
        c = c.sort_values("threshold")
        fah = np.nan_to_num(c.fah.to_numpy(float), nan=floor)
        ax.plot(c.threshold, np.maximum(fah, floor), color=colors[fold], lw=1.2, label=fold)
    for i, t in enumerate(targets):
        ax.axhline(t, ls="--", color="0.3", lw=0.9, label="FAH targets" if i == 0 else None)
        ax.text(1.0, t, f" {t:g}/h", transform=ax.get_yaxis_transform(), va="center", fontsize=7)
    ax.axhline(floor, ls=":", color="0.6", lw=0.8, label=f"FAH 0 drawn at {floor:g}")
    ax.set_yscale("log")
    ax.set_xlabel("threshold on the risk score (probability)")
    ax.set_ylabel("validation false alarms per interictal hour (1/h)")
    if not curves:
        _empty_note(ax, "no trained fold")
    ax.legend(fontsize=7, ncol=2 if len(curves) > 8 else 1, title="fold", title_fontsize=7)
    ax.grid(alpha=0.3, which="both")
    ax.set_title(
        f"Validation FAH vs threshold, {model}, {split} ({len(curves)} folds)\n{_suffix(source)}",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def plot_threshold_vs_sensitivity(
    curves: Mapping[str, pd.DataFrame], model: str, split: str, source: Mapping | None
) -> plt.Figure:
    """Validation sensitivity (share of scored validation seizures caught) against the threshold,
    one line per fold; folds without a scored validation seizure (NaN) draw nothing."""
    curves = _nonempty(curves, "threshold", "sensitivity")
    colors = _fold_colors(list(curves))
    fig, ax = plt.subplots(figsize=(9, 5))
    for fold, c in curves.items():
        c = c.sort_values("threshold")
        ax.plot(c.threshold, c.sensitivity.astype(float), color=colors[fold], lw=1.2, label=fold)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("threshold on the risk score (probability)")
    ax.set_ylabel("validation sensitivity (caught / scored seizures)")
    if not curves:
        _empty_note(ax, "no trained fold")
    else:
        ax.legend(fontsize=7, ncol=2 if len(curves) > 8 else 1, title="fold", title_fontsize=7)
    ax.grid(alpha=0.3)
    ax.set_title(
        f"Validation sensitivity vs threshold, {model}, {split} ({len(curves)} folds)\n"
        f"{_suffix(source)}",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


# --- 3: FAH / sensitivity trade-off --------------------------------------------------------------


def plot_fah_sensitivity_tradeoff(
    curves: Mapping[str, pd.DataFrame],
    results: pd.DataFrame,
    model: str,
    split: str,
    source: Mapping | None,
    *,
    label_params: Mapping | None = None,
    floor: float = 0.01,
) -> plt.Figure:
    """Per fold, the validation trade-off as the tuning sees it: the best validation sensitivity
    among thresholds with validation FAH <= x (thin steps, FAH on a log x axis); the test
    operating points of ``model`` at each FAH target (one marker per fold, shape and colour by
    target; a large star for the mean over folds); and the random predictor's chance of catching a
    seizure, p = 1 - exp(-FAH * SOP) (Schelter et al. 2006). FAH 0 is drawn at ``floor``."""
    sop, _ = _sop_sph_sec(label_params)
    curves = _nonempty(curves, "fah", "sensitivity")
    fig, ax = plt.subplots(figsize=(11, 5.5))
    for i, c in enumerate(curves.values()):
        c = c[np.isfinite(c.fah.to_numpy(float))].sort_values("fah", kind="stable")
        best = c.sensitivity.astype(float).cummax().ffill()
        line = ax.plot(
            np.maximum(c.fah.to_numpy(float), floor),
            best,
            color="0.55",
            lw=0.8,
            alpha=0.8,
            drawstyle="steps-post",
            label="validation: best sensitivity at FAH <= x (one line per fold)"
            if i == 0
            else None,
        )[0]
        line.set_gid("val_curve")
    r = _trained(results)
    if not r.empty:
        r = r[r.model.astype(str) == model]
    targets = sorted(r.target_fah.astype(float).unique()) if len(r) else []
    cmap = plt.get_cmap("viridis")
    markers = "osD^vP"
    x_max = 10.0
    for j, t in enumerate(targets):
        g = _at_target(r, t)
        fah, sens = g.test_fah.to_numpy(float), g.test_sensitivity.to_numpy(float)
        ok = np.isfinite(fah) & np.isfinite(sens)
        color = cmap(j / max(1, len(targets) - 1) * 0.9)
        marker = markers[j % len(markers)]
        sc = ax.scatter(
            np.maximum(fah[ok], floor),
            sens[ok],
            s=max(16, 90 - 22 * j),  # smaller on top, so that coinciding points stay visible
            color=color,
            marker=marker,
            alpha=0.85,
            edgecolor="k",
            lw=0.4,
            zorder=3 + j / 10,
            label=f"test, target {t:g}/h ({ok.sum()} folds)",
        )
        sc.set_gid(f"test_points:{t:g}")
        if ok.any():
            ax.scatter(
                max(fah[ok].mean(), floor),
                sens[ok].mean(),
                s=260,
                color=color,
                edgecolor="k",
                lw=1.2,
                marker="*",
                zorder=5,
            )
            x_max = max(x_max, float(fah[ok].max()))
        ax.axvline(t, color=color, ls=":", lw=0.8)
    grid = np.geomspace(floor, x_max * 1.5, 200)
    ax.plot(
        grid,
        random_predictor_p(grid, sop),
        color="k",
        ls="--",
        lw=1.2,
        label=f"random predictor p = 1 - exp(-FAH x SOP), SOP {sop / 60:g} min",
    )
    ax.scatter([], [], s=260, marker="*", color="w", edgecolor="k", label="test mean over folds")
    ax.plot([], [], color="0.3", ls=":", lw=0.8, label="FAH targets")
    ax.set_xscale("log")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(f"false alarms per interictal hour (1/h, log; 0 drawn at {floor:g})")
    ax.set_ylabel("sensitivity (caught / scored seizures)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if not curves and not targets:
        _empty_note(ax, "no trained fold")
    ax.set_title(
        f"FAH vs sensitivity: validation curves and test operating points, {model}, {split}\n"
        f"{_suffix(source)}",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


# --- 4: risk timeline of one test case -----------------------------------------------------------


def _spans_not_covered(lo: float, hi: float, starts, ends) -> list[tuple[float, float]]:
    """Parts of [lo, hi] outside the union of the intervals."""
    s, e = merge_intervals(np.asarray(starts, float), np.asarray(ends, float))
    out, t = [], lo
    for a, b in zip(s, e, strict=True):
        if a > t:
            out.append((t, min(a, hi)))
        t = max(t, b)
    if t < hi:
        out.append((t, hi))
    return [(a, b) for a, b in out if b > a]


def _broken_line(start: np.ndarray, end: np.ndarray, y: np.ndarray, tol: float = 1.0):
    """x (window ends) and y with a NaN inserted where unrecorded time separates two windows, so
    that a line is not drawn across a gap."""
    if start.size == 0:
        return end, y
    cut = np.flatnonzero(start[1:] > end[:-1] + tol) + 1
    return np.insert(end, cut, np.nan), np.insert(y.astype(float), cut, np.nan)


def plot_risk_timeline(
    preds: pd.DataFrame,
    files: pd.DataFrame,
    seizures: pd.DataFrame,
    alarms: pd.DataFrame,
    threshold: float,
    label_params: Mapping | None,
    source: Mapping | None,
    case: str | None = None,
    *,
    target_fah: float | None = None,
    fold: str | None = None,
    model: str | None = None,
    alarm_params: Mapping | None = None,
) -> plt.Figure:
    """The risk of one test case over time, one panel per segment (timeline).

    ``preds``: a fold's predictions (only ``part == "test"`` rows are used when the column is
    there); ``files``: the index of the case (other cases are ignored); ``seizures``: the seizure
    ledger; ``alarms``: the fold's test alarms (case, segment, time_sec, kind), filtered to
    ``target_fah`` when given and the column is there; ``threshold``: the tuned threshold at
    that target. ``case`` defaults to the first test case.

    Drawn: the window score at each window's end (the alarm time is the end of the raising
    window), broken at recording gaps; the smoothed risk too when ``alarm_params`` smooth (the
    threshold applies to it); the threshold; seizure onsets (solid) and ends (dotted) with the
    seizure shaded; each seizure's SOP [onset - SPH - SOP, onset - SPH] and SPH shaded; alarms by
    kind (markers above the plot and thin vertical lines); bad windows as a rug at the bottom;
    unrecorded time grey, and files of the case outside the test part hatched."""
    title = "Risk timeline"
    p = preds
    if "part" in p:
        p = p[p.part == "test"]
    if p.empty:
        return message_figure(title, "no test predictions", source)
    p = p.assign(case=p.case.astype(str))
    case = str(case) if case is not None else sorted(p.case.unique())[0]
    p = p[p.case == case]
    if p.empty:
        return message_figure(title, f"no test predictions of {case}", source)
    sop, sph = _sop_sph_sec(label_params)
    lp = label_params_from(label_params)
    files = files[files.case.astype(str) == case] if len(files) else files
    seizures = seizures[seizures.case.astype(str) == case] if len(seizures) else seizures
    if len(alarms):
        alarms = alarms[alarms.case.astype(str) == case]
        if target_fah is not None and "target_fah" in alarms:
            alarms = _at_target(alarms, target_fah)
    origin = float(files.start_sec.min()) if len(files) else float(p.start_sec.min())

    smoothed = None
    post = dict(alarm_params or {})
    if post.get("smoothing", "none") != "none" or post.get("baseline_min") is not None:
        from preictal.alarms.postprocess import (
            AlarmParams,
            WindowSeries,
            smooth_risk,
            with_baseline,
        )

        ap = AlarmParams.from_config(alarm_params)
        frame = p.reset_index(drop=True)
        series = with_baseline(WindowSeries.from_predictions(frame, ap.gap_tolerance_sec), ap)
        values = np.full(len(frame), np.nan)
        values[series.row] = smooth_risk(series, ap)
        p = frame.assign(smoothed=values)
        smoothed = True

    segments = sorted(p.segment.astype(int).unique())
    fig, axes = plt.subplots(
        len(segments), 1, figsize=(13, 3.6 * len(segments) + 1.0), squeeze=False
    )

    def h(t):
        return (np.asarray(t, dtype=float) - origin) / 3600.0

    counts = dict.fromkeys(ALARM_COLORS, 0)
    top = max(1.0, float(threshold) if np.isfinite(threshold) else 1.0)
    for ax, seg in zip(axes[:, 0], segments, strict=True):
        w = p[p.segment.astype(int) == seg].sort_values(["end_sec", "start_sec"])
        f_seg = files[files.segment.astype(int) == seg] if len(files) else files
        used = (
            f_seg[f_seg.file.astype(str).isin(set(w.file.astype(str)))]
            if len(f_seg) and "file" in w
            else f_seg
        )
        if len(used):
            lo, hi = float(used.start_sec.min()), float(used.end_sec.max())
        else:
            lo, hi = float(w.start_sec.min()), float(w.end_sec.max())
        # Unrecorded time (no file of the case), and files of the case in another part.
        recorded = (f_seg.start_sec, f_seg.end_sec) if len(f_seg) else (w.start_sec, w.end_sec)
        for i, (a, b) in enumerate(_spans_not_covered(lo, hi, *recorded)):
            ax.axvspan(
                h(a),
                h(b),
                color="0.8",
                lw=0,
                zorder=0,
                gid="gap",
                label="no recording" if i == 0 else None,
            )
        if len(used) and len(f_seg) > len(used):
            other = f_seg[~f_seg.file.astype(str).isin(set(used.file.astype(str)))]
            other = other[(other.end_sec > lo) & (other.start_sec < hi)]
            for i, r in enumerate(other.itertuples()):
                ax.axvspan(
                    h(max(r.start_sec, lo)),
                    h(min(r.end_sec, hi)),
                    facecolor="none",
                    hatch="//",
                    edgecolor="0.6",
                    lw=0,
                    zorder=0,
                    gid="other_part",
                    label="other part (not scored here)" if i == 0 else None,
                )
        # Seizures: SOP, SPH, the seizure itself.
        s_seg = seizures[seizures.segment.astype(int) == seg] if len(seizures) else seizures
        drawn = 0
        for s in s_seg.itertuples():
            if s.onset_sec < lo - sop - sph or s.onset_sec > hi + sop:
                continue
            first, drawn = drawn == 0, drawn + 1
            ax.axvspan(
                h(s.onset_sec - sph - sop),
                h(s.onset_sec - sph),
                color="#fdae6b",
                alpha=0.35,
                lw=0,
                zorder=0.5,
                gid="sop",
                label="SOP (an alarm here catches the seizure)" if first else None,
            )
            ax.axvspan(
                h(s.onset_sec - sph),
                h(s.onset_sec),
                color="#fee6ce",
                alpha=0.8,
                lw=0,
                zorder=0.5,
                label=f"SPH ({sph:g} s)" if first else None,
            )
            end = getattr(s, "end_sec", np.nan)
            if np.isfinite(end):
                ax.axvspan(
                    h(s.onset_sec),
                    h(end),
                    color="#7b3294",
                    alpha=0.25,
                    lw=0,
                    zorder=0.5,
                    label="seizure" if first else None,
                )
                ax.axvline(
                    h(end), color="#7b3294", ls=":", lw=1, label="seizure end" if first else None
                )
            ax.axvline(h(s.onset_sec), color="#7b3294", lw=1.4, label="onset" if first else None)
        # The risk.
        x, y = _broken_line(
            w.start_sec.to_numpy(float), w.end_sec.to_numpy(float), w.score.to_numpy(float)
        )
        ax.plot(h(x), y, color="#1f77b4", lw=0.7, label="risk score (window)")
        if smoothed:
            x, y = _broken_line(
                w.start_sec.to_numpy(float), w.end_sec.to_numpy(float), w.smoothed.to_numpy(float)
            )
            ax.plot(
                h(x), y, color="k", lw=0.9, label=f"smoothed risk ({alarm_params['smoothing']})"
            )
        target_text = f" (FAH <= {target_fah:g}/h)" if target_fah is not None else ""
        ax.axhline(
            threshold,
            color="#d62728",
            ls="--",
            lw=1,
            label=f"threshold {threshold:.6g}{target_text}",
        )
        bad = w.bad.astype(bool).to_numpy() if "bad" in w else np.zeros(len(w), bool)
        rug = ax.plot(
            h(w.end_sec[bad]),
            np.full(int(bad.sum()), -0.05),
            ls="none",
            marker="|",
            ms=8,
            color="#8c564b",
            label="bad window",
        )[0]
        rug.set_gid("bad_windows")
        # Alarms.
        a_seg = alarms[alarms.segment.astype(int) == seg] if len(alarms) else alarms
        for kind, color in ALARM_COLORS.items():
            t = (
                a_seg.time_sec[a_seg.kind.astype(str) == kind].to_numpy(float)
                if len(a_seg)
                else np.array([])
            )
            counts[kind] += t.size
            ax.vlines(h(t), -0.08, top * 1.1, color=color, lw=0.8, alpha=0.7, zorder=2.5)
            line = ax.plot(
                h(t),
                np.full(t.size, top * 1.07),
                ls="none",
                marker="v",
                ms=7,
                color=color,
                zorder=3,
                label=ALARM_NAMES[kind],
            )[0]
            line.set_gid(f"alarms:{kind}")
        ax.set_xlim(h(lo), h(hi))
        ax.set_ylim(-0.1, top * 1.12)
        ax.set_ylabel("risk (probability)")
        ax.set_xlabel(f"hours from the start of {case}'s first file")
        if len(segments) > 1:
            ax.set_title(f"segment {seg}", fontsize=9)
        ax.grid(alpha=0.25)
    handles, labels = [], []
    for ax in axes[:, 0]:
        hs, ls = ax.get_legend_handles_labels()
        handles += hs
        labels += ls
    _dedup_legend(
        axes[-1, 0],
        handles,
        labels,
        fontsize=7,
        ncol=4,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.2),
    )
    who = ", ".join(str(v) for v in (model, f"fold {fold}" if fold else None) if v)
    fig.suptitle(
        f"Risk timeline of test case {case}{' (' + who + ')' if who else ''}: "
        f"{counts['true']} true, {counts['false']} false, {counts['excluded']} excluded alarms; "
        f"SPH {sph:g} s, SOP {sop / 60:g} min, preictal {lp.preictal_min:g} min\n"
        f"{_suffix(source)}",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


# --- 5: warning times ----------------------------------------------------------------------------


def plot_warning_times(
    seizure_tables: pd.DataFrame,
    source: Mapping | None = None,
    *,
    target_fah: float = 0.5,
    split: str | None = None,
    label_params: Mapping | None = None,
    bin_min: float = 0.5,
) -> plt.Figure:
    """Histogram of the warning times (minutes from the first true alarm to the onset) of the
    caught test seizures at ``target_fah``, one bar group per model. ``seizure_tables``: the
    test seizure tables of all folds and models with columns model, target_fah,
    time_to_warning_sec, caught (and scored, when there)."""
    sop, sph = _sop_sph_sec(label_params)
    t = _at_target(seizure_tables, target_fah)
    models = sorted(t.model.astype(str).unique()) if len(t) else []
    data, names = [], []
    for m in models:
        g = t[t.model.astype(str) == m]
        caught = _as_bool(g.caught) & np.isfinite(g.time_to_warning_sec.to_numpy(float))
        scored = int(_as_bool(g.scored).sum()) if "scored" in g else len(g)
        data.append(g.time_to_warning_sec.to_numpy(float)[caught] / 60.0)
        names.append(f"{m} ({caught.sum()} caught of {scored} scored)")
    fig, ax = plt.subplots(figsize=(9, 5))
    hi = (sop + sph) / 60.0
    if any(d.size for d in data):
        hi = max(hi, float(max(d.max() for d in data if d.size)))
    bins = np.arange(0.0, math.ceil(hi / bin_min) * bin_min + bin_min / 2, bin_min)
    if data:
        _, _, bars = ax.hist(data, bins=bins, label=names, rwidth=0.9)
        for m, container in zip(models, bars if len(data) > 1 else [bars], strict=True):
            for patch in container:
                patch.set_gid(f"hist:{m}")
    ax.axvline(sph / 60, color="k", ls="--", lw=0.9, label=f"SPH ({sph:g} s): shortest warning")
    ax.axvline(
        (sop + sph) / 60, color="k", ls=":", lw=0.9, label=f"SPH + SOP ({(sop + sph) / 60:g} min)"
    )
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("warning time: onset - first true alarm (minutes)")
    ax.set_ylabel("caught test seizures (count)")
    if not any(d.size for d in data):
        _empty_note(ax, f"no caught test seizure at FAH target {target_fah:g}/h")
    ax.legend(fontsize=8, title="model", title_fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    ax.set_title(
        f"Warning times of caught test seizures, FAH target {target_fah:g}/h"
        f"{', ' + split if split else ''}\n{_suffix(source)}",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


# --- 6: training curves --------------------------------------------------------------------------


def plot_training_curves(
    curves: Mapping[str, pd.DataFrame],
    split: str,
    source: Mapping | None,
    *,
    model: str = "fusion",
) -> plt.Figure:
    """Per fold and epoch: training and validation loss (left; solid and dashed), validation
    window AUROC (right)."""
    curves = _nonempty(curves, "epoch")
    colors = _fold_colors(list(curves))
    fig, (ax_l, ax_a) = plt.subplots(1, 2, figsize=(12, 4.8))
    for fold, c in curves.items():
        c = c.sort_values("epoch")
        if "train_loss" in c:
            ax_l.plot(c.epoch, c.train_loss, color=colors[fold], lw=1.2, marker=".")
        if "val_loss" in c:
            ax_l.plot(c.epoch, c.val_loss, color=colors[fold], lw=1.2, ls="--", marker=".")
        if "val_auroc" in c:
            ax_a.plot(c.epoch, c.val_auroc, color=colors[fold], lw=1.2, marker=".", label=fold)
    ax_l.set_xlabel("epoch")
    ax_l.set_ylabel("loss (training objective, per window)")
    ax_l.set_title("loss: training (solid), validation (dashed)", fontsize=9)
    ax_l.legend(
        [Line2D([], [], color="k"), Line2D([], [], color="k", ls="--")],
        ["training", "validation"],
        fontsize=8,
    )
    ax_a.axhline(0.5, color="0.5", ls=":", lw=0.9)
    ax_a.set_ylim(0.0, 1.02)
    ax_a.set_xlabel("epoch")
    ax_a.set_ylabel("validation window AUROC")
    ax_a.set_title("validation AUROC (0.5 = chance, dotted)", fontsize=9)
    if curves:
        ax_a.legend(fontsize=7, ncol=2 if len(curves) > 8 else 1, title="fold", title_fontsize=7)
    else:
        _empty_note(ax_l, "no trained fold")
    for ax in (ax_l, ax_a):
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.suptitle(
        f"Training curves, {model}, {split} ({len(curves)} folds)\n{_suffix(source)}",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


# --- 7: window confusion matrix ------------------------------------------------------------------


def window_confusion_totals(results: pd.DataFrame, model: str, target_fah: float) -> dict:
    """Window confusion counts of ``model`` at ``target_fah`` summed over the trained folds:
    tp, fp, fn, tn and n_folds."""
    r = _trained(results)
    if len(r):
        r = _at_target(r[r.model.astype(str) == model], target_fah)
    out = {
        k: int(r[f"window_{k}"].fillna(0).sum()) if len(r) else 0 for k in ("tp", "fp", "fn", "tn")
    }
    out["n_folds"] = int(r.fold.nunique()) if len(r) else 0
    return out


def plot_confusion_matrix(
    results: pd.DataFrame, model: str, split: str, target_fah: float, source: Mapping | None
) -> plt.Figure:
    """Labelled good test windows of ``model`` summed over the folds: true class (rows) by the
    post-processed risk at or above the threshold tuned for ``target_fah`` (columns); each cell
    annotated with its count and its share of the row; colour is the row share."""
    c = window_confusion_totals(results, model, target_fah)
    m = np.array([[c["tp"], c["fn"]], [c["fp"], c["tn"]]], dtype=float)
    rows = m.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(rows > 0, m / rows, np.nan)
    fig, ax = plt.subplots(figsize=(6.5, 5.2))
    im = ax.imshow(np.nan_to_num(share), cmap="Blues", vmin=0, vmax=1)
    for i in range(2):
        for j in range(2):
            pct = f"{100 * share[i, j]:.1f} % of row" if np.isfinite(share[i, j]) else "-"
            ax.text(
                j,
                i,
                f"{int(m[i, j])}\n{pct}",
                ha="center",
                va="center",
                fontsize=11,
                color="w" if np.nan_to_num(share[i, j]) > 0.6 else "k",
                gid=f"cell:{i}{j}",
            )
    ax.set_xticks([0, 1], ["risk >= threshold\n(warning)", "risk < threshold"])
    ax.set_yticks([0, 1], ["preictal", "interictal"])
    ax.set_xlabel("prediction at the tuned threshold (windows)")
    ax.set_ylabel("true label (windows)")
    fig.colorbar(im, ax=ax, label="share of the row (fraction of windows)")
    sens = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else np.nan
    spec = c["tn"] / (c["tn"] + c["fp"]) if c["tn"] + c["fp"] else np.nan
    ax.set_title(
        f"Test window confusion, {model}, {split}, FAH target {target_fah:g}/h\n"
        f"{c['n_folds']} folds, {int(m.sum())} windows; window sensitivity {sens:.2f}, "
        f"specificity {spec:.2f}\n{_suffix(source)}",
        fontsize=9,
    )
    if c["n_folds"] == 0:
        _empty_note(ax, "no trained fold")
    fig.tight_layout()
    return fig


# --- 8: reliability ------------------------------------------------------------------------------


def reliability_data(preds_by_fold: Mapping[str, pd.DataFrame]) -> dict:
    """Test windows pooled over folds, with their probabilities before and after temperature
    scaling. Per fold the temperature is fitted on that fold's validation rows only
    (:func:`preictal.evaluate.calibration.fit_temperature_on_validation`) and applied to that fold's test
    logits. Labelled test windows (y_cls 0/1) with a finite logit are kept; bad ones too, as in
    :mod:`preictal.evaluate.calibration`.

    Returns a dict: ``y``, ``p_none``, ``p_temperature``, ``fold`` (arrays, one entry per pooled
    test window) and ``temperature`` (fold -> T)."""
    ys, p0, p1, folds, temps = [], [], [], [], {}
    for fold, p in _nonempty(preds_by_fold, "part", "y_cls", "logit").items():
        val = p[p.part == "val"]
        test = p[(p.part == "test") & p.y_cls.isin([0, 1])]
        test = test[np.isfinite(test.logit.to_numpy(float))]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # one class or a bound: T = 1 or at the bound
            t = fit_temperature_on_validation(val[np.isfinite(val.logit.to_numpy(float))])
        temps[fold] = t
        z = test.logit.to_numpy(float)
        ys.append(test.y_cls.to_numpy(float))
        p0.append(expit(z))
        p1.append(apply_temperature(z, t))
        folds.append(np.full(len(test), fold, dtype=object))

    def cat(parts, dtype=float):
        return np.concatenate(parts) if parts else np.array([], dtype=dtype)

    return {
        "y": cat(ys),
        "p_none": cat(p0),
        "p_temperature": cat(p1),
        "fold": cat(folds, object),
        "temperature": temps,
    }


def plot_reliability(
    preds_by_fold: Mapping[str, pd.DataFrame],
    base_rate_by_fold: Mapping[str, float] | None,
    model: str,
    split: str,
    source: Mapping | None,
    *,
    n_bins: int = 10,
) -> plt.Figure:
    """Reliability diagram of the test windows pooled over folds (see :func:`reliability_data`):
    mean predicted probability against the observed preictal fraction per uniform bin, before
    (T = 1) and after temperature scaling, with the diagonal; underneath, the histogram of the
    predicted probabilities (log counts). The legend gives the pooled ECE and Brier score, and
    the Brier skill score against each fold's training base rate when ``base_rate_by_fold`` is
    given."""
    d = reliability_data(preds_by_fold)
    y = d["y"]
    fig, (ax, ax_h) = plt.subplots(
        2, 1, figsize=(7.5, 8), sharex=True, gridspec_kw={"height_ratios": [3, 1.2]}
    )
    ax.plot([0, 1], [0, 1], color="0.4", ls="--", lw=1, label="perfect calibration")
    if base_rate_by_fold:
        ref = np.array([base_rate_by_fold.get(f, np.nan) for f in d["fold"]], dtype=float)
    else:
        ref = None
    temps = d["temperature"]
    for scaling in ("none", "temperature"):
        p = d[f"p_{scaling}"]
        if y.size == 0:
            break
        table = reliability_table(y, p, n_bins=n_bins)
        table = table[table.n > 0]
        ece = expected_calibration_error(y, p, n_bins=n_bins)
        brier = float(np.mean((p - y) ** 2))
        text = f"ECE {ece:.3f}, Brier {brier:.3f}"
        if ref is not None and np.isfinite(ref).all():
            denom = float(np.mean((ref - y) ** 2))
            if denom > 0:
                text += f", BSS {1 - brier / denom:.2f}"
        if scaling == "none":
            name = "uncalibrated (T = 1)"
        else:
            tv = np.array(list(temps.values()))
            span = f"{tv.min():.2g}" if np.ptp(tv) < 1e-3 else f"{tv.min():.2g}-{tv.max():.2g}"
            name = f"temperature scaled (T per fold on validation: {span})"
        line = ax.plot(
            table.mean_predicted,
            table.observed_fraction,
            marker="o",
            color=SCALING_COLORS[scaling],
            lw=1.3,
            label=f"{name}\n{text}",
        )[0]
        line.set_gid(f"reliability:{scaling}")
        ax_h.hist(
            p,
            bins=np.linspace(0, 1, 2 * n_bins + 1),
            histtype="step",
            color=SCALING_COLORS[scaling],
            lw=1.3,
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("observed preictal fraction (test windows)")
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3)
    if y.size == 0:
        _empty_note(ax, "no labelled test window")
    else:
        ax_h.set_yscale("log")
    ax_h.set_xlabel("predicted probability of preictal")
    ax_h.set_ylabel("windows (count)")
    ax_h.grid(alpha=0.3)
    ax.set_title(
        f"Reliability of test windows, {model}, {split}: {len(temps)} folds, {y.size} windows "
        f"({int(y.sum())} preictal), {n_bins} bins\n{_suffix(source)}",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


# --- 9: chance tests -----------------------------------------------------------------------------


def plot_chance_tests(
    results: pd.DataFrame,
    split: str,
    target_fah: float,
    source: Mapping | None,
    *,
    alpha: float = 0.05,
) -> plt.Figure:
    """Per patient (fold) and model at ``target_fah``: the test sensitivity (filled marker when
    the patient's chance test is significant, hollow otherwise) against the chance (critical)
    sensitivity (a bar), and underneath the chance-test p-values (and the seizure-time surrogate
    p-values when present) on a log axis with ``alpha``. Folds without a scored test seizure
    draw nothing."""
    r = _at_target(_trained(results), target_fah)
    folds = sorted(r.fold.astype(str).unique()) if len(r) else []
    models = sorted(r.model.astype(str).unique()) if len(r) else []
    xi = {f: i for i, f in enumerate(folds)}
    width = 0.7 / max(1, len(models))
    colors = {m: plt.get_cmap("tab10")(i % 10) for i, m in enumerate(models)}
    fig, (ax, ax_p) = plt.subplots(
        2,
        1,
        figsize=(max(8.0, 0.5 * len(folds) * max(1, len(models)) ** 0.5 + 3), 7.5),
        sharex=True,
        gridspec_kw={"height_ratios": [3, 2]},
    )
    floor = 1e-4
    for k, m in enumerate(models):
        g = r[r.model.astype(str) == m]
        x = np.array([xi[f] for f in g.fold.astype(str)]) + (k - (len(models) - 1) / 2) * width
        sens = g.test_sensitivity.to_numpy(float)
        chance = g.chance_sensitivity.to_numpy(float)
        sig = _as_bool(g.significant) if "significant" in g else np.zeros(len(g), bool)
        ok = np.isfinite(sens)
        c = colors[m]
        ax.vlines(x[ok], chance[ok], sens[ok], color=c, lw=0.8, alpha=0.6)
        ax.plot(x[ok], chance[ok], ls="none", marker="_", ms=12, mew=2, color=c)
        for flag, face, gid in ((True, c, "significant"), (False, "none", "not_significant")):
            sel = ok & (sig == flag)
            line = ax.plot(
                x[sel], sens[sel], ls="none", marker="o", ms=7, mfc=face, mec=c, mew=1.5
            )[0]
            line.set_gid(f"chance:{m}:{gid}")
            pv = g.chance_p.to_numpy(float)
            psel = sel & np.isfinite(pv)
            pl = ax_p.plot(
                x[psel],
                np.maximum(pv[psel], floor),
                ls="none",
                marker="o",
                ms=6,
                mfc=face,
                mec=c,
                mew=1.5,
            )[0]
            pl.set_gid(f"p:{m}:{gid}")
        if "surrogate_p" in g:
            sp = g.surrogate_p.to_numpy(float)
            s_ok = ok & np.isfinite(sp)
            ax_p.plot(x[s_ok], np.maximum(sp[s_ok], floor), ls="none", marker="x", ms=6, color=c)
    legend = [Line2D([], [], ls="none", marker="o", color=colors[m], label=m) for m in models] + [
        Line2D([], [], ls="none", marker="o", mfc="0.3", mec="0.3", label="significant"),
        Line2D([], [], ls="none", marker="o", mfc="none", mec="0.3", label="not significant"),
        Line2D(
            [], [], ls="none", marker="_", ms=12, mew=2, color="0.3", label="chance sensitivity"
        ),
    ]
    ax.legend(handles=legend, fontsize=7, ncol=2, loc="upper right")
    ax.set_ylim(-0.05, 1.08)
    ax.set_ylabel("test sensitivity (caught / scored)")
    ax.grid(alpha=0.3, axis="y")
    n_sig = {
        m: int(_as_bool(r[r.model.astype(str) == m].significant).sum())
        for m in models
        if "significant" in r
    }
    ax.set_title(
        f"Per-patient chance tests, {split}, FAH target {target_fah:g}/h; significant patients: "
        + (", ".join(f"{m} {n}/{len(folds)}" for m, n in n_sig.items()) or "-")
        + f"\n{_suffix(source)}",
        fontsize=9,
    )
    ax_p.axhline(alpha, color="#d62728", ls="--", lw=1)
    ax_p.set_yscale("log")
    ax_p.set_ylim(floor / 2, 1.5)
    ax_p.set_ylabel("p-value (log)")
    ax_p.legend(
        handles=[
            Line2D([], [], ls="none", marker="o", mfc="none", mec="0.3", label="chance test p"),
            Line2D([], [], ls="none", marker="x", color="0.3", label="surrogate p"),
            Line2D([], [], color="#d62728", ls="--", label=f"alpha {alpha:g}"),
        ],
        fontsize=7,
        loc="lower right",
    )
    ax_p.grid(alpha=0.3, axis="y")
    ax_p.set_xticks(range(len(folds)), folds, rotation=60 if len(folds) > 8 else 0, fontsize=8)
    ax_p.set_xlabel("test patient (fold)")
    if not folds:
        _empty_note(ax, "no trained fold")
    fig.tight_layout()
    return fig


# --- Driver --------------------------------------------------------------------------------------


def _fold_model_key(key) -> tuple[str, str]:
    if isinstance(key, str):
        fold, model = key.split("/")
        return fold, model
    fold, model = key
    return str(fold), str(model)


def _base_rates(manifests: Mapping[str, str] | None) -> dict[str, float] | None:
    if not manifests:
        return None
    import json

    from preictal.evaluate.fold import training_base_rate

    out = {}
    for fold, path in manifests.items():
        m = json.loads(Path(path).read_text())
        if m.get("skipped") or "counts" not in m:
            continue
        train = m["counts"]["train"]
        if train["n_pos"] + train["n_neg"]:
            out[str(fold)] = training_base_rate(m)
    return out


def choose_timeline_fold(
    results: pd.DataFrame, seizures: pd.DataFrame, model: str, target_fah: float
) -> tuple[str, str | None] | None:
    """The (fold, case) of the risk timeline: the first trained fold of ``model`` (sorted) with
    a caught test seizure at ``target_fah`` and the case of its first caught seizure; else the
    first trained fold and no case (its first test case); None when no fold trained.
    ``seizures``: test seizure tables with a fold column (and model, when several)."""
    r = _trained(results)
    if r.empty:
        return None
    folds = sorted(r[r.model.astype(str) == model].fold.astype(str).unique())
    if not folds:
        return None
    s = _at_target(seizures, target_fah)
    if len(s) and "model" in s:
        s = s[s.model.astype(str) == model]
    for fold in folds:
        g = s[s.fold.astype(str) == fold] if len(s) else s
        if len(g):
            g = g[_as_bool(g.caught)]
        if len(g):
            g = g.sort_values(["case", "segment", "onset_sec"])
            return fold, str(g.case.iloc[0])
    return folds[0], None


def _read_training_curves(path: str | Path) -> pd.DataFrame:
    """Per-epoch curves from a FusionNet fold manifest (``training.curves``) or a CSV."""
    if str(path).endswith(".json"):
        manifest = json.loads(Path(path).read_text())
        return pd.DataFrame((manifest.get("training") or {}).get("curves") or [])
    return _read_csv(path)


def make_evaluation_figures(
    paths: Mapping,
    outputs: Mapping[str, str],
    *,
    split: str,
    model: str,
    target_fah: float,
    label_params: Mapping | None,
    data_source: Mapping,
    alarm_params: Mapping | None = None,
    alpha: float = 0.05,
) -> None:
    """Read the evaluation outputs of one split and write every figure of :data:`FIGURES` to
    ``outputs`` (figure name -> PNG path). Model-specific figures show ``model``; warning times
    and chance tests compare all models found.

    ``paths`` (folds are the fold names, e.g. ``chb01``):

    - ``results``: ``results/{split}_results.csv`` (all folds, models and targets);
    - ``curves``: {fold: ``results/eval/{split}/{fold}/{model}/val_curve.csv``};
    - ``seizures``: {(fold, model) or "fold/model": ``.../{fold}/{model}/test_seizures.parquet``},
      for every model to compare in the warning-time figure;
    - ``alarms``: {fold: ``results/eval/{split}/{fold}/{model}/test_alarms.parquet``};
    - ``predictions``: {fold: ``results/folds/{split}/{fold}/{model}/predictions.parquet``};
    - ``train_curves``: {fold: ``results/folds/{split}/{fold}/fusion/manifest.json``} (the
      curves under ``training.curves``) or a ``train_curves.csv``;
    - ``files``: [``results/index/{case}/files.parquet``, ...] of every case;
    - ``ledgers``: [``results/labels/{case}_seizures.parquet``, ...] of every case;
    - ``split_manifests`` (optional): {fold: ``results/folds/{split}/{fold}/split.json``}, for
      the training base rates of the Brier skill score in the reliability figure.

    Skipped folds (empty files) are left out. When no fold of the split trained, every output
    is a figure saying so. ``alarm_params`` (the ``alarms`` config), when it smooths, adds the
    smoothed risk to the timeline."""
    source = dict(data_source or {})
    missing = set(FIGURES) - set(outputs)
    if missing:
        raise ValueError(f"outputs lack {sorted(missing)}")
    results = _read_csv(paths["results"])
    trained = _trained(results)
    if trained.empty:
        for name in FIGURES:
            save(
                message_figure(
                    name.replace("_", " ").capitalize(),
                    f"no fold of the {split} split trained: nothing to evaluate",
                    source,
                ),
                outputs[name],
            )
        return
    targets = tuple(sorted(results.target_fah.astype(float).unique())) or DEFAULT_TARGETS

    curves = {str(f): _read_csv(p) for f, p in (paths.get("curves") or {}).items()}
    save(
        plot_threshold_vs_fah(curves, model, split, source, targets=targets),
        outputs["threshold_vs_fah"],
    )
    save(
        plot_threshold_vs_sensitivity(curves, model, split, source),
        outputs["threshold_vs_sensitivity"],
    )
    save(
        plot_fah_sensitivity_tradeoff(
            curves, results, model, split, source, label_params=label_params
        ),
        outputs["tradeoff"],
    )

    tables = []
    for key, path in (paths.get("seizures") or {}).items():
        fold, m = _fold_model_key(key)
        t = pd.read_parquet(path)
        if len(t):
            tables.append(t.assign(fold=fold, model=m))
    seizure_tables = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    save(
        plot_warning_times(
            seizure_tables, source, target_fah=target_fah, split=split, label_params=label_params
        ),
        outputs["warning_times"],
    )

    preds = {str(f): pd.read_parquet(p) for f, p in (paths.get("predictions") or {}).items()}
    preds = {f: p for f, p in preds.items() if len(p)}
    files = read_parquets(paths.get("files") or [])
    ledger = read_parquets(paths.get("ledgers") or [])
    pick = choose_timeline_fold(
        results[results.fold.astype(str).isin(set(preds))], seizure_tables, model, target_fah
    )
    if pick is None:
        fig = message_figure(
            "Risk timeline", f"no trained fold of {model} with predictions", source
        )
    else:
        fold, case = pick
        log.info("risk timeline: fold %s, case %s", fold, case or "(first test case)")
        row = _at_target(
            trained[(trained.fold.astype(str) == fold) & (trained.model == model)], target_fah
        )
        threshold = float(row.threshold.iloc[0]) if len(row) else float("nan")
        alarm_path = (paths.get("alarms") or {}).get(fold)
        alarms = pd.read_parquet(alarm_path) if alarm_path else pd.DataFrame()
        fig = plot_risk_timeline(
            preds[fold],
            files,
            ledger,
            alarms,
            threshold,
            label_params,
            source,
            case,
            target_fah=target_fah,
            fold=fold,
            model=model,
            alarm_params=alarm_params,
        )
    save(fig, outputs["risk_timeline"])

    train_curves = {
        str(f): _read_training_curves(p) for f, p in (paths.get("train_curves") or {}).items()
    }
    save(plot_training_curves(train_curves, split, source), outputs["training_curves"])
    save(
        plot_confusion_matrix(results, model, split, target_fah, source),
        outputs["confusion_matrix"],
    )
    save(
        plot_reliability(preds, _base_rates(paths.get("split_manifests")), model, split, source),
        outputs["reliability"],
    )
    save(
        plot_chance_tests(results, split, target_fah, source, alpha=alpha),
        outputs["chance_tests"],
    )
