"""Gap-aware timeline of one case: where every file and seizure lies in continuous time.

Times are seconds from midnight of the first recording day (``start_sec``). Summary clock times roll
over midnight, either explicitly (``26:02:15``) or silently (``23:59:00`` then ``0:59:03``); a file
starts on the first day that puts it after the previous file's start. Where the EDF header exists,
its start clock and duration are cross-checked against the summary and its duration is used.

A *segment* is a run of files whose relative timing is known. Files without any clock time (chb24)
each form their own segment, placed ``unknown_gap_sec`` apart so that nothing computed on the
timeline (labels, alarms, interictal distances) can cross from one to the next.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from preictal.chbmit.edf import EdfHeader
from preictal.chbmit.errors import DatasetError
from preictal.chbmit.summary_file import CaseSummary, SummaryFile

DAY_SEC = 86400

FILE_COLUMNS = [
    "case",
    "patient",
    "file",
    "file_index",
    "in_summary",
    "montage_id",
    "n_channels_listed",
    "n_seizures",
    "start_clock",
    "end_clock",
    "start_sec",
    "end_sec",
    "duration_sec",
    "gap_before_sec",
    "segment",
    "time_source",
    "edf_present",
    "edf_start_clock",
    "edf_duration_sec",
    "edf_n_signals",
    "edf_sfreq_hz",
]
SEIZURE_COLUMNS = [
    "case",
    "patient",
    "file",
    "seizure_in_file",
    "start_in_file_sec",
    "end_in_file_sec",
    "onset_sec",
    "end_sec",
    "duration_sec",
    "segment",
]


class TimelineError(DatasetError):
    """The summary and the EDF headers disagree, or files cannot be ordered in time."""


@dataclass(frozen=True)
class TimelineParams:
    header_tolerance_sec: float = 2.0
    unknown_gap_sec: float = DAY_SEC


def _clock_offset(clock_sec: int, not_before: float) -> float:
    """``clock_sec`` moved forward by whole days until it is at or after ``not_before``."""
    days = max(0, math.ceil((not_before - clock_sec) / DAY_SEC))
    return clock_sec + days * DAY_SEC


def _duration(f: SummaryFile) -> float | None:
    if f.start_clock_sec is None or f.end_clock_sec is None:
        return None
    return float((f.end_clock_sec - f.start_clock_sec) % DAY_SEC)


def build_timeline(
    summary: CaseSummary,
    headers: Mapping[str, EdfHeader] | None = None,
    *,
    patient: str | None = None,
    extra_files: list[str] | None = None,
    params: TimelineParams | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Place the case's files and seizures on its timeline.

    ``headers`` maps file names to EDF headers of the files on disk. ``extra_files`` are files on disk
    that the summary does not list (chb24 lists only its seizure files); they have no seizures and
    are appended in name order. Returns (files, seizures) DataFrames.
    """
    headers = dict(headers or {})
    params = params or TimelineParams()
    patient = patient or summary.case
    entries: list[tuple[SummaryFile | None, str]] = [(f, f.name) for f in summary.files]
    entries += [(None, name) for name in sorted(extra_files or [])]

    rows = []
    prev_start: float | None = None
    prev_end: float | None = None
    segment = -1
    source_prev: str | None = None
    for index, (sfile, name) in enumerate(entries):
        header = headers.get(name)
        clock_start = sfile.start_clock_sec if sfile else None
        summary_duration = _duration(sfile) if sfile else None
        if header is not None and sfile is not None:
            contradictions = header_contradictions(header, sfile, summary.sampling_rate_hz)
            if contradictions:
                raise TimelineError(f"{header.path}: {contradictions[0]}")
        if header is not None and clock_start is not None:
            _check_header(summary.path, sfile, header, summary_duration, params)
        if clock_start is None and header is not None:
            clock_start, source = header.start_clock_sec, "edf_header"
        else:
            source = "summary" if clock_start is not None else "none"
        duration = header.duration_sec if header is not None else summary_duration

        if clock_start is None:
            # Unknown relation to anything else: a segment of its own, far from its neighbours.
            anchor = prev_end if prev_end is not None else (prev_start or 0.0)
            start = anchor + params.unknown_gap_sec if index else 0.0
            gap = math.nan
            segment += 1
        else:
            start = _clock_offset(clock_start, prev_start if prev_start is not None else 0.0)
            if prev_start is not None and source_prev == "none":
                start = max(start, (prev_end or prev_start) + params.unknown_gap_sec)
            gap = start - prev_end if prev_end is not None and source_prev != "none" else math.nan
            if index == 0 or source_prev == "none":
                segment += 1
        end = start + duration if duration is not None else math.nan
        rows.append(
            {
                "case": summary.case,
                "patient": patient,
                "file": name,
                "file_index": index,
                "in_summary": sfile is not None,
                "montage_id": sfile.montage_id if sfile else -1,
                "n_channels_listed": len(sfile.channels) if sfile else 0,
                "n_seizures": sfile.n_seizures_stated if sfile else 0,
                "start_clock": sfile.start_clock if sfile else None,
                "end_clock": sfile.end_clock if sfile else None,
                "start_sec": float(start),
                "end_sec": float(end),
                "duration_sec": float(duration) if duration is not None else math.nan,
                "gap_before_sec": float(gap),
                "segment": segment,
                "time_source": source,
                "edf_present": header is not None,
                "edf_start_clock": header.start_clock if header else None,
                "edf_duration_sec": header.duration_sec if header else math.nan,
                "edf_n_signals": len(header.labels) if header else 0,
                "edf_sfreq_hz": _common_rate(header) if header else math.nan,
            }
        )
        prev_start = start
        prev_end = end if not math.isnan(end) else None
        source_prev = source

    files = pd.DataFrame(rows, columns=FILE_COLUMNS)
    seizures = _place_seizures(summary, files, patient)
    return files, seizures


def _common_rate(header: EdfHeader) -> float:
    rates = set(header.sampling_rates_hz)
    return rates.pop() if len(rates) == 1 else math.nan


def header_contradictions(
    header: EdfHeader, sfile: SummaryFile, sampling_rate_hz: float | None
) -> list[str]:
    """Where an EDF header contradicts its summary entry: a sampling rate shared by all channels
    that is not the summary's (channels at mixed rates are left to the montage, which excludes the
    file if a canonical channel is among them), or another number of channels."""
    problems = []
    rates = set(header.sampling_rates_hz)
    if sampling_rate_hz is not None and len(rates) == 1 and rates != {sampling_rate_hz}:
        problems.append(
            f"EDF header sampling rate {rates.pop():g} Hz on every channel, but the summary "
            f"says Data Sampling Rate {sampling_rate_hz:g} Hz"
        )
    if len(header.labels) != len(sfile.channels):
        problems.append(
            f"EDF header has {len(header.labels)} signals, but the summary (line {sfile.line}) "
            f"lists {len(sfile.channels)} channels for this file"
        )
    return problems


def _check_header(
    summary_path, sfile: SummaryFile, header: EdfHeader, summary_duration, params: TimelineParams
) -> None:
    tol = params.header_tolerance_sec
    clock_diff = (header.start_clock_sec - sfile.start_clock_sec) % DAY_SEC
    clock_diff = min(clock_diff, DAY_SEC - clock_diff)
    if clock_diff > tol:
        raise TimelineError(
            f"{header.path}: EDF header starts at {header.start_clock}, but {summary_path} line "
            f"{sfile.line} says {sfile.start_clock} ({clock_diff:.0f} s apart; tolerance "
            f"timeline.header_tolerance_sec={tol:g})"
        )
    if summary_duration is not None and abs(header.duration_sec - summary_duration) > tol:
        raise TimelineError(
            f"{header.path}: EDF header lasts {header.duration_sec:g} s, but {summary_path} line "
            f"{sfile.line} gives {sfile.start_clock}-{sfile.end_clock} = {summary_duration:g} s "
            f"(tolerance timeline.header_tolerance_sec={tol:g})"
        )


def _place_seizures(summary: CaseSummary, files: pd.DataFrame, patient: str) -> pd.DataFrame:
    by_name = files.set_index("file")
    rows = []
    for sz in summary.seizures:
        f = by_name.loc[sz.file]
        if not np.isnan(f.duration_sec) and sz.end_sec > f.duration_sec + 1:
            raise TimelineError(
                f"{summary.path}:{sz.line}: seizure ends at {sz.end_sec:g} s, after the end of "
                f"{sz.file} ({f.duration_sec:g} s)"
            )
        rows.append(
            {
                "case": summary.case,
                "patient": patient,
                "file": sz.file,
                "seizure_in_file": sz.number,
                "start_in_file_sec": sz.start_sec,
                "end_in_file_sec": sz.end_sec,
                "onset_sec": f.start_sec + sz.start_sec,
                "end_sec": f.start_sec + sz.end_sec,
                "duration_sec": sz.end_sec - sz.start_sec,
                "segment": int(f.segment),
            }
        )
    return pd.DataFrame(rows, columns=SEIZURE_COLUMNS)
