"""The CHB-MIT downloader against a local HTTP server (HEAD, GET, Range) with injected faults."""

from __future__ import annotations

import hashlib
import http.server
import json
import logging
import random
import re
import subprocess
import sys
import threading
from collections import namedtuple
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from preictal.chbmit import download as dl
from preictal.chbmit.download import (
    ChecksumError,
    DownloadError,
    DownloadReport,
    InsufficientDiskSpaceError,
    download_chbmit,
    parse_sha256sums,
)

REPO = Path(__file__).resolve().parents[2]
PREFIX = "/files/chbmit/1.0.0/"
LOGGER = "preictal.chbmit.download"

TOP_LEVEL = {
    "RECORDS": "chb01/chb01_01.edf\nchb01/chb01_03.edf\nchb02/chb02_16.edf\n",
    "RECORDS-WITH-SEIZURES": "chb01/chb01_03.edf\nchb02/chb02_16+.edf\n",
    "SUBJECT-INFO": "Case\tGender\tAge (years)\n\nchb01\tF\t11\n",
    "ANNOTATORS": "seizures\tseizure start and end annotations\n",
}
CASES = {
    "chb01": ["chb01-summary.txt", "chb01_01.edf", "chb01_03.edf", "chb01_03.edf.seizures"],
    "chb02": ["chb02-summary.txt", "chb02_16.edf", "chb02_16+.edf", "chb02_16+.edf.seizures"],
    "chb17": ["chb17-summary.txt", "chb17a_03.edf", "chb17b_63.edf"],
}
ALL_CASE_FILES = [f"{case}/{name}" for case, names in CASES.items() for name in names]
ALL_FILES = sorted(TOP_LEVEL) + ALL_CASE_FILES


# --------------------------------------------------------------------------- fake PhysioNet


@dataclass
class Fault:
    drop_after: int | None = None  # first GET: send this many body bytes, then close
    corrupt_gets: int = 0  # this many GETs (from the first) serve corrupted bytes
    ignore_range: bool = False  # answer Range requests with 200 and the whole file
    no_length_on_head: bool = False
    fail_status: list[int] = field(default_factory=list)  # statuses for the first GETs
    gets: int = 0  # GETs of this file served so far under this fault


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    range: str | None
    status: int


class FakePhysioNet:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.faults: dict[str, Fault] = {}
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.base_url = ""

    def gets(self, rel: str | None = None) -> list[Seen]:
        return [s for s in self.seen if s.method == "GET" and rel in (None, s.path)]

    def got_paths(self) -> set[str]:
        return {s.path for s in self.gets()}


def corrupt(data: bytes) -> bytes:
    return bytes(b ^ 0x5A for b in data)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    fake: FakePhysioNet


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        fake = self.server.fake
        url_path = unquote(urlsplit(self.path).path)
        rel = url_path.removeprefix(PREFIX)
        range_header = self.headers.get("Range")
        fault = fake.faults.get(rel, Fault())
        method = "HEAD" if head else "GET"
        with fake.lock:
            n_before = fault.gets
            if not head:
                fault.gets += 1
            path = fake.root / rel
            if not url_path.startswith(PREFIX) or not path.is_file():
                status = 404
            elif not head and n_before < len(fault.fail_status):
                status = fault.fail_status[n_before]
            else:
                status = 200
            data = path.read_bytes() if status == 200 else b""
            start = 0
            if status == 200 and range_header and not fault.ignore_range:
                start = int(re.fullmatch(r"bytes=(\d+)-", range_header).group(1))
                status = 416 if start >= len(data) else 206
            fake.seen.append(Seen(method, rel, range_header, status))
        if status >= 400:
            self.send_response(status)
            if status == 416:
                self.send_header("Content-Range", f"bytes */{len(data)}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if not head and n_before < fault.corrupt_gets:
            data = corrupt(data)
        body = data[start:]
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        if not (head and fault.no_length_on_head):
            self.send_header("Content-Length", str(len(body)))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        if head:
            return
        if fault.drop_after is not None and n_before == 0:
            self.wfile.write(body[: fault.drop_after])
            self.close_connection = True
            return
        self.wfile.write(body)


def build_dataset(root: Path) -> dict[str, bytes]:
    rng = random.Random(20100101)
    files: dict[str, bytes] = {name: text.encode() for name, text in TOP_LEVEL.items()}
    for rel in ALL_CASE_FILES:
        if rel.endswith(".edf"):
            files[rel] = rng.randbytes(rng.randint(3000, 6000))
        else:
            files[rel] = f"fake {rel}\n".encode() * 3
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    order = sorted(files, key=lambda rel: hashlib.md5(rel.encode()).hexdigest())  # unsorted, as PN
    sums = "".join(f"{hashlib.sha256(files[rel]).hexdigest()} {rel}\n" for rel in order)
    (root / dl.CHECKSUMS_NAME).write_text(sums)
    return files


@pytest.fixture
def source(tmp_path: Path) -> dict[str, bytes]:
    return build_dataset(tmp_path / "server")


@pytest.fixture
def server(request: pytest.FixtureRequest, tmp_path: Path, source: dict[str, bytes]):
    fake = FakePhysioNet(tmp_path / "server")
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.fake = fake
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()

    def stop() -> None:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)

    request.addfinalizer(stop)
    fake.base_url = f"http://127.0.0.1:{httpd.server_address[1]}{PREFIX}"
    return fake


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "data"


def run(server: FakePhysioNet, dest: Path, **kwargs) -> DownloadReport:
    kwargs.setdefault("chunk_bytes", 1024)
    kwargs.setdefault("backoff_s", 0.001)
    kwargs.setdefault("timeout", 10.0)
    kwargs.setdefault("min_free_margin_bytes", 0)
    return download_chbmit(dest, base_url=server.base_url, **kwargs)


def files_on_disk(dest: Path) -> set[str]:
    return {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}


def assert_identical(dest: Path, source: dict[str, bytes], rels: list[str]) -> None:
    for rel in rels:
        assert (dest / rel).read_bytes() == source[rel], rel


# --------------------------------------------------------------------------- parsing


def test_parse_sha256sums_formats_and_rejects_unsafe_paths() -> None:
    a, b, c = "a" * 64, "B" * 64, "0123456789abcdef" * 4
    text = f"{a} RECORDS\n\n{b}  chb02/chb02_16+.edf\n{c} *chb17/chb17a_03.edf\n"
    assert parse_sha256sums(text) == {
        "RECORDS": a,
        "chb02/chb02_16+.edf": "b" * 64,
        "chb17/chb17a_03.edf": c,
    }
    for bad in (f"{a} ../etc/passwd", f"{a} /abs/file", "abc RECORDS", f"{a}", ""):
        with pytest.raises(ValueError):
            parse_sha256sums(bad)
    with pytest.raises(ValueError, match="listed twice"):
        parse_sha256sums(f"{a} RECORDS\n{c} RECORDS\n")


def test_parse_real_physionet_sha256sums(chbmit_meta: Path) -> None:
    checksums = parse_sha256sums((chbmit_meta / "SHA256SUMS.txt").read_text())
    by_case = dl.files_by_case(checksums)
    assert list(by_case) == [f"chb{i:02d}" for i in range(1, 25)]
    assert sum(rel.endswith(".edf") for rel in checksums) == 686
    assert "chb02/chb02_16+.edf" in checksums and "chb17/chb17a_03.edf" in by_case["chb17"]
    for name in ("RECORDS", "RECORDS-WITH-SEIZURES", "SUBJECT-INFO", "ANNOTATORS"):
        expected = hashlib.sha256((chbmit_meta / name).read_bytes()).hexdigest()
        assert checksums[name] == expected


# --------------------------------------------------------------------------- happy path


def test_fresh_download_fetches_and_verifies_every_file(
    server: FakePhysioNet, dest: Path, source: dict[str, bytes], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    report = run(server, dest)
    assert files_on_disk(dest) == set(ALL_FILES) | {dl.CHECKSUMS_NAME}
    assert_identical(dest, source, ALL_FILES)
    assert sorted(report.fetched) == sorted(ALL_FILES)
    assert report.cases == list(CASES)
    assert report.bytes_downloaded == sum(len(source[rel]) for rel in ALL_FILES)
    sums = (server.root / dl.CHECKSUMS_NAME).read_bytes()
    assert (dest / dl.CHECKSUMS_NAME).read_bytes() == sums
    as_dict = json.loads(json.dumps(report.to_dict()))
    assert as_dict["checksums_sha256"] == hashlib.sha256(sums).hexdigest()
    assert len(as_dict["files"]) == len(ALL_FILES) and as_dict["resumed"] == []
    messages = [r.getMessage() for r in caplog.records]
    for rel in ALL_FILES:  # exactly one line per file action
        assert sum(m.startswith(f"fetched {rel} ") for m in messages) == 1, rel


def test_second_run_downloads_nothing(server: FakePhysioNet, dest: Path) -> None:
    run(server, dest)
    n_requests = len(server.seen)
    report = run(server, dest)
    assert report.fetched == [] and report.bytes_downloaded == 0
    assert sorted(report.skipped_verified) == sorted(ALL_FILES)
    assert [(s.method, s.path) for s in server.seen[n_requests:]] == [("GET", dl.CHECKSUMS_NAME)]


def test_parallel_jobs_download_everything(
    server: FakePhysioNet, dest: Path, source: dict[str, bytes]
) -> None:
    report = run(server, dest, jobs=4)
    assert_identical(dest, source, ALL_FILES)
    assert sorted(report.fetched) == sorted(ALL_FILES)
    assert [f.path for f in report.files] == sorted(ALL_FILES)


# --------------------------------------------------------------------------- resuming


def test_interrupted_transfer_resumes_with_range_request(
    server: FakePhysioNet, dest: Path, source: dict[str, bytes]
) -> None:
    rel = "chb01/chb01_03.edf"
    server.faults[rel] = Fault(drop_after=2500)
    report = run(server, dest)
    assert (dest / rel).read_bytes() == source[rel]
    gets = server.gets(rel)
    assert [(g.range, g.status) for g in gets] == [(None, 200), ("bytes=2500-", 206)]
    assert report.resumed == [rel]
    action = next(f for f in report.files if f.path == rel)
    assert action.bytes_downloaded == len(source[rel])  # the first 2500 bytes were not re-sent
    assert not list(dest.rglob("*.part"))


def test_partial_file_from_an_earlier_run_is_resumed(
    server: FakePhysioNet, dest: Path, source: dict[str, bytes]
) -> None:
    rel = "chb02/chb02_16+.edf"
    part = dest / (rel + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(source[rel][:1234])
    report = run(server, dest, cases=["chb02"])
    assert (dest / rel).read_bytes() == source[rel]
    assert [g.range for g in server.gets(rel)] == ["bytes=1234-"]
    assert report.resumed == [rel]
    assert (
        next(f for f in report.files if f.path == rel).bytes_downloaded == len(source[rel]) - 1234
    )
    assert not part.exists()


def test_server_ignoring_range_restarts_the_file(
    server: FakePhysioNet, dest: Path, source: dict[str, bytes]
) -> None:
    rel = "chb17/chb17a_03.edf"
    server.faults[rel] = Fault(drop_after=1000, ignore_range=True)
    report = run(server, dest, cases=["chb17"])
    assert (dest / rel).read_bytes() == source[rel]
    assert [(g.range, g.status) for g in server.gets(rel)] == [(None, 200), ("bytes=1000-", 200)]
    assert rel in report.fetched and report.resumed == []


def test_unverified_files_at_the_real_name_are_repaired(
    server: FakePhysioNet, dest: Path, source: dict[str, bytes]
) -> None:
    truncated, damaged = "chb01/chb01_01.edf", "chb01/chb01_03.edf"
    (dest / "chb01").mkdir(parents=True)
    (dest / truncated).write_bytes(source[truncated][:2000])  # e.g. an interrupted wget
    (dest / damaged).write_bytes(corrupt(source[damaged]))  # full size, wrong bytes
    report = run(server, dest, cases=["chb01"])
    assert_identical(dest, source, [truncated, damaged])
    assert [g.range for g in server.gets(truncated)] == ["bytes=2000-"]
    assert [(g.range, g.status) for g in server.gets(damaged)] == [
        (f"bytes={len(source[damaged])}-", 416),
        (None, 200),
    ]
    assert report.resumed == [truncated]
    assert report.refetched_after_corruption == [damaged]


# --------------------------------------------------------------------------- corruption


def test_corrupted_once_is_refetched_from_scratch(
    server: FakePhysioNet, dest: Path, source: dict[str, bytes]
) -> None:
    rel = "chb02/chb02_16.edf"
    server.faults[rel] = Fault(corrupt_gets=1)
    report = run(server, dest)
    assert (dest / rel).read_bytes() == source[rel]
    assert report.refetched_after_corruption == [rel]
    assert [g.range for g in server.gets(rel)] == [None, None]
    assert sorted(report.fetched) == sorted(set(ALL_FILES) - {rel})


def test_always_corrupted_raises_checksum_error_and_keeps_verified_files(
    server: FakePhysioNet, dest: Path, source: dict[str, bytes]
) -> None:
    bad = "chb02/chb02_16.edf"
    server.faults[bad] = Fault(corrupt_gets=99)
    expected = hashlib.sha256(source[bad]).hexdigest()
    got = hashlib.sha256(corrupt(source[bad])).hexdigest()
    with pytest.raises(ChecksumError) as info:
        run(server, dest)
    message = str(info.value)
    assert bad in message and expected in message and got in message
    assert len(server.gets(bad)) == 2
    assert not (dest / bad).exists() and not (dest / (bad + ".part")).exists()
    done_before = sorted(TOP_LEVEL) + [r for r in ALL_CASE_FILES if r < bad]
    assert done_before and set(done_before) <= files_on_disk(dest)
    assert_identical(dest, source, done_before)

    server.faults.clear()  # the server is fixed: a rerun only fetches what is not done
    report = run(server, dest)
    assert_identical(dest, source, ALL_FILES)
    assert sorted(report.skipped_verified) == sorted(done_before)
    assert bad in report.fetched


# --------------------------------------------------------------------------- case selection


@pytest.mark.parametrize("cases", [["chb02"], "chb02"])
def test_case_list_downloads_only_that_case_and_metadata(
    server: FakePhysioNet, dest: Path, source: dict[str, bytes], cases: list[str] | str
) -> None:
    report = run(server, dest, cases=cases)
    chb02 = [f"chb02/{name}" for name in CASES["chb02"]]
    assert files_on_disk(dest) == set(TOP_LEVEL) | set(chb02) | {dl.CHECKSUMS_NAME}
    assert_identical(dest, source, chb02)
    assert server.got_paths() == set(TOP_LEVEL) | set(chb02) | {dl.CHECKSUMS_NAME}
    assert report.cases == ["chb02"]


def test_missing_fetches_only_the_incomplete_case(
    server: FakePhysioNet, dest: Path, source: dict[str, bytes]
) -> None:
    run(server, dest)
    gone, damaged = "chb17/chb17b_63.edf", "chb17/chb17-summary.txt"
    (dest / gone).unlink()
    (dest / damaged).write_text("edited by hand\n")
    n_requests = len(server.seen)
    report = run(server, dest, cases="missing")
    assert report.cases == ["chb17"]
    assert sorted(report.fetched + report.resumed + report.refetched_after_corruption) == sorted(
        [gone, damaged]
    )
    assert {s.path for s in server.seen[n_requests:] if s.method == "GET"} == {
        dl.CHECKSUMS_NAME,
        gone,
        damaged,
    }
    assert_identical(dest, source, ALL_FILES)


def test_unknown_case_is_a_clear_error(server: FakePhysioNet, dest: Path) -> None:
    with pytest.raises(ValueError, match=r"chb99.*chb01, chb02, chb17"):
        run(server, dest, cases=["chb01", "chb99"])
    assert server.got_paths() == {dl.CHECKSUMS_NAME}
    assert files_on_disk(dest) == set()


# --------------------------------------------------------------------------- disk space


def fake_disk_usage(free: int):
    usage = namedtuple("usage", "total used free")
    return lambda path: usage(10 * free + 1, 9 * free + 1, free)


def test_insufficient_disk_space_raises_before_any_data_is_written(
    server: FakePhysioNet,
    dest: Path,
    source: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    total = sum(len(source[rel]) for rel in ALL_FILES)
    monkeypatch.setattr(dl.shutil, "disk_usage", fake_disk_usage(total + 100))
    with pytest.raises(InsufficientDiskSpaceError) as info:
        run(server, dest, min_free_margin_bytes=200)
    assert info.value.needed == total and info.value.free == total + 100
    assert "not enough free disk space" in str(info.value) and f"({total} bytes)" in str(info.value)
    assert files_on_disk(dest) == {dl.CHECKSUMS_NAME}
    assert server.got_paths() == {dl.CHECKSUMS_NAME}
    assert {s.path for s in server.seen if s.method == "HEAD"} == set(ALL_FILES)


def test_disk_check_counts_bytes_already_in_part_files(
    server: FakePhysioNet,
    dest: Path,
    source: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rel = "chb01/chb01_01.edf"
    (dest / "chb01").mkdir(parents=True)
    (dest / (rel + ".part")).write_bytes(source[rel][:3000])
    needed = sum(len(source[r]) for r in ALL_FILES) - 3000
    monkeypatch.setattr(dl.shutil, "disk_usage", fake_disk_usage(needed + 50))
    report = run(server, dest, min_free_margin_bytes=50)  # fits exactly
    assert report.resumed == [rel]
    (dest / rel).unlink()
    (dest / (rel + ".part")).write_bytes(source[rel][:3000])
    monkeypatch.setattr(dl.shutil, "disk_usage", fake_disk_usage(len(source[rel]) - 3000 + 49))
    with pytest.raises(InsufficientDiskSpaceError) as info:
        run(server, dest, min_free_margin_bytes=50)
    assert info.value.needed == len(source[rel]) - 3000


def test_head_without_content_length_warns_and_counts_zero(
    server: FakePhysioNet,
    dest: Path,
    source: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    rel = "chb17/chb17a_03.edf"
    server.faults[rel] = Fault(no_length_on_head=True)
    others = sum(len(source[r]) for r in ALL_FILES if r != rel)
    monkeypatch.setattr(dl.shutil, "disk_usage", fake_disk_usage(others))
    report = run(server, dest)  # would not fit if rel's size were counted
    assert (dest / rel).read_bytes() == source[rel]
    assert rel in report.fetched
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(rel in m and "Content-Length" in m for m in warnings)


# --------------------------------------------------------------------------- HTTP errors


def test_http_errors_are_retried_or_reported(
    server: FakePhysioNet, dest: Path, source: dict[str, bytes]
) -> None:
    flaky, broken = "chb01/chb01_01.edf", "chb01/chb01_03.edf"
    server.faults[flaky] = Fault(fail_status=[503, 500])
    server.faults[broken] = Fault(fail_status=[503] * 10)
    with pytest.raises(DownloadError, match=r"chb01/chb01_03\.edf.*3 failed attempt"):
        run(server, dest, cases=["chb01"], retries=2)
    assert (dest / flaky).read_bytes() == source[flaky]
    assert len(server.gets(flaky)) == 3 and len(server.gets(broken)) == 3

    server.faults = {broken: Fault(fail_status=[404])}
    with pytest.raises(DownloadError, match="HTTP 404"):
        run(server, dest, cases=["chb01"], retries=2)
    assert len(server.gets(broken)) == 4  # 404 is not retried


def test_file_url_mirror(tmp_path: Path, dest: Path, source: dict[str, bytes]) -> None:
    base_url = (tmp_path / "server").as_uri() + "/"
    rel = "chb02/chb02_16+.edf"
    (dest / "chb02").mkdir(parents=True)
    (dest / (rel + ".part")).write_bytes(b"x" * 100)  # no Range on file://: restarted
    report = download_chbmit(dest, base_url=base_url, cases=["chb02"], min_free_margin_bytes=0)
    assert_identical(dest, source, sorted(TOP_LEVEL) + [f"chb02/{n}" for n in CASES["chb02"]])
    assert rel in report.fetched
    (tmp_path / "server" / "ANNOTATORS").unlink()
    (dest / "ANNOTATORS").unlink()
    with pytest.raises(DownloadError, match="ANNOTATORS"):  # a missing file is not retried
        download_chbmit(dest, base_url=base_url, cases=["chb02"], backoff_s=60.0)


# --------------------------------------------------------------------------- CLI and script


def test_cli_writes_report_and_prints_summary(
    server: FakePhysioNet, dest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--dest", str(dest), "--base-url", server.base_url, "--min-free-gb", "0"]
    assert dl.main([*argv, "--cases", "chb01,chb17"]) == 0
    report = json.loads((dest / dl.REPORT_NAME).read_text())
    assert report["cases"] == ["chb01", "chb17"]
    assert "chb17/chb17a_03.edf" in report["fetched"] and report["skipped_verified"] == []
    out = capsys.readouterr().out
    assert "fetched" in out and str(dest / dl.REPORT_NAME) in out

    assert dl.main([*argv, "--cases", "chb42"]) == 1
    assert "chb42" in capsys.readouterr().err


def test_snakemake_rule_download_chbmit(server: FakePhysioNet, tmp_path: Path, dest: Path) -> None:
    """The workflow's download_chbmit rule, run by Snakemake into a data_root that does not exist yet."""
    if dl.shutil.disk_usage(tmp_path).free < dl.DEFAULT_MIN_FREE_MARGIN_BYTES + (1 << 20):
        pytest.skip("the rule keeps the default free-space margin")
    work = tmp_path / "wf"
    work.mkdir()
    cfg = work / "cfg.yaml"
    cfg.write_text(
        json.dumps(
            {"data_root": str(dest), "download": {"base_url": server.base_url, "cases": ["chb17"]}}
        )
    )
    cmd = [sys.executable, "-m", "snakemake", "download_chbmit", "-s", str(REPO / "Snakefile")]
    cmd += ["-d", str(work), "--configfile", str(cfg), "--cores", "2"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((work / "results/dataset/download_report.json").read_text())
    assert report["cases"] == ["chb17"]
    assert "fetched chb17/chb17a_03.edf" in (work / "logs/download_chbmit.log").read_text()
    assert (dest / "chb17" / "chb17b_63.edf").is_file() and not (dest / "chb01").exists()


def test_snakemake_rule_refuses_the_synthetic_folder(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "snakemake", "download_chbmit", "-s", str(REPO / "Snakefile")]
    cmd += ["-d", str(tmp_path), "--cores", "1"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    log = (tmp_path / "logs/download_chbmit.log").read_text()
    assert "is the synthetic dataset's folder; download CHB-MIT elsewhere" in log
