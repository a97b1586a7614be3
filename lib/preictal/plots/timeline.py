"""Figures of alarms on the timeline: a test patient's risk over time with its seizures, SOP,
SPH and alarms (:func:`plot_risk_timeline`, and :func:`choose_timeline_fold` for which fold and
case to show), and the warning times of the caught test seizures (:func:`plot_warning_times`)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from preictal.alarms.postprocess import AlarmParams, WindowSeries, smooth_risk, with_baseline
from preictal.alarms.scoring import merge_intervals
from preictal.labels import LabelParams
from preictal.plots.common import (
    _as_bool,
    _at_target,
    _dedup_legend,
    _empty_note,
    _suffix,
    _trained,
    message_figure,
)

ALARM_COLORS = {"true": "#2ca02c", "false": "#d62728", "excluded": "#7f7f7f"}
ALARM_NAMES = {
    "true": "true alarm",
    "false": "false alarm",
    "excluded": "excluded alarm (SPH, ictal, postictal)",
}


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
    label_params: LabelParams,
    source: Mapping | None,
    case: str | None = None,
    *,
    target_fah: float | None = None,
    fold: str | None = None,
    model: str | None = None,
    alarm_params: AlarmParams | None = None,
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
    sop, sph, preictal = label_params.sop_sec, label_params.sph_sec, label_params.preictal_sec
    files = files[files.case.astype(str) == case] if len(files) else files
    seizures = seizures[seizures.case.astype(str) == case] if len(seizures) else seizures
    if len(alarms):
        alarms = alarms[alarms.case.astype(str) == case]
        if target_fah is not None and "target_fah" in alarms:
            alarms = _at_target(alarms, target_fah)
    origin = float(files.start_sec.min()) if len(files) else float(p.start_sec.min())

    smoothed = None
    ap = alarm_params
    if ap is not None and (ap.smoothing != "none" or ap.baseline_min is not None):
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
            if s.onset_sec < lo - preictal or s.onset_sec > hi + sop:
                continue
            first, drawn = drawn == 0, drawn + 1
            ax.axvspan(
                h(s.onset_sec - preictal),
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
            ax.plot(h(x), y, color="k", lw=0.9, label=f"smoothed risk ({ap.smoothing})")
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
        f"SPH {sph:g} s, SOP {sop / 60:g} min, preictal {label_params.preictal_min:g} min\n"
        f"{_suffix(source)}",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def plot_warning_times(
    seizure_tables: pd.DataFrame,
    source: Mapping | None = None,
    *,
    target_fah: float = 0.5,
    split: str | None = None,
    label_params: LabelParams,
    bin_min: float = 0.5,
) -> plt.Figure:
    """Histogram of the warning times (minutes from the first true alarm to the onset) of the
    caught test seizures at ``target_fah``, one bar group per model. ``seizure_tables``: the
    test seizure tables of all folds and models with columns model, target_fah,
    time_to_warning_sec, caught (and scored, when there)."""
    sph, preictal = label_params.sph_sec, label_params.preictal_sec
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
    hi = preictal / 60.0
    if any(d.size for d in data):
        hi = max(hi, float(max(d.max() for d in data if d.size)))
    bins = np.arange(0.0, math.ceil(hi / bin_min) * bin_min + bin_min / 2, bin_min)
    if data:
        _, _, bars = ax.hist(data, bins=bins, label=names, rwidth=0.9)
        for m, container in zip(models, bars if len(data) > 1 else [bars], strict=True):
            for patch in container:
                patch.set_gid(f"hist:{m}")
    ax.axvline(sph / 60, color="k", ls="--", lw=0.9, label=f"SPH ({sph:g} s): shortest warning")
    ax.axvline(preictal / 60, color="k", ls=":", lw=0.9, label=f"SPH + SOP ({preictal / 60:g} min)")
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


def plot_risk_gallery(
    preds: Mapping[str, pd.DataFrame],
    alarms: Mapping[str, pd.DataFrame],
    thresholds: Mapping[str, float],
    files: pd.DataFrame,
    seizures: pd.DataFrame,
    source: Mapping | None,
    *,
    model: str,
    split: str,
    target_fah: float,
) -> plt.Figure:
    """Every test patient's risk, one row per fold (and test case), in hours from the case's
    first test file: the window score broken at recording gaps, unrecorded time grey, the
    threshold tuned on validation at ``target_fah``, seizure onsets, and alarms by kind; the row
    title counts them. Rows are short, so that 23 patients stay one readable page."""
    rows = []
    for fold in sorted(preds):
        p = preds[fold]
        p = p[p.part == "test"] if "part" in p else p
        for case in sorted(p.case.astype(str).unique()):
            rows.append((fold, case, p[p.case.astype(str) == case]))
    if not rows:
        return message_figure("Risk by patient", "no test predictions", source)
    height = 1.3 * len(rows) + 1.8  # inches: 1.3 per row, 1.2 for title and legend, 0.6 axis
    fig, axes = plt.subplots(len(rows), 1, figsize=(13, height), squeeze=False, sharey=True)
    fig.subplots_adjust(
        top=1 - 1.2 / height, bottom=0.6 / height, hspace=0.9, left=0.05, right=0.99
    )
    for ax, (fold, case, w) in zip(axes[:, 0], rows, strict=True):
        w = w.sort_values(["end_sec", "start_sec"])
        used = files[(files.case.astype(str) == case) & files.file.isin(set(w.file))]
        lo = float(used.start_sec.min()) if len(used) else float(w.start_sec.min())
        hi = float(used.end_sec.max()) if len(used) else float(w.end_sec.max())

        def h(t, lo=lo):
            return (np.asarray(t, dtype=float) - lo) / 3600.0

        recorded = (used.start_sec, used.end_sec) if len(used) else (w.start_sec, w.end_sec)
        for a, b in _spans_not_covered(lo, hi, *recorded):
            ax.axvspan(h(a), h(b), color="0.85", lw=0, zorder=0)
        x, y = _broken_line(
            w.start_sec.to_numpy(float), w.end_sec.to_numpy(float), w.score.to_numpy(float)
        )
        ax.plot(h(x), y, color="#1f77b4", lw=0.5)
        threshold = thresholds.get(fold, np.nan)
        if np.isfinite(threshold):
            ax.axhline(threshold, color="#d62728", ls="--", lw=0.8)
        s = seizures[seizures.case.astype(str) == case] if len(seizures) else seizures
        s = s[(s.onset_sec >= lo) & (s.onset_sec <= hi)] if len(s) else s
        for onset in s.onset_sec if len(s) else []:
            ax.axvline(h(onset), color="#7b3294", lw=1.2)
        a = alarms.get(fold, pd.DataFrame())
        if len(a):
            a = a[a.case.astype(str) == case]
            if "target_fah" in a:
                a = _at_target(a, target_fah)
        counts = {}
        for kind, color in ALARM_COLORS.items():
            t = a.time_sec[a.kind.astype(str) == kind].to_numpy(float) if len(a) else np.array([])
            counts[kind] = t.size
            ax.plot(h(t), np.full(t.size, 1.05), ls="none", marker="v", ms=5, color=color)
        ax.set_xlim(0, h(hi))
        ax.set_ylim(-0.05, 1.15)
        ax.set_yticks([0, 0.5, 1])
        ax.tick_params(labelsize=7)
        ax.set_title(
            f"{fold}"
            + (f" ({case})" if case != fold else "")
            + f": {len(s)} seizure onset(s), {counts['true']} true and {counts['false']} false "
            f"alarm(s), {h(hi):.1f} h",
            fontsize=8,
            loc="left",
        )
    axes[-1, 0].set_xlabel("hours from the case's first test file (grey: no recording)")
    handles = [
        plt.Line2D([], [], color="#1f77b4", lw=1, label="risk score (window)"),
        plt.Line2D([], [], color="#d62728", ls="--", label=f"threshold (FAH <= {target_fah:g}/h)"),
        plt.Line2D([], [], color="#7b3294", lw=1.2, label="seizure onset"),
        *[
            plt.Line2D([], [], ls="none", marker="v", color=c, label=ALARM_NAMES[k])
            for k, c in ALARM_COLORS.items()
        ],
    ]
    fig.legend(handles=handles, loc="upper right", fontsize=7, ncol=3)
    fig.suptitle(
        f"Risk by test patient, {model}, {split} ({len(rows)} rows)\n{_suffix(source)}",
        fontsize=10,
        x=0.01,
        ha="left",
    )
    return fig
