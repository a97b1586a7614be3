"""Snakemake finds logger plugins by this package name (`--logger preictal`); the handler lives in
preictal.workflow.console."""

from preictal.workflow.console import ConsoleHandler as LogHandler

__all__ = ["LogHandler"]
