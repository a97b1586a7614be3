"""Figure of the per-patient chance tests: test sensitivity against the chance sensitivity, and
the chance-test (and seizure-time surrogate) p-values."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from preictal.plots.common import _as_bool, _at_target, _empty_note, _suffix, _trained


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
    # Outside the axes: inside, they covered points of the rightmost patients.
    ax.legend(handles=legend, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
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
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
    )
    ax_p.grid(alpha=0.3, axis="y")
    ax_p.set_xticks(range(len(folds)), folds, rotation=60 if len(folds) > 8 else 0, fontsize=8)
    ax_p.set_xlabel("test patient (fold)")
    if not folds:
        _empty_note(ax, "no trained fold")
    fig.tight_layout()
    return fig
