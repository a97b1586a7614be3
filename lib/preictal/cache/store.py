"""The per-case signal cache: every usable EDF of a case, preprocessed, in one float16 array.

``results/cache/{case}/signal.npy`` is channel-major ``[18, n_samples]`` float16 in microvolts
(readable with ``np.load(path, mmap_mode="r")``; a window is the view ``signal[:, a:a + w]``); each
included file is one contiguous block of columns, listed
in ``blocks.parquet`` (file, offset, n_samples, start on the timeline, segment). ``flat.parquet`` lists
the raw dropouts (runs of exactly constant samples, found before filtering). ``montage.parquet``
is the montage ledger (one row per file: found, used, dropped, derived channels, or why the file
was excluded) and ``manifest.json`` records shapes, channel order, parameters, data source and
software versions. Files are streamed in pieces of ``CHUNK_SEC`` (filtered with margins longer
than the filter's impulse response, so the result equals filtering the whole file) and written with
plain file writes, so memory does not grow with the file or the case.
"""

from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from preictal.chbmit.edf import read_edf_header
from preictal.io import atomic_path, software_versions, write_json, write_parquet
from preictal.signal.edf_read import read_edf_signals
from preictal.signal.filters import bandpass_notch, resample, zero_phase_kernel
from preictal.signal.montage import CANONICAL_CHANNELS, plan_montage

log = logging.getLogger(__name__)

FLOAT16_LIMIT_UV = 65000.0  # float16 overflows past 65504: saturate just below and count
CHUNK_SEC = 1800.0  # seconds of EEG preprocessed at a time (33 MB per float32 copy)


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
    for at least ``min_sec``: amplifier dropouts, which filtering would smear into small ringing.

    A run of ``min_len`` samples contains a whole aligned chunk of ``min_len // 2`` samples, so
    only around constant chunks (found with one max/min pass) are runs traced sample by sample."""
    min_len = max(2, round(min_sec * sfreq))
    half = min_len // 2
    n_chunks = x.shape[1] // half
    chunks = x[:, : n_chunks * half].reshape(x.shape[0], n_chunks, half)
    constant = (chunks == chunks[:, :, :1]).all(axis=2)  # [C, n_chunks]
    runs, traced_to = [], np.zeros(x.shape[0], dtype=np.int64)
    for c, k in zip(*np.nonzero(constant), strict=True):
        if k * half < traced_to[c]:
            continue  # inside a run already traced (a dead channel is one run, not many)
        value, a, b = x[c, k * half], k * half, (k + 1) * half
        while a > 0 and x[c, a - 1] == value:
            a -= 1
        stop = x.shape[1]
        while b < stop and x[c, b] == value:
            b = min(stop, b + half) if np.all(x[c, b : b + half] == value) else b + 1
        traced_to[c] = b
        if b - a >= min_len:
            runs.append((int(a), int(b)))
    return merge_spans(runs)


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, disjoint [start, end) spans covering the same samples as ``spans``."""
    out: list[list[int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def read_canonical(path: str | Path, plan, records: tuple[int, int] | None = None, header=None):
    """The 18 canonical channels of an EDF ``[18, T]`` (uV), read, selected and derived."""
    if plan.kind == "bipolar":  # a pure selection: read the channels in canonical order
        order = [int(i) for i in np.argmax(plan.weights != 0, axis=1)]
        data, sfreq, _ = read_edf_signals(path, order, records=records, header=header)
        return data, sfreq
    used = plan.source_channels
    data, sfreq, _ = read_edf_signals(path, used, records=records, header=header)
    return plan.weights[:, used] @ data, sfreq


def to_float16(x: np.ndarray) -> tuple[np.ndarray, int]:
    """Saturating float32 -> float16; returns the array and how many samples were clipped."""
    clipped = 0
    if x.size and (x.max() > FLOAT16_LIMIT_UV or x.min() < -FLOAT16_LIMIT_UV):
        clipped = int(np.count_nonzero(np.abs(x) > FLOAT16_LIMIT_UV))
        x = np.clip(x, -FLOAT16_LIMIT_UV, FLOAT16_LIMIT_UV)
    return x.astype(np.float16), clipped


def filter_margin_sec(params: PreprocessParams) -> float:
    """Half the length of the filter's impulse response, plus a second: filtering a piece with
    this much context on both sides gives the same samples as filtering the whole file."""
    kernel = zero_phase_kernel(
        params.target_sfreq,
        l_freq=params.l_freq,
        h_freq=params.h_freq,
        notch_hz=params.notch_hz,
        notch_harmonics=params.notch_harmonics,
    )
    return (len(kernel) // 2) / params.target_sfreq + 1.0


def preprocess_file_chunks(path: str | Path, plan, header, params: PreprocessParams):
    """Yield ``(first_sample, x [18, n] float32, flat_runs)`` pieces of one file, preprocessed.

    Pieces of ``CHUNK_SEC`` are read with a margin of context on both sides, preprocessed and cut
    back to their own samples. A file at another sampling rate is resampled whole (rare: all of
    CHB-MIT is 256 Hz) and cut afterwards."""
    rate = header.sampling_rates_hz[plan.source_channels[0]]
    if rate != params.target_sfreq:
        raw, rate = read_canonical(path, plan, header=header)
        runs = flat_runs(raw, rate, params.flat_run_sec)
        scale = params.target_sfreq / rate
        yield (
            0,
            preprocess(raw, rate, params),
            [(round(a * scale), round(b * scale)) for a, b in runs],
        )
        return
    per_record = round(header.record_duration_sec * rate)
    n_rec = header.n_records
    step = max(1, round(CHUNK_SEC / header.record_duration_sec))
    margin = math.ceil(filter_margin_sec(params) / header.record_duration_sec)
    for r0 in range(0, n_rec, step):
        r1 = min(n_rec, r0 + step)
        a, b = max(0, r0 - margin), min(n_rec, r1 + margin)
        raw, _ = read_canonical(path, plan, records=(a, b), header=header)
        x = preprocess(raw, rate, params)
        lo, hi = (r0 - a) * per_record, (r1 - a) * per_record
        runs = [
            (max(s, lo) - lo + r0 * per_record, min(e, hi) - lo + r0 * per_record)
            for s, e in flat_runs(raw, rate, params.flat_run_sec)
            if s < hi and e > lo
        ]
        yield r0 * per_record, x[:, lo:hi], runs


class NpyColumnWriter:
    """Writes a channel-major ``[C, n]`` float16 .npy file piece by piece with ``os.pwrite``:
    no memory map, so resident memory stays flat however long the case."""

    def __init__(self, path: Path, n_channels: int, n_samples: int) -> None:
        self.shape = (n_channels, n_samples)
        self.fh = open(path, "wb")  # noqa: SIM115 - closed in close()
        header = {"descr": "<f2", "fortran_order": False, "shape": self.shape}
        np.lib.format.write_array_header_2_0(self.fh, header)
        self.data_offset = self.fh.tell()
        self.fh.truncate(self.data_offset + 2 * n_channels * n_samples)
        self.fh.flush()

    def write(self, first: int, x16: np.ndarray) -> None:
        fd = self.fh.fileno()
        x16 = np.ascontiguousarray(x16, dtype="<f2")
        for c, row in enumerate(x16):
            os.pwrite(fd, memoryview(row), self.data_offset + 2 * (c * self.shape[1] + first))

    def close(self) -> None:
        self.fh.close()


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
            ledger_row.update(
                excluded=True,
                reason="canonical channels differ in rate: "
                + ", ".join(f"{r:g}" for r in sorted(rates))
                + " Hz",
            )
        ledger.append(ledger_row)
        if not ledger_row["excluded"]:
            plans[f.file] = (path, plan, header)
    for r in ledger:
        if r["excluded"]:
            log.warning("%s: excluded from the cache: %s", edf_dir / r["file"], r["reason"])

    sf = params.target_sfreq
    n_samples = {name: round(h.duration_sec * sf) for name, (_, _, h) in plans.items()}
    total = sum(n_samples.values())
    blocks, flats, offset, t0 = [], [], 0, time.perf_counter()
    timeline = files.set_index("file")
    with atomic_path(out_dir / "signal.npy") as tmp:
        writer = NpyColumnWriter(tmp, len(CANONICAL_CHANNELS), total)
        try:
            for k, (name, (path, plan, header)) in enumerate(plans.items(), start=1):
                n, clipped, written = n_samples[name], 0, 0
                for first, x, runs in preprocess_file_chunks(path, plan, header, params):
                    x16, c = to_float16(x)
                    writer.write(offset + first, x16)
                    clipped += c
                    written += x.shape[1]
                    flats += [(offset + a, offset + b) for a, b in runs]
                if written != n:
                    raise ValueError(f"{path}: {written} samples after preprocessing, expected {n}")
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
        finally:
            writer.close()
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
    flat = pd.DataFrame(merge_spans(flats), columns=["start_sample", "end_sample"], dtype=np.int64)
    write_parquet(out_dir / "flat.parquet", flat, metadata=meta)
    manifest = {
        "case": case,
        "data_source": data_source,
        "signal": {
            "path": "signal.npy",
            "shape": [len(CANONICAL_CHANNELS), total],
            "dtype": "float16",
            "layout": "channel-major [n_channels, n_samples]; a window is signal[:, a:a + w]",
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
