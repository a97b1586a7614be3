"""The replay app's launcher (`preictal-app`, lib/preictal/app_server.py): started from another
folder, with no streamlit config in reach, it serves on 127.0.0.1 only and tells the browser to
send no usage statistics; a server started without those settings gets the app's warning instead
of its pages."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from streamlit import config
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect

from preictal.app_server import APP, EXPOSING_DEFAULTS, OPTIONS, exposing_defaults

REPO = Path(__file__).resolve().parents[1]
LAUNCHER = Path(sys.executable).with_name("preictal-app")  # the console script of pyproject.toml
WARNING = "started without the app's settings"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(command: list[str], folder: Path, results: Path | None = None):
    """Run ``command`` plus a free port in ``folder``, HOME there too (so no streamlit config
    file applies), until /_stcore/health answers; yield the port, then stop the server. The app
    reads ``results`` (by default none: a folder that does not exist)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    env |= {"HOME": str(folder), "PREICTAL_RESULTS": str(results or folder / "results")}
    server = subprocess.Popen(
        [*command, "--server.port", str(port)],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not _healthy(port):
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"the server did not start:\n{server.communicate()[0]}")
            time.sleep(0.1)  # poll interval of the wait on health, not a wait for anything
        yield port
    finally:
        server.terminate()
        try:
            server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
            return r.read() == b"ok"
    except OSError:
        return False


def listening_addresses(port: int) -> set[str]:
    """The local addresses of the sockets listening on ``port``, as /proc/net/tcp and tcp6 write
    them (127.0.0.1 is 0100007F; every interface is 00000000, or 32 zeros for ::)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if int(hex_port, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.add(address)
    return found


def first_page(port: int) -> tuple[bool, str]:
    """What a browser gets on opening the app, over streamlit's websocket: whether the server
    asks it to send usage statistics, and the text of the first run's alerts (st.error and the
    like), one a line."""
    request = BackMsg()
    request.rerun_script.SetInParent()  # the browser's first message: run the script
    texts, gather_usage_stats = [], None
    url = f"ws://127.0.0.1:{port}/_stcore/stream"
    with connect(url, subprotocols=["streamlit"], open_timeout=30) as ws:
        ws.send(request.SerializeToString())
        while True:
            msg = ForwardMsg.FromString(ws.recv(timeout=60))
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                gather_usage_stats = msg.new_session.config.gather_usage_stats
            elif msg.delta.new_element.WhichOneof("type") == "alert":
                texts.append(msg.delta.new_element.alert.body)
            elif kind == "script_finished":
                return gather_usage_stats, "\n".join(texts)


def test_launcher_serves_on_localhost_only_from_any_folder(tmp_path):
    assert LAUNCHER.is_file(), "run: pip install -e . (it installs the preictal-app script)"
    assert Path("/proc/net/tcp").is_file(), "this test reads Linux's /proc/net/tcp"
    with serving([str(LAUNCHER)], tmp_path) as port:
        assert listening_addresses(port) == {"0100007F"}
        gather_usage_stats, page = first_page(port)
    assert gather_usage_stats is False
    assert "Results are missing" in page and WARNING not in page  # the app itself, unwarned


def test_a_server_without_the_settings_gets_a_warning(tmp_path):
    """A plain `streamlit run` from another folder: its address given (so the test listens on
    127.0.0.1 and looks up no external IP), usage statistics left at streamlit's default."""
    command = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true"]
    command += ["--server.address", "127.0.0.1", "--browser.serverAddress", "127.0.0.1"]
    with serving(command, tmp_path) as port:
        gather_usage_stats, page = first_page(port)
    assert gather_usage_stats is True  # what the launcher's test sees False for
    assert WARNING in page and "preictal-app" in page
    assert "browser.gatherUsageStats" in page and "server.address" not in page
    assert "Results are missing" not in page  # it stopped before reading anything


def test_unset_options_are_found_and_chosen_ones_respected(tmp_path, monkeypatch):
    """In this process: no config file in reach leaves both exposing options unset; a chosen
    value, 0.0.0.0 included, counts as set."""
    for key in list(os.environ):
        if key.startswith("STREAMLIT_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    try:
        config.get_config_options(force_reparse=True)
        assert exposing_defaults() == list(EXPOSING_DEFAULTS)
        config.set_option("server.address", "0.0.0.0")
        assert exposing_defaults() == ["browser.gatherUsageStats"]
    finally:
        monkeypatch.undo()
        config.get_config_options(force_reparse=True)  # back to the repository's config


def test_config_toml_holds_the_launchers_options():
    """`streamlit run app/app.py` from the repository root reads .streamlit/config.toml: the
    same options as the launcher's flags."""
    toml = tomllib.loads((REPO / ".streamlit/config.toml").read_text())
    flat = {f"{section}.{k}": v for section, table in toml.items() for k, v in table.items()}
    as_flags = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in flat.items()}
    assert as_flags == OPTIONS
