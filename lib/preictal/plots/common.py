"""Helpers shared by the evaluation figures: writing a PNG, the data-source suffix of titles,
figures that only say why there is nothing to plot, reading the workflow's tables, and small
selections and legend helpers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from preictal.io import atomic_path
from preictal.plots.dataset import source_label


def save(fig: plt.Figure, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=150, format="png")
    plt.close(fig)


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


def fah_targets(results: pd.DataFrame) -> tuple[float, ...]:
    """The FAH targets of a results table (its ``target_fah`` column), sorted; empty when the
    table has none."""
    if results.empty or "target_fah" not in results:
        return ()
    t = results.target_fah.astype(float)
    return tuple(sorted(t[np.isfinite(t)].unique()))


def _as_bool(values: pd.Series) -> np.ndarray:
    """Booleans from a column read from CSV (bool, 0/1, or the strings True/False)."""
    if values.dtype == bool:
        return values.to_numpy()
    return values.map(lambda v: str(v).strip().lower() in ("true", "1", "1.0")).to_numpy(bool)


def _at_target(frame: pd.DataFrame, target_fah: float) -> pd.DataFrame:
    if frame.empty or "target_fah" not in frame:
        return frame.iloc[0:0]
    return frame[np.isclose(frame.target_fah.astype(float), float(target_fah))]


# Up to this many folds get a colour and a legend entry each; more (CHB-MIT's 23 loso folds) are
# drawn as thin grey lines with their median in black, so that colours never repeat.
MAX_COLOURED_FOLDS = 10


def _fold_colors(folds: Sequence[str]) -> dict[str, tuple]:
    if len(folds) > MAX_COLOURED_FOLDS:
        return {f: (0.55, 0.55, 0.55, 0.6) for f in folds}
    cmap = plt.get_cmap("tab10")
    return {f: cmap(i) for i, f in enumerate(folds)}


def median_curve(lines: Sequence[tuple[np.ndarray, np.ndarray]], points: int = 200):
    """The median over folds of curves y(x) with different x: each interpolated on a common grid
    inside its own x range (NaN outside), then the median of those present."""
    finite = [(np.asarray(x, float), np.asarray(y, float)) for x, y in lines if len(x)]
    if not finite:
        return np.array([]), np.array([])
    lo = min(float(np.nanmin(x)) for x, _ in finite)
    hi = max(float(np.nanmax(x)) for x, _ in finite)
    grid = np.linspace(lo, hi, points)
    stack = np.full((len(finite), points), np.nan)
    for i, (x, y) in enumerate(finite):
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.sum() < 2:
            continue
        order = np.argsort(x[ok], kind="stable")
        xs, ys = x[ok][order], y[ok][order]
        inside = (grid >= xs[0]) & (grid <= xs[-1])
        stack[i, inside] = np.interp(grid[inside], xs, ys)
    with np.errstate(all="ignore"):
        present = np.isfinite(stack).any(axis=0)
        median = np.full(points, np.nan)
        median[present] = np.nanmedian(stack[:, present], axis=0)
    return grid, median


def draw_fold_lines(ax, lines: Mapping[str, tuple[np.ndarray, np.ndarray]], **style) -> None:
    """One line per fold: coloured and labelled by fold up to MAX_COLOURED_FOLDS folds; beyond,
    thin grey lines under one legend entry and their median in black (`median_curve`)."""
    colors = _fold_colors(list(lines))
    many = len(lines) > MAX_COLOURED_FOLDS
    for i, (fold, (x, y)) in enumerate(lines.items()):
        label = fold if not many else (f"each fold ({len(lines)})" if i == 0 else None)
        ax.plot(x, y, color=colors[fold], lw=0.8 if many else 1.2, label=label, **style)
    if many:
        gx, gy = median_curve(list(lines.values()))
        ax.plot(gx, gy, color="k", lw=2.0, label="median over folds", **style)


def fold_legend(ax, n_folds: int, **kwargs) -> None:
    """The legend of `draw_fold_lines`: titled "fold" while each fold has its own entry."""
    title = "fold" if n_folds <= MAX_COLOURED_FOLDS else None
    ax.legend(fontsize=7, title=title, title_fontsize=7, **kwargs)


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
