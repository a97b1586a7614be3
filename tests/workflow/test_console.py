"""The console (preictal.workflow.console): job lines from Snakemake's log records, the closing
summary of this run's warnings, and the plugin package Snakemake finds by name."""

from __future__ import annotations

import logging
import os
import time
from types import SimpleNamespace

from snakemake_interface_logger_plugins.common import LogEvent
from snakemake_interface_logger_plugins.registry import LoggerPluginRegistry

from preictal.workflow.console import ConsoleHandler, job_label, warnings_summary


def settings(**changes):
    base = dict(
        printshellcmds=True, nocolor=True, quiet=set(), debug_dag=False, verbose=False,
        show_failed_logs=True, stdout=False, dryrun=False,
    )  # fmt: skip
    return SimpleNamespace(**{**base, **changes})


def record(msg=None, **extra) -> logging.LogRecord:
    rec = logging.LogRecord("snakemake", logging.INFO, __file__, 1, msg, None, None)
    rec.__dict__.update(extra)
    return rec


def test_job_label_names_the_rule_and_its_wildcards():
    assert job_label("aggregate_split", {"split": "loso"}) == "aggregate_split  split=loso"
    assert job_label("exclusions", {}) == "exclusions"


def test_a_job_is_a_start_and_a_done_line():
    handler = ConsoleHandler(settings(), None)
    start = handler.line(
        record(event=LogEvent.JOB_INFO, jobid=7, rule_name="train_fusion",
               wildcards={"split": "loso", "fold": "chb03"}, reason="Missing output files")
    )  # fmt: skip
    assert start.endswith(" start train_fusion  split=loso fold=chb03")
    assert handler.line(record("Finished jobid: 7", event=LogEvent.JOB_FINISHED, job_id=7)) is None
    done = handler.line(record(event=LogEvent.PROGRESS, done=5, total=56))
    assert " done  train_fusion  split=loso fold=chb03  0 s  [5/56]" in done
    assert handler.line(record("None", event=LogEvent.SHELLCMD, shellcmd=None)) is None
    assert handler.line(record("Select jobs to execute...")) is None
    assert handler.line(record("Removing temporary output data/chb01/chb01_01.edf.")) is None
    assert handler.line(record("Execute 2 jobs...", event=LogEvent.JOB_STARTED, jobs=[7])) is None
    assert handler.line(record("3 input file(s) excluded")) == "3 input file(s) excluded"


def test_a_quiet_start_still_gives_a_done_line_with_the_rule():
    handler = ConsoleHandler(settings(quiet={"rules"}), None)
    handler.line(
        record("Finished jobid: 3 (Rule: exclusions)", event=LogEvent.JOB_FINISHED, job_id=3)
    )
    assert " done  exclusions  " in handler.line(record(event=LogEvent.PROGRESS, done=1, total=2))


def test_a_dry_run_says_why_each_job_would_run():
    handler = ConsoleHandler(settings(dryrun=True), None)
    rec = record(event=LogEvent.JOB_INFO, jobid=1, rule_name="index_case",
                 wildcards={"case": "chb01"}, reason="Params have changed since last execution")  # fmt: skip
    assert handler.line(rec) == (
        "plan  index_case  case=chb01  (Params have changed since last execution)"
    )
    quiet = ConsoleHandler(settings(dryrun=True, quiet={"reason"}), None)
    assert quiet.line(rec) == "plan  index_case  case=chb01"


def test_warnings_summary_lists_this_runs_warnings_with_their_logs(tmp_path):
    logs = tmp_path / "logs"
    (logs / "evaluate_fold/loso").mkdir(parents=True)
    old, new = logs / "old.log", logs / "evaluate_fold/loso/chb02_logreg.log"
    old.write_text("2026-12-01 10:00:00,000 WARNING from an earlier run\n")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    new.write_text(
        "2026-12-03 10:00:00,000 INFO fine\n"
        "2026-12-03 10:00:01,000 WARNING chb02: 115 positive and 0 negative windows; AUROC is NaN\n"
    )
    summary = warnings_summary(logs, since=time.time() - 60)
    assert summary.splitlines() == [
        "1 warning(s) in this run's job logs:",
        f"  {new}: chb02: 115 positive and 0 negative windows; AUROC is NaN",
    ]
    many = logs / "many.log"
    many.write_text("".join(f"2026-12-03 10:00:00,000 WARNING w{i}\n" for i in range(20)))
    lines = warnings_summary(logs, since=time.time() - 60, limit=5).splitlines()
    assert lines[0] == "21 warning(s) in this run's job logs:" and len(lines) == 7
    assert lines[-1].startswith("  ... and 16 more")
    assert warnings_summary(tmp_path / "none", since=0) is None


def test_snakemake_finds_the_plugin_by_name():
    plugin = LoggerPluginRegistry().get_plugin("preictal")
    assert plugin.log_handler is ConsoleHandler
