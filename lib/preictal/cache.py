"""The per-case signal cache: every usable EDF of a case, preprocessed, in one float16 array.

``results/cache/{case}/signal.npy`` is time-major ``[n_samples, 18]`` float16 in microvolts
(readable with ``np.load(path, mmap_mode="r")``); each included file is one contiguous block, listed
in ``blocks.parquet`` (file, offset, n_samples, start on the timeline, segment). ``flat.parquet`` lists
the raw dropouts (runs of exactly constant samples, found before filtering). ``montage.parquet``
is the montage ledger (one row per file: found, used, dropped, derived channels, or why the file
was excluded) and ``manifest.json`` records shapes, channel order, parameters, data source and
software versions. Files are processed one at a time, so memory does not grow with the case.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from preictal.chbmit.edf import read_edf_header
from preictal.io import atomic_path, write_json, write_parquet
from preictal.signal.edf_read import read_edf_signals
from preictal.signal.filters import bandpass_notch, resample
from preictal.signal.montage import CANONICAL_CHANNELS, plan_montage

log = logging.getLogger(__name__)

FLOAT16_LIMIT_UV = 65000.0  # float16 overflows past 65504: saturate just below and count


@dataclass(frozen=True)
class PreprocessParams:
    target_sfreq: float = 256.0
    l_freq: float = 0.5
    h_freq: float = 45.0
    notch_hz: float | None = 60.0
    notch_harmonics: bool = True
    reref: str = "none"  # "none" or "average" (docs/PREPROCESSING.md says why none is the default)
    flat_run_sec: float = 0.5  # raw runs of exactly constant samples this long are dropouts

    def __post_init__(self) -> None:
        if self.reref not in ("none", "average"):
            raise ValueError(f"preprocess.reref must be 'none' or 'average', not {self.reref!r}")


def preprocess(x: np.ndarray, sfreq: float, params: PreprocessParams) -> np.ndarray:
    """Canonical channels ``[18, T]`` in uV -> resampled, filtered, re-referenced, float32."""
    if sfreq != params.target_sfreq:
        x = resample(x, sfreq, params.target_sfreq)
    x = bandpass_notch(
        x,
        params.target_sfreq,
        l_freq=params.l_freq,
        h_freq=params.h_freq,
        notch_hz=params.notch_hz,
        notch_harmonics=params.notch_harmonics,
    )
    if params.reref == "average":
        x = x - x.mean(axis=0, keepdims=True)
    return x.astype(np.float32, copy=False)


def flat_runs(x: np.ndarray, sfreq: float, min_sec: float) -> list[tuple[int, int]]:
    """Sample intervals [start, end) where some channel of the raw ``x [C, T]`` is exactly constant
    for at least ``min_sec``: amplifier dropouts, which filtering would smear into small ringing."""
    min_len = max(2, round(min_sec * sfreq))
    same = np.diff(x, axis=1) == 0  # [C, T-1]: sample t+1 equals sample t
    runs = []
    for row in same:
        edges = np.flatnonzero(np.diff(np.concatenate(([0], row.view(np.int8), [0]))))
        for a, b in zip(edges[::2], edges[1::2], strict=True):
            if b - a + 1 >= min_len:
                runs.append((int(a), int(b + 1)))
    if not runs:
        return []
    runs.sort()
    merged = [list(runs[0])]
    for a, b in runs[1:]:
        if a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def read_canonical(path: str | Path, plan) -> tuple[np.ndarray, float]:
    """The 18 canonical channels of an EDF ``[18, T]`` (uV), read, selected and derived."""
    used = plan.source_channels
    data, sfreq, _ = read_edf_signals(path, used)
    return plan.weights[:, used] @ data, sfreq


def to_float16(x: np.ndarray) -> tuple[np.ndarray, int]:
    """Saturating float32 -> float16; returns the array and how many samples were clipped."""
    clipped = int(np.count_nonzero(np.abs(x) > FLOAT16_LIMIT_UV))
    if clipped:
        x = np.clip(x, -FLOAT16_LIMIT_UV, FLOAT16_LIMIT_UV)
    return x.astype(np.float16), clipped


def build_case_cache(
    case: str,
    files: pd.DataFrame,
    edf_dir: str | Path,
    out_dir: str | Path,
    params: PreprocessParams,
    *,
    data_source: dict,
) -> dict:
    """Preprocess every file of ``files`` (the case's timeline) found in ``edf_dir``."""
    out_dir = Path(out_dir)
    edf_dir = Path(edf_dir)
    ledger, plans = [], {}
    for f in files.itertuples():
        row = {"case": case, "file": f.file}
        path = edf_dir / f.file
        if not path.is_file():
            ledger.append({**row, "excluded": True, "reason": "EDF not on disk"})
            continue
        header = read_edf_header(path)
        plan = plan_montage(header.labels)
        rates = {header.sampling_rates_hz[i] for i in plan.source_channels}
        ledger_row = {**row, **plan.ledger(), "sfreq_hz": min(rates) if rates else np.nan}
        if not plan.excluded and len(rates) != 1:
            ledger_row.update(excluded=True, reason=f"canonical channels differ in rate: {rates}")
        ledger.append(ledger_row)
        if not ledger_row["excluded"]:
            plans[f.file] = (path, plan, header)

    sf = params.target_sfreq
    n_samples = {name: round(h.duration_sec * sf) for name, (_, _, h) in plans.items()}
    total = sum(n_samples.values())
    blocks, flats, offset, t0 = [], [], 0, time.perf_counter()
    signal_path = out_dir / "signal.npy"
    with atomic_path(signal_path) as tmp:
        signal = np.lib.format.open_memmap(
            tmp, mode="w+", dtype=np.float16, shape=(total, len(CANONICAL_CHANNELS))
        )
        timeline = files.set_index("file")
        for k, (name, (path, plan, _)) in enumerate(plans.items(), start=1):
            raw, rate = read_canonical(path, plan)
            scale = sf / rate
            for a, b in flat_runs(raw, rate, params.flat_run_sec):
                flats.append(
                    {
                        "file": name,
                        "start_sample": offset + round(a * scale),
                        "end_sample": offset + round(b * scale),
                    }
                )
            x = preprocess(raw, rate, params)
            n = n_samples[name]
            if x.shape[1] != n:
                raise ValueError(f"{path}: {x.shape[1]} samples after preprocessing, expected {n}")
            x16, clipped = to_float16(x.T)
            signal[offset : offset + n] = x16
            f = timeline.loc[name]
            blocks.append(
                {
                    "file": name,
                    "offset": offset,
                    "n_samples": n,
                    "start_sec": float(f.start_sec),
                    "end_sec": float(f.start_sec) + n / sf,
                    "segment": int(f.segment),
                    "clipped_samples": clipped,
                }
            )
            offset += n
            log.info("%s: %d/%d files preprocessed (%s)", case, k, len(plans), name)
        signal.flush()
        del signal
    elapsed = time.perf_counter() - t0

    blocks_df = pd.DataFrame(
        blocks,
        columns=[
            "file",
            "offset",
            "n_samples",
            "start_sec",
            "end_sec",
            "segment",
            "clipped_samples",
        ],
    )
    meta = {"data_source": data_source, "case": case}
    write_parquet(out_dir / "blocks.parquet", blocks_df, metadata=meta)
    write_parquet(out_dir / "montage.parquet", pd.DataFrame(ledger), metadata=meta)
    flats_df = pd.DataFrame(flats, columns=["file", "start_sample", "end_sample"])
    write_parquet(out_dir / "flat.parquet", flats_df, metadata=meta)
    manifest = {
        "case": case,
        "data_source": data_source,
        "signal": {
            "path": "signal.npy",
            "shape": [total, len(CANONICAL_CHANNELS)],
            "dtype": "float16",
            "layout": "time-major [n_samples, n_channels]",
            "units": "uV",
            "sfreq_hz": sf,
        },
        "channels": list(CANONICAL_CHANNELS),
        "n_files": len(files),
        "n_blocks": len(blocks_df),
        "n_excluded_files": int(sum(bool(r.get("excluded")) for r in ledger)),
        "hours": total / sf / 3600,
        "preprocess": asdict(params),
        "seconds": round(elapsed, 2),
        "versions": software_versions(),
    }
    write_json(out_dir / "manifest.json", manifest)
    return manifest


def software_versions() -> dict[str, str]:
    import importlib.metadata as md
    import platform

    names = ("preictal", "numpy", "scipy", "pandas", "pyarrow", "mne", "edfio")
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
    return out
