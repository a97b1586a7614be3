"""A dataset folder in CHB-MIT's layout: which cases it holds, where their files are, what it is.

``data_root`` may be the synthetic default (it holds ``SYNTHETIC.json``), a copy of CHB-MIT
(``chbNN/`` folders with EDFs), or a folder of CHB-MIT metadata only (summaries beside RECORDS and
SHA256SUMS.txt, like ``../shared/chbmit``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath

from preictal.chbmit.errors import DatasetError
from preictal.chbmit.summary_file import case_of_file, list_cases

SYNTHETIC_MARKER = "SYNTHETIC.json"
CHECKSUMS_NAME = "SHA256SUMS.txt"
_SHA256_RE = re.compile(r"[0-9a-fA-F]{64}")


def data_source(data_root: str | Path) -> dict:
    """What ``data_root`` holds: ``kind`` is ``synthetic``, ``chbmit`` or ``chbmit-metadata``."""
    root = Path(data_root)
    if not root.is_dir():
        raise DatasetError(f"data_root {root}: folder not found")
    marker = root / SYNTHETIC_MARKER
    if marker.is_file():
        return {**json.loads(marker.read_text())["data_source"], "data_root": str(root)}
    has_edfs = any(root.glob("chb[0-9][0-9]/*.edf"))
    return {"kind": "chbmit" if has_edfs else "chbmit-metadata", "data_root": str(root)}


def resolve_cases(
    requested: str | Iterable[str], available: Iterable[str], where: str
) -> list[str]:
    """``'all'`` or an explicit list, checked against the cases found in ``where``."""
    available = sorted(available)
    if not available:
        raise DatasetError(f"{where}: no CHB-MIT cases found (no chbNN-summary.txt)")
    if isinstance(requested, str):
        if requested != "all":
            raise DatasetError(f"cases: expected 'all' or a list of case names, got {requested!r}")
        return available
    cases = list(requested)
    unknown = [c for c in cases if c not in available]
    if unknown:
        raise DatasetError(
            f"cases: {', '.join(unknown)} not in {where} (it holds {', '.join(available)})"
        )
    return cases


def available_cases(data_root: str | Path) -> list[str]:
    return list_cases(data_root)


def patient_of(case: str, patients: Mapping[str, str]) -> str:
    """The patient a case was recorded from (``patients`` maps case -> patient where they differ)."""
    return patients.get(case, case)


def edfs_on_disk(data_root: str | Path, case: str) -> list[Path]:
    return sorted((Path(data_root) / case).glob("*.edf"))


def read_lines(path: Path) -> list[str]:
    """Non-empty lines of a PhysioNet list file (RECORDS, RECORDS-WITH-SEIZURES)."""
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def parse_sha256sums(text: str) -> dict[str, str]:
    """Parse ``<sha256> <relative path>`` lines into ``{relative path: lowercase sha256}``.

    Accepts one or two separating spaces and ``sha256sum``'s ``*`` binary marker; rejects
    absolute paths and ``..`` so that no entry can point outside the download folder.
    """
    checksums: dict[str, str] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        parts = raw.strip().split(maxsplit=1)
        if len(parts) != 2 or not _SHA256_RE.fullmatch(parts[0]):
            raise DatasetError(
                f"{CHECKSUMS_NAME} line {lineno}: expected '<sha256> <path>': {raw!r}"
            )
        digest, rel = parts[0].lower(), parts[1].removeprefix("*")
        _check_relpath(rel, lineno)
        if checksums.get(rel, digest) != digest:
            raise DatasetError(
                f"{CHECKSUMS_NAME} line {lineno}: {rel} listed twice, different hashes"
            )
        checksums[rel] = digest
    if not checksums:
        raise DatasetError(f"{CHECKSUMS_NAME} lists no files")
    return checksums


def _check_relpath(rel: str, lineno: int) -> None:
    pure = PurePosixPath(rel)
    if pure.is_absolute() or "\\" in rel or any(p in ("", ".", "..") for p in rel.split("/")):
        raise DatasetError(f"{CHECKSUMS_NAME} line {lineno}: unsafe or unnormalised path {rel!r}")


def read_sha256sums(path: Path) -> dict[str, str]:
    try:
        return parse_sha256sums(path.read_text())
    except DatasetError as exc:
        raise DatasetError(f"{path}: {exc}") from None


def read_subject_info(path: Path) -> dict[str, dict]:
    """SUBJECT-INFO: a tab-separated header, a blank line, then ``case sex age`` rows."""
    rows = {}
    lines = path.read_text().splitlines()
    for line in lines[1:]:
        if not line.strip():
            continue
        fields = [x.strip() for x in line.split("\t")]
        if len(fields) < 3:
            raise DatasetError(f"{path}: malformed row {line!r}")
        rows[fields[0]] = {"sex": fields[1], "age_years": float(fields[2])}
    return rows


def records_by_case(paths: Iterable[str]) -> dict[str, list[str]]:
    """``['chb01/chb01_01.edf', ...]`` -> ``{'chb01': ['chb01_01.edf', ...]}``."""
    out: dict[str, list[str]] = {}
    for rel in paths:
        name = rel.split("/")[-1]
        out.setdefault(case_of_file(name), []).append(name)
    return out
