"""Resumable, verified download of the CHB-MIT Scalp EEG Database (PhysioNet ``chbmit`` 1.0.0).

The server and the local copy share one layout: top-level files (``RECORDS``,
``RECORDS-WITH-SEIZURES``, ``SUBJECT-INFO``, ``ANNOTATORS``, ``SHA256SUMS.txt``, ...) and one
folder per case (``chb01/`` ... ``chb24/``) holding the summary, the EDF recordings and the
``.edf.seizures`` annotations. ``SHA256SUMS.txt`` lists every file with its SHA-256; it drives
what is downloaded and every file is verified against it.

How a run works:

1. ``SHA256SUMS.txt`` is fetched and written atomically; requested case names are checked.
2. The plan is the top-level files plus the files of the chosen cases. Files already on disk
   whose SHA-256 matches are skipped without any network traffic.
3. Free disk space is checked against the sizes reported by HTTP ``HEAD`` (minus the bytes
   already held in ``.part`` files) before any file is downloaded.
4. Each file is downloaded into ``<file>.part``; an existing ``.part`` is resumed with an HTTP
   ``Range`` request, network errors are retried with exponential backoff (resuming each time),
   and a server that ignores ``Range`` (answers 200) makes the file restart from byte 0.
5. The ``.part`` is verified and renamed onto the real name (``os.replace``). On a mismatch it is
   deleted and downloaded once more from scratch; a second mismatch raises
   :class:`ChecksumError`. Files completed earlier stay on disk, so a rerun only fetches the rest.

Only the standard library is used for HTTP.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import logging
import os
import re
import shutil
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from preictal.chbmit.dataset import CHECKSUMS_NAME, parse_sha256sums
from preictal.io import sha256_file, write_bytes, write_json

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://physionet.org/files/chbmit/1.0.0/"
REPORT_NAME = "download_report.json"
PART_SUFFIX = ".part"
DEFAULT_MIN_FREE_MARGIN_BYTES = 1_000_000_000  # 1 GB kept free after the download
USER_AGENT = "preictal-chbmit-downloader/1.0 (Python urllib)"

SKIPPED_VERIFIED = "skipped_verified"
FETCHED = "fetched"
RESUMED = "resumed"
REFETCHED_AFTER_CORRUPTION = "refetched_after_corruption"
ACTIONS = (SKIPPED_VERIFIED, FETCHED, RESUMED, REFETCHED_AFTER_CORRUPTION)

_RETRY_HTTP_CODES = frozenset({408, 425, 429, 500, 502, 503, 504})
_CONTENT_RANGE_RE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")

T = TypeVar("T")
R = TypeVar("R")


class DownloadError(RuntimeError):
    """A file could not be downloaded (HTTP error, or network errors beyond the retries)."""


class ChecksumError(DownloadError):
    """A file still failed SHA-256 verification after a fresh second download."""

    def __init__(self, path: str, expected: str, got: str) -> None:
        self.path = path
        self.expected = expected
        self.got = got
        super().__init__(
            f"{path}: SHA-256 mismatch after downloading it again from scratch: "
            f"expected {expected}, got {got}"
        )


class InsufficientDiskSpaceError(DownloadError):
    """Not enough free space for the files still to download (checked before downloading)."""

    def __init__(self, dest: Path, needed: int, free: int, margin: int, n_files: int) -> None:
        self.dest = dest
        self.needed = needed
        self.free = free
        self.margin = margin
        super().__init__(
            f"not enough free disk space in {dest}: {n_files} file(s) still to download need "
            f"{_human(needed)} ({needed} bytes) but only {_human(free)} ({free} bytes) are free, "
            f"and {_human(margin)} must stay free; free some space or choose fewer cases"
        )


class _TransientError(Exception):
    """A transfer problem worth retrying (short read, inconsistent range answer)."""


_NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    urllib.error.URLError,
    http.client.HTTPException,
    ConnectionError,
    TimeoutError,
    _TransientError,
)

_LOCAL_ERRORS = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)


@dataclass(frozen=True)
class FileAction:
    """What happened to one file: one of :data:`ACTIONS` and the bytes received for it."""

    path: str
    action: str
    bytes_downloaded: int = 0


@dataclass
class DownloadReport:
    """Outcome of :func:`download_chbmit`; the per-action lists are derived from ``files``."""

    base_url: str
    dest: str
    cases: list[str]
    checksums_sha256: str
    files: list[FileAction] = field(default_factory=list)

    def paths_with(self, action: str) -> list[str]:
        return [f.path for f in self.files if f.action == action]

    @property
    def fetched(self) -> list[str]:
        return self.paths_with(FETCHED)

    @property
    def resumed(self) -> list[str]:
        return self.paths_with(RESUMED)

    @property
    def refetched_after_corruption(self) -> list[str]:
        return self.paths_with(REFETCHED_AFTER_CORRUPTION)

    @property
    def skipped_verified(self) -> list[str]:
        return self.paths_with(SKIPPED_VERIFIED)

    @property
    def bytes_downloaded(self) -> int:
        return sum(f.bytes_downloaded for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "dest": self.dest,
            "cases": list(self.cases),
            "checksums_sha256": self.checksums_sha256,
            "n_files": len(self.files),
            "bytes_downloaded": self.bytes_downloaded,
            **{action: self.paths_with(action) for action in ACTIONS},
            "files": [
                {"path": f.path, "action": f.action, "bytes_downloaded": f.bytes_downloaded}
                for f in self.files
            ],
        }

    def summary(self) -> str:
        return (
            f"CHB-MIT in {self.dest}: {len(self.fetched)} fetched, {len(self.resumed)} resumed, "
            f"{len(self.refetched_after_corruption)} refetched after corruption, "
            f"{len(self.skipped_verified)} already verified; "
            f"{_human(self.bytes_downloaded)} downloaded; cases: {', '.join(self.cases) or 'none'}"
        )


@dataclass(frozen=True)
class _Settings:
    base_url: str
    timeout: float
    chunk_bytes: int
    retries: int
    backoff_s: float


@dataclass
class _Progress:
    received: int = 0
    resumed: bool = False


# --------------------------------------------------------------------------- checksums, layout


def case_of(rel: str) -> str | None:
    """The case folder of a relative path (``chb17/chb17a_03.edf`` -> ``chb17``), or None."""
    head, sep, _ = rel.partition("/")
    return head if sep else None


def files_by_case(checksums: dict[str, str]) -> dict[str, list[str]]:
    """``{case: sorted relative paths}`` for every case folder listed in the checksums."""
    grouped: dict[str, list[str]] = {}
    for rel in checksums:
        case = case_of(rel)
        if case is not None:
            grouped.setdefault(case, []).append(rel)
    return {case: sorted(grouped[case]) for case in sorted(grouped)}


def part_path(path: Path) -> Path:
    return path.with_name(path.name + PART_SUFFIX)


def _resolve_cases(cases: str | Sequence[str], known: Sequence[str]) -> str | list[str]:
    """``"all"``, ``"missing"``, or the validated list of case names (order kept, no repeats).

    A string other than ``all``/``missing`` is read as comma-separated case names.
    """
    if isinstance(cases, str):
        token = cases.strip().lower()
        if token in ("all", "missing"):
            return token
        cases = cases.split(",")
    names = list(dict.fromkeys(str(c).strip() for c in cases if str(c).strip()))
    if not names:
        raise ValueError("no cases requested: give 'all', 'missing' or case names like chb01")
    unknown = [c for c in names if c not in known]
    if unknown:
        raise ValueError(
            f"unknown case(s) {', '.join(unknown)}; {CHECKSUMS_NAME} lists: {', '.join(known)}"
        )
    return names


# --------------------------------------------------------------------------- HTTP


def _url(base_url: str, rel: str) -> str:
    return base_url.rstrip("/") + "/" + urllib.parse.quote(rel, safe="/+")


def _request(url: str, *, method: str = "GET", offset: int = 0) -> urllib.request.Request:
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    return urllib.request.Request(url, headers=headers, method=method)


def _with_retries(
    what: str,
    attempt: Callable[[], T],
    s: _Settings,
    made_progress: Callable[[], bool] | None = None,
) -> T:
    """Run ``attempt``; retry network errors and retryable HTTP codes with exponential backoff.

    ``made_progress`` (checked after a failure) resets the failure count, so that a long
    transfer that keeps moving forward is not abandoned.
    """
    failures = 0
    while True:
        try:
            return attempt()
        except urllib.error.HTTPError as exc:
            if exc.code not in _RETRY_HTTP_CODES:
                raise DownloadError(f"{what}: HTTP {exc.code} {exc.reason}") from exc
            error: BaseException = exc
        except _NETWORK_ERRORS as exc:
            if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, _LOCAL_ERRORS):
                raise DownloadError(f"{what}: {exc.reason}") from exc  # file:// mirror
            error = exc
        if made_progress is not None and made_progress():
            failures = 0
        failures += 1
        if failures > s.retries:
            raise DownloadError(
                f"{what}: giving up after {failures} failed attempt(s): {error!r}"
            ) from error
        delay = s.backoff_s * 2 ** (failures - 1)
        log.warning("%s: %r; retry %d/%d in %.1f s", what, error, failures, s.retries, delay)
        time.sleep(delay)


def _fetch_bytes(rel: str, s: _Settings) -> bytes:
    def attempt() -> bytes:
        with urllib.request.urlopen(_request(_url(s.base_url, rel)), timeout=s.timeout) as resp:
            return resp.read()  # raises IncompleteRead on a short body

    return _with_retries(f"GET {rel}", attempt, s)


def _remote_size(rel: str, s: _Settings) -> int | None:
    """Content-Length from a HEAD request, or None (with a warning) when there is none."""

    def attempt() -> str | None:
        req = _request(_url(s.base_url, rel), method="HEAD")
        with urllib.request.urlopen(req, timeout=s.timeout) as resp:
            return resp.headers.get("Content-Length")

    try:
        value = _with_retries(f"HEAD {rel}", attempt, s)
    except DownloadError as exc:
        if not isinstance(exc.__cause__, urllib.error.HTTPError):
            raise
        log.warning("%s: size unknown (%s); counting 0 bytes for it in the disk check", rel, exc)
        return None
    if value is None or not value.strip().isdigit():
        log.warning(
            "%s: HEAD gave no Content-Length; counting 0 bytes for it in the disk check", rel
        )
        return None
    return int(value)


def _stream_once(url: str, part: Path, s: _Settings, progress: _Progress) -> None:
    """One GET into ``part``: appended from its current size if the server honours Range."""
    offset = part.stat().st_size if part.exists() else 0
    try:
        response = urllib.request.urlopen(_request(url, offset=offset), timeout=s.timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:
            exc.close()
            log.info("%s: nothing after byte %d (HTTP 416); verifying what is on disk", url, offset)
            progress.resumed = True
            return
        raise
    with response:
        append = False
        if offset and response.status == 206:
            content_range = response.headers.get("Content-Range", "")
            match = _CONTENT_RANGE_RE.fullmatch(content_range.strip())
            if match is None or int(match.group(1)) != offset:
                part.unlink()
                raise _TransientError(
                    f"asked for bytes from {offset}, got Content-Range {content_range!r}; "
                    "restarting the file"
                )
            append = True
        elif offset:
            log.warning(
                "%s: server answered %s to a Range request; restarting from byte 0",
                url,
                response.status,
            )
        progress.resumed = append
        length = (response.headers.get("Content-Length") or "").strip()
        expected = int(length) if length.isdigit() else None
        written = 0
        with open(part, "ab" if append else "wb") as fh:
            while chunk := response.read(s.chunk_bytes):
                fh.write(chunk)
                written += len(chunk)
                progress.received += len(chunk)
            fh.flush()
            os.fsync(fh.fileno())
    if expected is not None and written < expected:
        raise _TransientError(f"connection closed after {written} of {expected} bytes")


def _transfer(url: str, rel: str, part: Path, s: _Settings, progress: _Progress) -> None:
    """Download ``url`` into ``part`` (resuming it), retrying while the file keeps growing."""
    best = part.stat().st_size if part.exists() else 0

    def made_progress() -> bool:
        nonlocal best
        size = part.stat().st_size if part.exists() else 0
        grew, best = size > best, max(best, size)
        return grew

    _with_retries(f"GET {rel}", lambda: _stream_once(url, part, s, progress), s, made_progress)


# --------------------------------------------------------------------------- per file


def _verified_on_disk(dest: Path, rel: str, expected: str, chunk_bytes: int) -> bool:
    path = dest / rel
    if not path.is_file():
        return False
    if sha256_file(path, chunk_bytes) == expected:
        return True
    log.warning("%s: on disk but its SHA-256 does not match; it will be downloaded again", rel)
    return False


def _bytes_on_disk(path: Path) -> int:
    """Bytes of an unverified copy already held (``.part``, or the unverified file itself)."""
    sizes = [p.stat().st_size for p in (path, part_path(path)) if p.is_file()]
    return max(sizes, default=0)


def _adopt_unverified(path: Path) -> None:
    """Turn an unverified file at the real name into the ``.part`` to resume (keep the longer)."""
    part = part_path(path)
    if not path.is_file():
        return
    if part.is_file() and part.stat().st_size >= path.stat().st_size:
        path.unlink()
    else:
        os.replace(path, part)


def download_file(dest: Path, rel: str, expected: str, s: _Settings) -> FileAction:
    """Fetch one file into ``dest / rel`` through ``.part``, verify it, rename it into place."""
    path = dest / rel
    part = part_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _adopt_unverified(path)
    url = _url(s.base_url, rel)
    progress = _Progress()
    _transfer(url, rel, part, s, progress)
    action = RESUMED if progress.resumed else FETCHED
    got = sha256_file(part, s.chunk_bytes)
    if got != expected:
        log.warning(
            "%s: SHA-256 mismatch (expected %s, got %s); downloading it again from scratch",
            rel,
            expected,
            got,
        )
        part.unlink()
        _transfer(url, rel, part, s, progress)
        got = sha256_file(part, s.chunk_bytes)
        if got != expected:
            part.unlink()
            raise ChecksumError(rel, expected, got)
        action = REFETCHED_AFTER_CORRUPTION
    os.replace(part, path)
    log.info("%s %s (%s received)", action, rel, _human(progress.received))
    return FileAction(rel, action, progress.received)


# --------------------------------------------------------------------------- whole dataset


def check_disk_space(
    dest: Path, rels: Sequence[str], s: _Settings, margin: int, jobs: int = 1
) -> int:
    """Raise :class:`InsufficientDiskSpaceError` unless ``rels`` fit; return the bytes needed."""
    if not rels:
        return 0
    sizes = _map(lambda rel: _remote_size(rel, s), rels, jobs)
    needed = sum(
        max(0, size - _bytes_on_disk(dest / rel))
        for rel, size in zip(rels, sizes, strict=True)
        if size is not None
    )
    free = shutil.disk_usage(dest).free
    log.info(
        "disk check: %s to download for %d file(s), %s free in %s (margin %s)",
        _human(needed),
        len(rels),
        _human(free),
        dest,
        _human(margin),
    )
    if needed > free - margin:
        raise InsufficientDiskSpaceError(dest, needed, free, margin, len(rels))
    return needed


def download_chbmit(
    dest: str | os.PathLike[str],
    *,
    base_url: str = DEFAULT_BASE_URL,
    cases: str | Sequence[str] = "all",
    timeout: float = 60.0,
    chunk_bytes: int = 1 << 20,
    min_free_margin_bytes: int = DEFAULT_MIN_FREE_MARGIN_BYTES,
    jobs: int = 1,
    retries: int = 4,
    backoff_s: float = 2.0,
) -> DownloadReport:
    """Download (or complete) CHB-MIT into ``dest`` and verify every file against SHA256SUMS.

    ``cases``: ``"all"``; ``"missing"`` (only cases with a file absent or not verified on disk);
    or case names (a list, or a comma-separated string). Top-level files are always included.
    ``jobs`` threads hash, probe and download in parallel; ``retries`` and ``backoff_s`` govern
    the retries of network errors (``backoff_s * 2**k`` seconds before retry ``k+1``).
    """
    if jobs < 1 or chunk_bytes < 1 or retries < 0 or timeout <= 0 or backoff_s < 0:
        raise ValueError(
            "need jobs >= 1, chunk_bytes >= 1, retries >= 0, timeout > 0, backoff_s >= 0"
        )
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    s = _Settings(base_url, timeout, chunk_bytes, retries, backoff_s)

    raw = _fetch_bytes(CHECKSUMS_NAME, s)
    checksums = parse_sha256sums(raw.decode("utf-8"))
    by_case = files_by_case(checksums)
    request = _resolve_cases(cases, list(by_case))
    write_bytes(dest / CHECKSUMS_NAME, raw)
    log.info("fetched %s %s (%d files listed)", CHECKSUMS_NAME, base_url, len(checksums))

    verified: dict[str, bool] = {}

    def verify(rels: Iterable[str]) -> None:
        todo = [rel for rel in rels if rel not in verified]
        flags = _map(
            lambda rel: _verified_on_disk(dest, rel, checksums[rel], chunk_bytes), todo, jobs
        )
        verified.update(zip(todo, flags, strict=True))

    if request == "all":
        chosen = list(by_case)
    elif request == "missing":
        verify(rel for rels in by_case.values() for rel in rels)
        chosen = [c for c, rels in by_case.items() if not all(verified[r] for r in rels)]
    else:
        chosen = list(request)
    log.info("cases to download (%s): %s", cases, ", ".join(chosen) or "none")

    top_level = sorted(rel for rel in checksums if case_of(rel) is None)
    plan = top_level + [rel for case in chosen for rel in by_case[case]]
    verify(plan)
    report = DownloadReport(
        base_url=base_url,
        dest=str(dest),
        cases=chosen,
        checksums_sha256=hashlib.sha256(raw).hexdigest(),
    )
    for rel in plan:
        if verified[rel]:
            log.info("%s %s", SKIPPED_VERIFIED, rel)
            report.files.append(FileAction(rel, SKIPPED_VERIFIED))
    todo = [rel for rel in plan if not verified[rel]]

    check_disk_space(dest, todo, s, min_free_margin_bytes, jobs)
    report.files += _map(lambda rel: download_file(dest, rel, checksums[rel], s), todo, jobs)
    report.files.sort(key=lambda f: f.path)
    log.info("%s", report.summary())
    return report


# --------------------------------------------------------------------------- helpers, CLI


def _map(fn: Callable[[T], R], items: Sequence[T], jobs: int) -> list[R]:
    """``[fn(x) for x in items]``, on ``jobs`` threads; the first error cancels what is queued."""
    if jobs <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    pool = ThreadPoolExecutor(max_workers=min(jobs, len(items)))
    try:
        return list(pool.map(fn, items))
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)


def _human(n: int | float) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(value) < 1000:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m preictal.chbmit.download",
        description="Download (or complete) CHB-MIT from PhysioNet, verified against SHA256SUMS.",
    )
    parser.add_argument("--dest", required=True, type=Path, help="data folder (data_root)")
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL, help="default: %(default)s")
    parser.add_argument(
        "--cases",
        default="all",
        help="all (default), missing (cases not complete on disk), or names: chb01,chb02",
    )
    parser.add_argument("--jobs", type=int, default=1, help="parallel downloads (default 1)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per network read")
    parser.add_argument("--retries", type=int, default=4, help="retries per network error")
    parser.add_argument(
        "--min-free-gb",
        type=float,
        default=DEFAULT_MIN_FREE_MARGIN_BYTES / 1e9,
        help="disk space (GB) that must stay free after the download (default %(default).2f)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    try:
        report = download_chbmit(
            args.dest,
            base_url=args.base_url,
            cases=args.cases,
            timeout=args.timeout,
            min_free_margin_bytes=int(args.min_free_gb * 1e9),
            jobs=args.jobs,
            retries=args.retries,
        )
    except (DownloadError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    report_path = args.dest / REPORT_NAME
    write_json(report_path, report.to_dict())
    print(report.summary())
    print(f"report: {report_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
