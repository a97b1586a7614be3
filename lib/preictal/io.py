"""Atomic writers: every output is written to a temporary file beside it, then renamed."""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto ``path`` on success.

    On any exception the temporary file is removed and an existing ``path`` is left untouched.
    Temporary files of ``path`` left by an earlier writer that was killed (SIGKILL skips the
    cleanup; on real data a case's signal is gigabytes) are swept first: one job writes a given
    output at a time, so any such file is stale.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the usual permissions
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def write_parquet(
    path: str | os.PathLike,
    df: pd.DataFrame,
    metadata: dict | None = None,
    *,
    use_dictionary: bool = True,
) -> None:
    """Write ``df`` as Parquet; ``metadata`` (e.g. the data source) goes into the file's schema.
    ``use_dictionary=False`` suits tables of floats (dictionary encoding only costs time there)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    if metadata:
        merged = dict(table.schema.metadata or {})
        merged.update(
            {f"preictal.{k}".encode(): json.dumps(v).encode() for k, v in metadata.items()}
        )
        table = table.replace_schema_metadata(merged)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, use_dictionary=use_dictionary)


def read_parquets(paths: Iterable[str | os.PathLike]) -> pd.DataFrame:
    """The Parquet tables at ``paths`` stacked (e.g. one seizure ledger per case); an empty frame
    for no paths."""
    frames = [pd.read_parquet(p) for p in paths]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def read_parquet_metadata(path: str | os.PathLike) -> dict:
    """The ``preictal.*`` metadata written by :func:`write_parquet`."""
    import pyarrow.parquet as pq

    raw = pq.read_schema(path).metadata or {}
    prefix = b"preictal."
    return {
        k[len(prefix) :].decode(): json.loads(v) for k, v in raw.items() if k.startswith(prefix)
    }


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def read_case_tables(cases: Sequence[str], **paths: Sequence[str | os.PathLike]) -> dict[str, dict]:
    """``{case: {name: DataFrame}}`` from parallel lists of Parquet paths, one list per name."""
    out: dict[str, dict] = {case: {} for case in cases}
    for name, files in paths.items():
        if len(files) != len(cases):
            raise ValueError(f"{name}: {len(files)} paths for {len(cases)} cases")
        for case, path in zip(cases, files, strict=True):
            out[case][name] = pd.read_parquet(path)
    return out


def software_versions() -> dict[str, str]:
    """Versions of Python and the packages a result depends on, for manifests."""
    import importlib.metadata as md
    import platform

    names = (
        "preictal",
        "numpy",
        "scipy",
        "pandas",
        "pyarrow",
        "edfio",
        "scikit-learn",
        "xgboost",
        "torch",
    )
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
    return out


def machine_info() -> dict[str, str | int]:
    """The hardware a result was computed on, for manifests: FusionNet's float results differ in
    the last digits between CPUs (kernels chosen per instruction set), so a drift between two runs
    can be told from a code change."""
    import os
    import platform
    import sys

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(
                line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    out: dict[str, str | int] = {
        "machine": platform.machine(),
        "cpu": cpu,
        "cpu_count": os.cpu_count() or 0,
    }
    torch = sys.modules.get("torch")  # only when the job used it; importing it costs seconds
    if torch is not None:
        out["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
        out["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            out["cuda_device"] = torch.cuda.get_device_name()
    return out
