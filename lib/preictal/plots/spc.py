"""Figure of the seizure prediction characteristic (Maiwald et al. 2004; preictal.evaluate.spc)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from preictal.plots.common import _suffix, message_figure


def plot_spc(characteristic: pd.DataFrame, split: str, source: Mapping | None) -> plt.Figure:
    """One panel per model (columns) and SPH (rows): the pooled test sensitivity over SOP, one
    solid line per FAH target, and the random predictor's sensitivity at the same target as a
    dashed line of the same colour. A dotted vertical line marks the SOP the models were trained
    with (at their SPH); every other point re-scores the same predictions under another
    definition."""
    title = f"Seizure prediction characteristic ({split})"
    if characteristic.empty:
        return message_figure(title, "No fold was trained: nothing to re-score.", source)
    c = characteristic
    models = sorted(c.model.astype(str).unique())
    sphs = sorted(c.sph_sec.unique())
    targets = sorted(c.target_fah.unique())
    colors = {
        t: plt.get_cmap("viridis")(i / max(1, len(targets) - 1)) for i, t in enumerate(targets)
    }
    fig, axes = plt.subplots(
        len(sphs),
        len(models),
        figsize=(3.4 * len(models) + 2.8, 2.9 * len(sphs) + 0.9),
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    trained_sop, trained_sph = c.trained_sop_min.iloc[0], c.trained_sph_sec.iloc[0]
    for row, sph in enumerate(sphs):
        for col, model in enumerate(models):
            ax = axes[row, col]
            g = c[(c.model.astype(str) == model) & (c.sph_sec == sph)]
            for target in targets:
                t = g[np.isclose(g.target_fah, target)].sort_values("sop_min")
                line = ax.plot(
                    t.sop_min, t.pooled_sensitivity, marker="o", ms=3, color=colors[target],
                    label=f"FAH {target:g}/h",
                )[0]  # fmt: skip
                line.set_gid(f"spc:{model}:{sph:g}:{target:g}")
                chance = ax.plot(
                    t.sop_min, t.random_sensitivity, ls="--", lw=0.9, color=colors[target]
                )[0]
                chance.set_gid(f"random:{model}:{sph:g}:{target:g}")
            if np.isclose(sph, trained_sph):
                ax.axvline(trained_sop, ls=":", color="0.4", lw=1)
            ax.set_ylim(-0.03, 1.03)
            ax.grid(alpha=0.3)
            if row == 0:
                ax.set_title(model)
            if col == 0:
                ax.set_ylabel(f"SPH {sph:g} s\nsensitivity (pooled)")
            if row == len(sphs) - 1:
                ax.set_xlabel("SOP (min)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    handles.append(plt.Line2D([], [], ls="--", color="0.3"))
    labels.append("random predictor")
    handles.append(plt.Line2D([], [], ls=":", color="0.4"))
    labels.append(f"trained: SOP {trained_sop:g} min, SPH {trained_sph:g} s")
    fig.legend(handles, labels, loc="center right", fontsize=8, frameon=False)
    fig.suptitle(
        f"{title}: thresholds tuned on validation at each point; models trained with SOP "
        f"{trained_sop:g} min, SPH {trained_sph:g} s, re-scored under the others - {_suffix(source)}",
        fontsize=9,
    )
    fig.tight_layout(rect=(0, 0, 1 - 2.6 / fig.get_figwidth(), 0.95))
    return fig
