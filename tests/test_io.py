"""Atomic writers (preictal.io)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from preictal.io import atomic_path, machine_info, write_text


def test_a_killed_writer_leaves_a_temporary_file_that_the_next_write_sweeps(tmp_path):
    target = tmp_path / "signal.npy"
    code = (
        "import os, time\n"
        "from preictal.io import atomic_path\n"
        f"with atomic_path({str(target)!r}) as tmp:\n"
        "    tmp.write_bytes(b'x' * 1000)\n"
        "    print(tmp, flush=True)\n"
        "    time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    leftover = proc.stdout.readline().strip()  # waits until the temporary file exists
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert os.path.exists(leftover) and not target.exists()  # SIGKILL skips the cleanup
    other = tmp_path / ".other.npy.abc.tmp"
    other.write_bytes(b"")  # another output's temporary file is not this writer's to sweep
    write_text(target, "done")
    assert target.read_text() == "done"
    assert not os.path.exists(leftover)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.npy.abc.tmp", "signal.npy"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def test_machine_info_names_the_cpu_and_torchs_kernels():
    import torch

    info = machine_info()
    assert info["cpu"] and info["machine"] and info["cpu_count"] >= 1
    assert isinstance(info["torch_cpu_capability"], str) and info["torch_cpu_capability"]
    assert info["torch_threads"] == torch.get_num_threads()
