"""Tables about the per-case cache: excluded inputs, window counts, cache size, channel
consistency."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from preictal.signal.montage import CANONICAL_CHANNELS

EXCLUSION_COLUMNS = ["case", "file", "stage", "reason"]


def exclusions_table(
    cases: Sequence[str], files: Sequence[str | Path], montages: Sequence[str | Path]
) -> pd.DataFrame:
    """Every input file of the run that no result uses, with why: EDFs on disk that neither the
    summary nor RECORDS names (stage ``index``, from the index's metadata) and files of the
    timeline left out of the cache (stage ``preprocess``: not on disk, a canonical channel
    missing or at another rate, from the montage ledger)."""
    from preictal.io import read_parquet_metadata

    rows = []
    for case, files_path, montage_path in zip(cases, files, montages, strict=True):
        for name in read_parquet_metadata(files_path).get("ignored_edfs", []):
            rows.append(
                {
                    "case": case,
                    "file": name,
                    "stage": "index",
                    "reason": "on disk but in neither the summary nor RECORDS",
                }
            )
        ledger = pd.read_parquet(montage_path)
        for r in ledger[ledger.excluded.astype(bool)].itertuples():
            rows.append({"case": case, "file": r.file, "stage": "preprocess", "reason": r.reason})
    return pd.DataFrame(rows, columns=EXCLUSION_COLUMNS)


def exclusions_note(path: str | Path) -> str | None:
    """The line a finished run prints when its exclusions table lists any input file."""
    path = Path(path)
    if not path.is_file():
        return None
    table = pd.read_csv(path)
    if table.empty:
        return None
    return (
        f"{len(table)} input file(s) excluded ({', '.join(sorted(set(table.case)))}): see {path} "
        f"and the WARNING lines of the jobs' logs"
    )


def window_counts(case: str, windows: pd.DataFrame, labels: pd.DataFrame) -> dict:
    """Total, preictal, interictal, excluded and bad windows of one case."""
    if not windows.window.equals(labels.window):
        raise AssertionError(f"{case}: window and label tables are not aligned")
    y = labels.y_cls.to_numpy()
    return {
        "case": case,
        "total": len(labels),
        "preictal": int((y == 1).sum()),
        "interictal": int((y == 0).sum()),
        "excluded": int((y == -1).sum()),
        "bad": int(windows.bad.sum()),
        "bad_preictal": int((windows.bad.to_numpy() & (y == 1)).sum()),
        "bad_interictal": int((windows.bad.to_numpy() & (y == 0)).sum()),
    }


def cache_row(
    case: str,
    manifest_path: str | Path,
    cache_files: Sequence[str | Path],
    counts: dict,
    n_features: int,
) -> dict:
    """Windows, positive rate, bytes on disk and the RAM a training job needs for the case: the
    feature matrix in RAM (float32) while the signal stays memory-mapped (only windows being read
    are resident, one batch at a time)."""
    manifest = json.loads(Path(manifest_path).read_text())
    on_disk = sum(Path(p).stat().st_size for p in cache_files)
    labelled = counts["preictal"] + counts["interictal"]
    return {
        "case": case,
        "hours": round(manifest["hours"], 3),
        "windows": counts["total"],
        "labelled_windows": labelled,
        "positive_rate": counts["preictal"] / labelled if labelled else np.nan,
        "bytes_on_disk": on_disk,
        "signal_bytes": int(np.prod(manifest["signal"]["shape"]) * 2),
        "est_train_ram_bytes": counts["total"] * n_features * 4,
        "excluded_files": manifest["n_excluded_files"],
        "data_source": manifest["data_source"]["kind"],
    }


def channel_consistency(
    manifests: Sequence[str | Path], blocks: Sequence[str | Path]
) -> pd.DataFrame:
    """One row per cached block: its case, channels and whether they are the canonical 18 in
    order. Every block of a case shares the case signal's channel axis, so the manifest's channel
    list is the block's."""
    rows = []
    for manifest_path, blocks_path in zip(manifests, blocks, strict=True):
        manifest = json.loads(Path(manifest_path).read_text())
        same = manifest["channels"] == list(CANONICAL_CHANNELS)
        width = manifest["signal"]["shape"][0]  # channel-major [C, n]
        for b in pd.read_parquet(blocks_path).itertuples():
            rows.append(
                {
                    "case": manifest["case"],
                    "file": b.file,
                    "n_channels": width,
                    "channels": ",".join(manifest["channels"]),
                    "canonical_order": bool(same and width == len(CANONICAL_CHANNELS)),
                }
            )
    return pd.DataFrame(rows)


def write_cache_tables(
    paths: Mapping[str, Mapping[str, str | Path]], out: dict[str, str | Path]
) -> dict[str, pd.DataFrame]:
    """``window_counts.csv``, ``cache_report.csv`` and ``channel_consistency.csv`` from each
    case's declared inputs: ``paths[case]`` names ``windows``, ``features``, ``labels``,
    ``manifest``, ``blocks`` and ``cache_files`` (every file of the case's cache, for its size)."""
    from preictal.io import atomic_path, read_parquet_metadata

    cases = list(paths)
    counts, report = [], []
    for case, p in paths.items():
        windows = pd.read_parquet(p["windows"])
        labels = pd.read_parquet(p["labels"])
        n_features = len(pd.read_parquet(p["features"]).columns) - 1
        row = window_counts(case, windows, labels)
        counts.append(row)
        report.append(cache_row(case, p["manifest"], p["cache_files"], row, n_features))
    source = read_parquet_metadata(paths[cases[0]]["labels"])["data_source"]["kind"]
    counts_df = pd.DataFrame(counts).assign(data_source=source)
    tables = {
        "window_counts": counts_df,
        "cache_report": pd.DataFrame(report),
        "channel_consistency": channel_consistency(
            [p["manifest"] for p in paths.values()], [p["blocks"] for p in paths.values()]
        ),
    }
    if not tables["channel_consistency"].canonical_order.all():
        bad = tables["channel_consistency"].loc[lambda d: ~d.canonical_order, "file"].tolist()
        raise AssertionError(f"cached blocks without the canonical 18 channels: {bad}")
    for name, df in tables.items():
        with atomic_path(out[name]) as tmp:
            df.to_csv(tmp, index=False)
    return tables
