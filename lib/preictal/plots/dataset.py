"""Dataset figures: each case's recording timeline with files, gaps and seizures."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from preictal.io import atomic_path, read_parquet_metadata  # noqa: E402


def source_label(source: dict) -> str:
    """How a figure names its data: ``synthetic`` (with seed) or ``CHB-MIT``."""
    if source.get("kind") == "synthetic":
        return (
            f"SYNTHETIC data (seed {source.get('seed')}, effect size {source.get('effect_size')})"
        )
    return "CHB-MIT" + (" metadata only" if source.get("kind") == "chbmit-metadata" else "")


def plot_timelines(files: pd.DataFrame, seizures: pd.DataFrame, source: dict) -> plt.Figure:
    """One row per case; hours from the case's first file. Segments of unknown relative timing
    (chb24) are drawn side by side with a break marker instead of their placeholder gap."""
    cases = list(dict.fromkeys(files.case))
    fig, ax = plt.subplots(figsize=(11, 0.5 * len(cases) + 1.6))
    for row, case in enumerate(cases):
        f = files[files.case == case]
        s = seizures[seizures.case == case]
        origin = f.start_sec.min()
        shift = _segment_shift(f)
        for r in f.itertuples():
            start = (r.start_sec - origin - shift[r.segment]) / 3600
            dur = (r.duration_sec if np.isfinite(r.duration_sec) else 0.0) / 3600
            ax.barh(row, dur, left=start, height=0.6, color="#8fb3d9", edgecolor="#2b5d8a", lw=0.4)
        for r in s.itertuples():
            t = (r.onset_sec - origin - shift[r.segment]) / 3600
            ax.plot([t, t], [row - 0.38, row + 0.38], color="#c0392b", lw=1.4)
        for seg in sorted(set(f.segment))[1:]:
            t = (f[f.segment == seg].start_sec.min() - origin - shift[seg]) / 3600
            ax.plot([t], [row], marker="|", color="k", ms=14)
    ax.set_yticks(range(len(cases)), cases)
    ax.invert_yaxis()
    ax.set_xlabel("hours from the first file of the case (gaps to scale)")
    ax.set_title(f"Recording timeline: files (blue), seizure onsets (red) - {source_label(source)}")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def _segment_shift(f: pd.DataFrame) -> dict[int, float]:
    """Seconds to pull each segment left so that unknown gaps are drawn as 5 minutes."""
    shift, total, prev_end = {}, 0.0, None
    for seg, g in f.groupby("segment", sort=True):
        start = g.start_sec.min()
        end = np.nanmax(g.end_sec) if np.isfinite(g.end_sec).any() else start
        if prev_end is not None:
            total += start - prev_end - 300.0
        shift[seg] = total
        prev_end = end
    return shift


def plot_timeline_files(
    files: Sequence[str | Path], seizures: Sequence[str | Path], out: str | Path
):
    """Read the per-case index tables and save the timeline figure."""
    f = pd.concat([pd.read_parquet(p) for p in files], ignore_index=True)
    s = pd.concat([pd.read_parquet(p) for p in seizures], ignore_index=True)
    fig = plot_timelines(f, s, read_parquet_metadata(files[0]).get("data_source", {}))
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=150, format="png")
    plt.close(fig)
