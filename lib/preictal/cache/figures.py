"""Figures of the cache stage: what preprocessing does, and what the labels look like on the EEG."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import signal as sps  # noqa: E402

from preictal.cache.store import PreprocessParams, read_canonical  # noqa: E402
from preictal.chbmit.edf import read_edf_header  # noqa: E402
from preictal.io import atomic_path  # noqa: E402
from preictal.labels import LabelParams  # noqa: E402
from preictal.plots.dataset import source_label  # noqa: E402
from preictal.signal.montage import CANONICAL_CHANNELS, plan_montage  # noqa: E402

log = logging.getLogger(__name__)

SHOW = ("FP1-F7", "T7-P7", "C3-P3", "FP2-F8", "T8-P8", "CZ-PZ")  # six channels, both sides
COLORS = {"preictal": "#d62728", "sph": "#ff7f0e", "ictal": "#7b3294", "postictal": "#9e9ac8"}
LABEL_COLORS = {1: "#d62728", 0: "#1f77b4", -1: "#bdbdbd"}


def save(fig: plt.Figure, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=150, format="png")
    plt.close(fig)


def _traces(ax, x: np.ndarray, t: np.ndarray, names: Sequence[str], spacing: float) -> None:
    for i, row in enumerate(x):
        ax.plot(t, row - i * spacing, lw=0.5, color="k")
    ax.set_yticks([-i * spacing for i in range(len(names))], names)
    ax.set_ylim(-(len(names) - 0.3) * spacing, 0.8 * spacing)


def plot_raw_vs_preprocessed(raw, raw_rate, prep, sfreq, t0, source) -> plt.Figure:
    """Six canonical channels, 10 s, as read from the EDF (at its own rate) and as cached."""
    idx = [CANONICAL_CHANNELS.index(c) for c in SHOW]
    t = t0 + np.arange(raw.shape[1]) / raw_rate
    fig, axes = plt.subplots(1, 2, figsize=(12, 5), sharey=True)
    panels = ((axes[0], raw, raw_rate, "raw EDF"), (axes[1], prep, sfreq, "preprocessed (cache)"))
    for ax, x, rate, title in panels:
        _traces(ax, x[idx], t0 + np.arange(x.shape[1]) / rate, SHOW, spacing=150)
        ax.set_title(title)
        ax.set_xlabel("seconds in file")
    axes[0].plot([t[5], t[5]], [-100 + 0.5 * 150, 0.5 * 150], color="r", lw=2)
    axes[0].text(t[12], 0.55 * 150, "100 uV", color="r", fontsize=8)
    fig.suptitle(f"Raw vs preprocessed EEG - {source_label(source)}")
    fig.tight_layout()
    return fig


def plot_psd_before_after(raw, raw_rate, prep, params: PreprocessParams, source) -> plt.Figure:
    """Mean PSD of the raw EDF (at its own rate) and of the cache (at ``target_sfreq``), with
    the band-pass edges and the notch of ``params``."""
    sfreq = params.target_sfreq
    f_raw, p_raw = sps.welch(raw, raw_rate, nperseg=int(4 * raw_rate), axis=-1)
    f, p_prep = sps.welch(prep, sfreq, nperseg=int(4 * sfreq), axis=-1)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.semilogy(f_raw, p_raw.mean(axis=0), label="raw EDF", color="0.5")
    ax.semilogy(f, p_prep.mean(axis=0), label="preprocessed", color="k")
    for edge in (params.l_freq, params.h_freq):
        ax.axvline(edge, ls="--", color="b", lw=0.8)
    if params.notch_hz:
        notch = params.notch_hz
        ax.axvline(notch, ls=":", color="r", lw=0.8, label=f"notch {notch:g} Hz")
    ax.set_xlabel("Hz")
    ax.set_ylabel("PSD (uV^2/Hz), mean of 18 channels")
    ax.set_xlim(0, sfreq / 2)
    ax.legend()
    ax.set_title(f"PSD before and after filtering - {source_label(source)}")
    fig.tight_layout()
    return fig


def plot_spectrogram(x, sfreq, t0, onset, source, channel: str) -> plt.Figure:
    f, t, s = sps.spectrogram(x, sfreq, nperseg=int(2 * sfreq), noverlap=int(sfreq))
    fig, ax = plt.subplots(figsize=(10, 4))
    mesh = ax.pcolormesh((t0 + t - onset) / 60, f, 10 * np.log10(s + 1e-6), shading="auto")
    ax.axvline(0, color="w", lw=1)
    ax.set_ylim(0, 45)
    ax.set_xlabel("minutes from seizure onset")
    ax.set_ylabel("Hz")
    fig.colorbar(mesh, ax=ax, label="dB (uV^2/Hz)")
    ax.set_title(f"Spectrogram of {channel} around an onset - {source_label(source)}")
    fig.tight_layout()
    return fig


def _shade_seizure(ax, onset: float, end: float, params: LabelParams) -> None:
    """Shade the preictal period, the SPH, the seizure and the postictal period (minutes from
    onset) per the labeling parameters, and draw the onset."""
    sph, preictal = params.sph_sec, params.preictal_sec
    postictal = params.postictal_min * 60

    def span(a, b, key, label):
        ax.axvspan(
            (a - onset) / 60,
            (b - onset) / 60,
            color=COLORS[key],
            alpha=0.25,
            lw=0,
            label=label,
            zorder=0,
        )

    span(onset - preictal, onset - sph, "preictal", "preictal")
    span(onset - sph, onset, "sph", "SPH (gap)")
    span(onset, end, "ictal", "ictal")
    span(end, end + postictal, "postictal", "postictal")
    ax.axvline(0, color="k", lw=1)


def plot_label_timeline(files, windows, labels, seizure, source, params: LabelParams) -> plt.Figure:
    """Window labels around one seizure whose preictal period lies partly in the previous file."""
    onset, end = seizure.onset_sec, seizure.end_sec
    # Far enough back to reach interictal windows (beyond the interictal buffer).
    back = max(2.5 * params.preictal_sec, (params.interictal_buffer_min + 10) * 60)
    lo, hi = onset - back, end + 1.5 * params.postictal_min * 60
    sel = (windows.end_sec > lo) & (windows.start_sec < hi)
    fig, ax = plt.subplots(figsize=(11, 3.4))
    names = {1: "preictal windows", 0: "interictal windows", -1: "excluded windows"}
    for y in (1, 0, -1):
        m = sel & (labels.y_cls == y)
        ax.scatter(
            (windows.end_sec[m] - onset) / 60,
            np.full(m.sum(), y),
            s=6,
            c=LABEL_COLORS[y],
            label=f"{names[y]} ({int(m.sum())})",
        )
    for f in files.itertuples():
        if f.end_sec > lo and f.start_sec < hi:
            ax.axvspan(
                (f.start_sec - onset) / 60,
                (f.end_sec - onset) / 60,
                ymin=0.9,
                ymax=1.0,
                color="#8fb3d9",
            )
            ax.text((max(f.start_sec, lo) - onset) / 60 + 0.2, 1.42, f.file, fontsize=7)
    _shade_seizure(ax, onset, end, params)
    ax.set_yticks([1, 0, -1], ["preictal", "interictal", "excluded"])
    ax.set_ylim(-1.5, 1.6)
    ax.set_xlabel("minutes from onset (window end)")
    ax.set_title(
        f"{seizure.case} labels across a file boundary (files: blue band) - {source_label(source)}"
    )
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7)
    fig.tight_layout()
    return fig


DETAIL_SEC = 10.0  # seconds of EEG drawn sample by sample beside each 30-min envelope


def plot_label_sanity(examples: list[dict], source, params: LabelParams) -> plt.Figure:
    """For seizures of different patients: six channels of cached EEG over the labelled periods
    (min-max envelope per second, the way EEG viewers compress long spans) with the periods
    shaded, and beside it ``DETAIL_SEC`` of the same channels sample by sample in the preictal
    period and from the onset, where the waveform itself can be read."""
    n = len(examples)
    fig, axes = plt.subplots(
        n, 3, figsize=(14, 3.3 * n), squeeze=False, gridspec_kw={"width_ratios": [3.2, 1, 1]}
    )
    spacing = 250.0
    y_lim = (-(len(SHOW) - 0.4) * spacing, 0.7 * spacing)
    for row, ex in zip(axes, examples, strict=True):
        ax = row[0]
        onset, end = ex["onset"], ex["end"]
        for t, lo, hi in ex["envelopes"]:  # one per cached block: gaps stay empty
            for i in range(len(SHOW)):
                ax.fill_between(
                    (t - onset) / 60, lo[i] - i * spacing, hi[i] - i * spacing, color="0.35", lw=0
                )
        x_bar = (end - onset) / 60 + 1.4 * params.postictal_min  # near the right end of the span
        ax.plot([x_bar, x_bar], [0.45 * spacing - spacing, 0.45 * spacing], color="k", lw=2.5)
        ax.text(x_bar, 0.5 * spacing, f" {spacing:g} uV", fontsize=7, va="bottom", ha="center")
        _shade_seizure(ax, onset, end, params)
        for g0, g1 in ex["gaps"]:
            ax.axvspan(
                (g0 - onset) / 60,
                (g1 - onset) / 60,
                color="w",
                hatch="//",
                ec="0.4",
                lw=0,
                label="gap",
            )
        for detail in ex["details"]:  # where the detail panels are
            ax.axvspan(
                (detail["start"] - onset) / 60,
                (detail["start"] + DETAIL_SEC - onset) / 60,
                color="tab:blue",
                alpha=0.5,
                lw=0,
                label=f"{DETAIL_SEC:g} s drawn at the right",
            )
        ax.set_yticks([-i * spacing for i in range(len(SHOW))], SHOW)
        ax.set_ylim(*y_lim)
        ax.set_title(
            f"{ex['case']} ({ex['patient']}), {ex['file']}; channels {spacing:g} uV apart "
            f"(scale bar), per-second min-max envelope",
            fontsize=9,
        )
        ax.set_xlabel("minutes from onset")
        for dax, detail in zip(row[1:], ex["details"], strict=True):
            for t, x in detail["parts"]:
                for i in range(len(SHOW)):
                    dax.plot(t - detail["start"], x[i] - i * spacing, color="k", lw=0.4)
            if not detail["parts"]:
                dax.text(0.5, 0.5, "no EEG here (gap)", transform=dax.transAxes, ha="center")
            dax.set_xlim(0, DETAIL_SEC)
            dax.set_ylim(*y_lim)
            dax.set_yticks([-i * spacing for i in range(len(SHOW))], [])
            dax.set_xlabel("seconds")
            dax.set_title(detail["title"], fontsize=9, color=COLORS[detail["period"]])
    handles, names = axes[0, 0].get_legend_handles_labels()
    unique = dict(zip(names, handles, strict=False))
    axes[0, 0].legend(
        unique.values(), unique.keys(), loc="lower left", bbox_to_anchor=(0, 1.12), fontsize=7,
        ncol=6,
    )  # fmt: skip
    fig.suptitle(
        f"Label sanity: EEG with preictal, SPH, ictal and postictal periods - {source_label(source)}"
    )
    fig.tight_layout()
    return fig


def label_sanity_details(signal, blocks, onset: float, sfreq: float, params: LabelParams):
    """The two sample-by-sample views of a label-sanity row: ``DETAIL_SEC`` in the middle of the
    preictal period, and from the onset."""
    mid = onset - (params.preictal_sec + params.sph_sec) / 2
    out = []
    for start, period, title in (
        (mid - DETAIL_SEC / 2, "preictal", f"preictal, {(onset - mid) / 60:.1f} min before onset"),
        (onset, "ictal", "from the onset"),
    ):
        parts, _ = _cached_span(signal, blocks, start, start + DETAIL_SEC, sfreq)
        out.append({"start": start, "period": period, "title": title, "parts": parts})
    return out


def _cached_span(signal, blocks, lo, hi, sfreq, step=1):
    """Cached EEG of the six display channels over [lo, hi] on the timeline: per block, times and
    samples (every ``step``-th), and the gaps between blocks."""
    idx = [CANONICAL_CHANNELS.index(c) for c in SHOW]
    parts, gaps, prev_end = [], [], None
    for b in blocks.itertuples():
        if b.end_sec <= lo or b.start_sec >= hi:
            continue
        a = max(0, int((lo - b.start_sec) * sfreq))
        z = min(b.n_samples, int((hi - b.start_sec) * sfreq))
        seg = np.asarray(signal[idx, b.offset + a : b.offset + z : step], dtype=np.float32)
        parts.append((b.start_sec + (a + np.arange(seg.shape[1]) * step) / sfreq, seg))
        if prev_end is not None and b.start_sec > prev_end:
            gaps.append((prev_end, b.start_sec))
        prev_end = b.end_sec
    return parts, gaps


def _envelope(t, x, sfreq):
    """Per-second min and max of each channel."""
    n = int(sfreq)
    k = x.shape[1] // n
    chunks = x[:, : k * n].reshape(x.shape[0], k, n)
    return t[: k * n : n], chunks.min(axis=2), chunks.max(axis=2)


def make_cache_figures(
    paths: Mapping[str, Mapping[str, str | Path]],
    edf_dir_of: dict[str, str],
    out: dict[str, str],
    *,
    preprocess: PreprocessParams,
    label_params: LabelParams,
) -> None:
    """All cache-stage figures, from each case's declared inputs (``paths[case]`` names
    ``files``, ``blocks``, ``windows``, ``labels``, ``ledger`` and ``signal``); examples are chosen
    deterministically (the first cases and seizures that qualify)."""
    from preictal.io import read_parquet_metadata

    sfreq = preprocess.target_sfreq
    cases = list(paths)
    tables = {}
    for case, p in paths.items():
        tables[case] = {
            "files": pd.read_parquet(p["files"]),
            "blocks": pd.read_parquet(p["blocks"]),
            "windows": pd.read_parquet(p["windows"]),
            "labels": pd.read_parquet(p["labels"]),
            "ledger": pd.read_parquet(p["ledger"]),
            "signal": np.load(p["signal"], mmap_mode="r"),
        }
    source = read_parquet_metadata(paths[cases[0]]["blocks"])["data_source"]

    # Raw vs preprocessed, PSD: the first block of the first case with one.
    case = next(c for c in cases if len(tables[c]["blocks"]))
    b = tables[case]["blocks"].iloc[0]
    edf = Path(edf_dir_of[case]) / b.file
    raw_full, raw_rate = read_canonical(edf, plan_montage(read_edf_header(edf).labels))
    t0 = min(60.0, b.n_samples / sfreq / 2)
    n = int(10 * sfreq)
    raw = raw_full[:, int(t0 * raw_rate) : int(t0 * raw_rate) + int(10 * raw_rate)]
    first = b.offset + int(t0 * sfreq)
    prep = np.asarray(tables[case]["signal"][:, first : first + n], np.float32)
    save(
        plot_raw_vs_preprocessed(raw, raw_rate, prep, sfreq, t0, source),
        out["raw_vs_preprocessed"],
    )
    m = min(raw_full.shape[1], int(600 * raw_rate))
    long_prep = np.asarray(
        tables[case]["signal"][:, b.offset : b.offset + int(600 * sfreq)], np.float32
    )
    save(
        plot_psd_before_after(raw_full[:, :m], raw_rate, long_prep, preprocess, source), out["psd"]
    )

    # Seizures with data: ledger rows whose onset lies in a cached block.
    candidates = []
    for c in cases:
        blocks = tables[c]["blocks"]
        for s in tables[c]["ledger"].itertuples():
            inside = (blocks.start_sec <= s.onset_sec) & (blocks.end_sec >= s.end_sec)
            if inside.any():
                candidates.append((c, s))
    if not candidates:
        raise ValueError("no seizure lies in a cached block: nothing to plot")

    c, s = candidates[0]
    parts, _ = _cached_span(
        tables[c]["signal"], tables[c]["blocks"], s.onset_sec - 300, s.end_sec + 300, sfreq
    )
    t, x = max(parts, key=lambda p: p[1].shape[1])
    save(plot_spectrogram(x[1], sfreq, t[0], s.onset_sec, source, SHOW[1]), out["spectrogram"])

    # Label timeline: prefer a seizure whose preictal period starts in an earlier file.
    def crosses(c, s):
        f = tables[c]["files"]
        own = f[(f.start_sec <= s.onset_sec) & (f.end_sec >= s.onset_sec)]
        return len(own) and own.start_sec.iloc[0] > s.onset_sec - label_params.preictal_sec

    c, s = next(((c, s) for c, s in candidates if crosses(c, s)), candidates[0])
    save(
        plot_label_timeline(
            tables[c]["files"], tables[c]["windows"], tables[c]["labels"], s, source, label_params
        ),
        out["label_timeline"],
    )

    # Label sanity: up to three seizures of different patients.
    examples, patients = [], set()
    for c, s in candidates:
        if s.patient in patients:
            continue
        patients.add(s.patient)
        lo = s.onset_sec - 1.5 * label_params.preictal_sec
        hi = s.end_sec + 1.5 * label_params.postictal_min * 60
        parts, gaps = _cached_span(tables[c]["signal"], tables[c]["blocks"], lo, hi, sfreq)
        envelopes = [_envelope(t, x, sfreq) for t, x in parts]
        details = label_sanity_details(
            tables[c]["signal"], tables[c]["blocks"], s.onset_sec, sfreq, label_params
        )
        examples.append(
            {
                "details": details,
                "case": c,
                "patient": s.patient,
                "file": s.file,
                "envelopes": envelopes,
                "onset": s.onset_sec,
                "end": s.end_sec,
                "gaps": gaps,
            }
        )
        if len(examples) == 3:
            break
    save(plot_label_sanity(examples, source, label_params), out["label_sanity"])
