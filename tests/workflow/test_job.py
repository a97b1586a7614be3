"""A job writes nowhere outside the working directory (issue 18): the library caches that would
go under $HOME go under `.snakemake/cache` once a script has called `log_to_snakemake_log`."""

from __future__ import annotations

import os
import subprocess
import sys

JOB = """
import types
from preictal.workflow.job import log_to_snakemake_log
log_to_snakemake_log(types.SimpleNamespace(log=["job.log"], rule="r", wildcards={}))
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
plt.figure(); plt.text(0.5, 0.5, "x"); plt.savefig("x.png")
print(matplotlib.get_cachedir())
"""


def test_library_caches_stay_in_the_working_directory(tmp_path):
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("MPLCONFIGDIR", "XDG_CACHE_HOME")}
    env["HOME"] = str(home)
    out = subprocess.run(
        [sys.executable, "-c", JOB], cwd=work, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == str(work / ".snakemake/cache/matplotlib")
    assert any((work / ".snakemake/cache/matplotlib").iterdir())  # the font cache, written here
    assert list(home.iterdir()) == []
