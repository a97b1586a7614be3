"""Figures of the validation threshold sweep: false alarms per interictal hour (FAH) and
sensitivity against the threshold, and the trade-off between FAH and sensitivity with the test
operating points at each FAH target."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from preictal.evaluate.chance import random_predictor_p
from preictal.labels import LabelParams
from preictal.plots.common import (
    _at_target,
    _empty_note,
    _nonempty,
    _suffix,
    _trained,
    draw_fold_lines,
    fold_legend,
)


def plot_threshold_vs_fah(
    curves: Mapping[str, pd.DataFrame],
    model: str,
    split: str,
    source: Mapping | None,
    *,
    targets: Sequence[float],
    floor: float | None = None,
) -> plt.Figure:
    """Validation false alarms per interictal hour against the threshold, one line per fold,
    on a log axis; FAH 0 (and NaN: no interictal time) is drawn at ``floor`` (default a tenth of
    the smallest target, 0.01 without targets). The FAH ``targets`` (those of the results table,
    :func:`preictal.plots.common.fah_targets`) are dashed horizontal lines."""
    targets = [float(t) for t in targets]
    floor = floor or (min(targets) / 10 if targets else 0.01)
    curves = _nonempty(curves, "threshold", "fah")
    fig, ax = plt.subplots(figsize=(9, 5))
    lines = {}
    for fold, c in curves.items():
        c = c.sort_values("threshold")
        fah = np.nan_to_num(c.fah.to_numpy(float), nan=floor)
        lines[fold] = (c.threshold.to_numpy(float), np.maximum(fah, floor))
    draw_fold_lines(ax, lines)
    for i, t in enumerate(targets):
        ax.axhline(t, ls="--", color="0.3", lw=0.9, label="FAH targets" if i == 0 else None)
        ax.text(1.0, t, f" {t:g}/h", transform=ax.get_yaxis_transform(), va="center", fontsize=7)
    ax.axhline(floor, ls=":", color="0.6", lw=0.8, label=f"FAH 0 drawn at {floor:g}")
    ax.set_yscale("log")
    ax.set_xlabel("threshold on the risk score (probability)")
    ax.set_ylabel("validation false alarms per interictal hour (1/h)")
    if not curves:
        _empty_note(ax, "no trained fold")
    fold_legend(ax, len(curves), loc="upper left", bbox_to_anchor=(1.06, 1.0))
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
    fig, ax = plt.subplots(figsize=(9, 5))
    lines = {}
    for fold, c in curves.items():
        c = c.sort_values("threshold")
        lines[fold] = (c.threshold.to_numpy(float), c.sensitivity.to_numpy(float))
    draw_fold_lines(ax, lines)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("threshold on the risk score (probability)")
    ax.set_ylabel("validation sensitivity (caught / scored seizures)")
    if not curves:
        _empty_note(ax, "no trained fold")
    else:
        fold_legend(ax, len(curves), loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3)
    ax.set_title(
        f"Validation sensitivity vs threshold, {model}, {split} ({len(curves)} folds)\n"
        f"{_suffix(source)}",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def plot_fah_sensitivity_tradeoff(
    curves: Mapping[str, pd.DataFrame],
    results: pd.DataFrame,
    model: str,
    split: str,
    source: Mapping | None,
    *,
    label_params: LabelParams,
    floor: float = 0.01,
) -> plt.Figure:
    """Per fold, the validation trade-off as the tuning sees it: the best validation sensitivity
    among thresholds with validation FAH <= x (thin steps, FAH on a log x axis); the test
    operating points of ``model`` at each FAH target (one marker per fold, shape and colour by
    target; a large star for the mean over folds); and the random predictor's chance of catching a
    seizure, p = 1 - exp(-FAH * SOP) (Schelter et al. 2006), SOP from ``label_params``. FAH 0 is
    drawn at ``floor``."""
    sop = label_params.sop_sec
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
