"""Figure of FusionNet training: per fold and epoch, the training and validation loss, the
validation window AUROC and the validation alarm sensitivity at the selection FAH target (the
metric of ``best_by_fah.pt`` and of ``fusion.train.early_stopping: fah``)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.lines import Line2D

from preictal.plots.common import (
    MAX_COLOURED_FOLDS,
    _empty_note,
    _fold_colors,
    _nonempty,
    _suffix,
    draw_fold_lines,
    fold_legend,
)


def plot_training_curves(
    curves: Mapping[str, pd.DataFrame],
    split: str,
    source: Mapping | None,
    *,
    model: str = "fusion",
) -> plt.Figure:
    """Per fold and epoch: training and validation loss (left; solid and dashed), validation
    window AUROC (middle), validation sensitivity at the FAH target (right)."""
    curves = _nonempty(curves, "epoch")
    colors = _fold_colors(list(curves))
    fig, (ax_l, ax_a, ax_s) = plt.subplots(1, 3, figsize=(16, 4.8))
    lw = 0.8 if len(curves) > MAX_COLOURED_FOLDS else 1.2
    auroc, sensitivity = {}, {}
    for fold, c in curves.items():
        c = c.sort_values("epoch")
        if "train_loss" in c:
            ax_l.plot(c.epoch, c.train_loss, color=colors[fold], lw=lw, marker=".")
        if "val_loss" in c:
            ax_l.plot(c.epoch, c.val_loss, color=colors[fold], lw=lw, ls="--", marker=".")
        if "val_auroc" in c:
            auroc[fold] = (c.epoch.to_numpy(float), c.val_auroc.to_numpy(float))
        if "val_sens_at_fah" in c and c.val_sens_at_fah.notna().any():
            sensitivity[fold] = (c.epoch.to_numpy(float), c.val_sens_at_fah.to_numpy(float))
    draw_fold_lines(ax_a, auroc, marker=".")
    draw_fold_lines(ax_s, sensitivity, marker=".")
    ax_s.set_ylim(-0.02, 1.02)
    ax_s.set_xlabel("epoch")
    ax_s.set_ylabel("validation sensitivity at the FAH target")
    ax_s.set_title("validation alarms (plain crossings, 20-min refractory)", fontsize=9)
    if not sensitivity:
        _empty_note(ax_s, "no validation alarm metric")
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
        fold_legend(ax_a, len(curves), loc="lower right")
    else:
        _empty_note(ax_l, "no trained fold")
    for ax in (ax_l, ax_a, ax_s):
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.suptitle(
        f"Training curves, {model}, {split} ({len(curves)} folds)\n{_suffix(source)}",
        fontsize=10,
    )
    fig.tight_layout()
    return fig
