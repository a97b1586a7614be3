"""Figures of the window-level predictions: the test window confusion matrix at the tuned
threshold, and the reliability of the test windows before and after temperature scaling."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.special import expit

from preictal.evaluate.calibration import (
    apply_temperature,
    expected_calibration_error,
    fit_temperature_on_validation,
    reliability_table,
)
from preictal.plots.common import _at_target, _empty_note, _nonempty, _suffix, _trained

SCALING_COLORS = {"none": "#1f77b4", "temperature": "#ff7f0e"}


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
