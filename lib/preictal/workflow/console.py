"""The workflow's console: one line per job start and end, and a closing summary of warnings.

Snakemake's default console prints a block of 10-15 lines per job (inputs, outputs, reason,
resources, "Shell command: None" for script rules). `ConsoleHandler` is a Snakemake logger plugin
(`--logger preictal`, set in profiles/default; the plugin package is
lib/snakemake_logger_plugin_preictal) that prints a job as `HH:MM:SS start rule  key=value` and
`HH:MM:SS done  rule  key=value  12 s  [5/56]`; errors, warnings and everything else keep
Snakemake's own format and filters (`--quiet` still works).

`warnings_summary` lists the WARNING lines the jobs of this run wrote to logs/ (the Snakefile's
`onsuccess`/`onerror`), so that a warning does not live only in a log nobody opens.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from pathlib import Path

from snakemake.logging import DefaultFilter, DefaultFormatter
from snakemake_interface_logger_plugins.base import LogHandlerBase
from snakemake_interface_logger_plugins.common import LogEvent

# Lines that say nothing the start and done lines don't: the scheduler's between jobs, and one
# per temp() file removed (the CHB-MIT twin's EDFs with keep_edfs: false, hundreds of them).
SCHEDULER_CHATTER = re.compile(r"^(Select jobs to execute\.\.\.|Removing temporary output .*)$")


def job_label(rule: str, wildcards: dict | None) -> str:
    """`rule  case=chb01 fold=chb02`: the rule and its wildcards, in one line."""
    parts = [f"{k}={v}" for k, v in (wildcards or {}).items()]
    return "  ".join([rule, " ".join(parts)]) if parts else rule


def clock(seconds_since_epoch: float | None = None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(seconds_since_epoch))


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


class ConsoleHandler(LogHandlerBase):
    """One line per job start and end; other records as Snakemake prints them."""

    def __post_init__(self) -> None:
        settings = self.common_settings
        self.stream = sys.stdout if getattr(settings, "stdout", False) else sys.stderr
        self.dryrun = bool(getattr(settings, "dryrun", False))
        self.quiet = settings.quiet or ()
        self.addFilter(
            DefaultFilter(
                settings.quiet,
                settings.debug_dag,
                settings.verbose,
                settings.dryrun,
                False,  # printshellcmds: every rule is a script rule (shellcmd None)
            )
        )
        self.snakemake_format = DefaultFormatter(settings.quiet, settings.show_failed_logs)
        self.started: dict[int, tuple[str, float]] = {}
        self.finished: list[int] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.line(record)
            if line:
                self.stream.write(line + "\n")
                self.stream.flush()
        except Exception:  # a console problem must never stop the workflow
            self.handleError(record)

    def line(self, record: logging.LogRecord) -> str | None:
        event = getattr(record, "event", None)
        if event == LogEvent.JOB_INFO:
            label = job_label(record.rule_name, getattr(record, "wildcards", None))
            self.started[record.jobid] = (label, time.time())
            if not self.dryrun:
                return f"{clock()} start {label}"
            reason = getattr(record, "reason", "")  # why it would run: the point of a dry run
            show = reason and "reason" not in {str(q).lower() for q in self.quiet}
            return f"plan  {label}" + (f"  ({reason})" if show else "")
        if event == LogEvent.JOB_FINISHED:
            jobid = getattr(record, "job_id", None)
            if jobid not in self.started:  # its start was quiet (--quiet rules): rule name only
                rule = re.search(r"Rule: (\S+)\)", str(record.msg))
                self.started[jobid] = (rule.group(1) if rule else f"job {jobid}", time.time())
            self.finished.append(jobid)
            return None
        if event == LogEvent.PROGRESS:
            lines = []
            for jobid in self.finished:
                label, start = self.started.pop(jobid)
                lines.append(
                    f"{clock()} done  {label}  {duration(time.time() - start)}  "
                    f"[{record.done}/{record.total}]"
                )
            self.finished = []
            return "\n".join(lines) or None
        if event in (LogEvent.SHELLCMD, LogEvent.JOB_STARTED):  # "Execute 2 jobs..."
            return None
        if event is None and SCHEDULER_CHATTER.match(str(record.msg)):
            return None
        return self.snakemake_format.format(record)

    @property
    def writes_to_stream(self) -> bool:
        return True

    @property
    def writes_to_file(self) -> bool:
        return False

    @property
    def has_filter(self) -> bool:
        return True

    @property
    def has_formatter(self) -> bool:
        return True

    @property
    def needs_rulegraph(self) -> bool:
        return False


def warning_lines(log_dir: str | Path, since: float) -> list[tuple[Path, str]]:
    """(log file, message) for every WARNING line in a log under `log_dir` written at or after
    `since` (the run's start), in file order."""
    found = []
    for path in sorted(Path(log_dir).rglob("*.log")):
        try:
            if path.stat().st_mtime < since:
                continue
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            head, sep, message = line.partition(" WARNING ")
            if sep and head[:1].isdigit():  # "%(asctime)s WARNING %(message)s" of workflow/job.py
                found.append((path, message.strip()))
    return found


def warnings_summary(log_dir: str | Path, since: float, limit: int = 15) -> str | None:
    """The closing lines of a run: each warning of this run's jobs with its log, at most `limit`
    (the rest counted); None when there were none."""
    found = warning_lines(log_dir, since)
    if not found:
        return None
    lines = [f"{len(found)} warning(s) in this run's job logs:"]
    for path, message in found[:limit]:
        short = message if len(message) <= 160 else message[:157] + "..."
        lines.append(f"  {path}: {short}")
    if len(found) > limit:
        lines.append(f"  ... and {len(found) - limit} more: grep -r WARNING {log_dir}")
    return "\n".join(lines)
