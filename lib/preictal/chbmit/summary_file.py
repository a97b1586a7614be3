"""Parser for CHB-MIT ``chbNN-summary.txt`` files.

Every line shape of PhysioNet's 24 summaries is recognised: numbered (``Seizure 2 Start Time:``) and
unnumbered (``Seizure Start Time:``) seizure lines, runs of spaces, clock times past 24:00 or without
a leading zero, ``Channels changed:`` blocks, dummy channels ``-`` and ``.``, the ``01`` typo for
``O1`` and files without clock times (chb24). Anything else is an error that names the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from preictal.chbmit.errors import DatasetError

DUMMY_CHANNELS = frozenset({"-", "."})
# Typos in PhysioNet's channel lists, fixed when parsed: chb12's chb12_28 block writes 01 for O1.
CHANNEL_TYPOS = {"01": "O1"}

_SAMPLING = re.compile(r"^Data Sampling Rate:\s*(\d+(?:\.\d+)?)\s*Hz$")
_CHANNEL = re.compile(r"^Channel\s+(\d+):\s*(\S+)$")
_FILE_NAME = re.compile(r"^File Name:\s*(\S+\.edf)$")
_CLOCK = re.compile(r"^File (Start|End) Time:\s*(\d{1,2}):(\d{2}):(\d{2})$")
_N_SEIZURES = re.compile(r"^Number of Seizures in File:\s*(\d+)$")
_SEIZURE = re.compile(r"^Seizure\s*(\d+)?\s+(Start|End) Time:\s*(\d+(?:\.\d+)?)\s*seconds$")
_RULER = re.compile(r"^\*+$")
_HEADERS = ("Channels in EDF Files:", "Channels changed:")


class SummaryError(DatasetError):
    """A summary file that cannot be parsed or contradicts itself."""


@dataclass(frozen=True)
class SummaryFile:
    """One ``File Name:`` block."""

    case: str
    name: str
    line: int
    montage_id: int
    channels: tuple[str, ...]
    n_seizures_stated: int
    start_clock: str | None = None
    end_clock: str | None = None

    @property
    def start_clock_sec(self) -> int | None:
        return clock_to_seconds(self.start_clock) if self.start_clock else None

    @property
    def end_clock_sec(self) -> int | None:
        return clock_to_seconds(self.end_clock) if self.end_clock else None


@dataclass(frozen=True)
class SummarySeizure:
    """A seizure, in seconds from the start of its file."""

    case: str
    file: str
    number: int
    start_sec: float
    end_sec: float
    line: int


@dataclass
class CaseSummary:
    case: str
    path: Path
    sampling_rate_hz: float | None
    montages: list[tuple[str, ...]] = field(default_factory=list)
    files: list[SummaryFile] = field(default_factory=list)
    seizures: list[SummarySeizure] = field(default_factory=list)
    channel_fixes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def has_clock_times(self) -> bool:
        return all(f.start_clock and f.end_clock for f in self.files)


def clock_to_seconds(clock: str) -> int:
    """``'26:02:15'`` -> 93735. Hours may exceed 23 (CHB-MIT writes clock times past midnight)."""
    h, m, s = (int(x) for x in clock.split(":"))
    if not (0 <= m < 60 and 0 <= s < 60):
        raise ValueError(f"invalid clock time {clock!r}")
    return h * 3600 + m * 60 + s


def case_of_file(name: str) -> str:
    """``'chb17a_03.edf'`` -> ``'chb17'``; ``'chb02_16+.edf'`` -> ``'chb02'``."""
    m = re.match(r"^(chb\d{2})", name)
    if not m:
        raise ValueError(f"not a CHB-MIT file name: {name!r}")
    return m.group(1)


def parse_summary(path: str | Path, case: str | None = None) -> CaseSummary:
    """Parse one ``chbNN-summary.txt``. Raises :class:`SummaryError` naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise SummaryError(f"{path}: summary file not found")
    case = case or path.name.split("-")[0]
    text = path.read_text(encoding="utf-8", errors="strict")
    out = CaseSummary(case=case, path=path, sampling_rate_hz=None)

    channels: dict[int, str] = {}
    in_channel_block = False
    current: dict | None = None  # the File Name block being read
    pending_start: tuple[int | None, float, int] | None = None

    def fail(lineno: int, msg: str) -> SummaryError:
        return SummaryError(f"{path}:{lineno}: {msg}")

    def close_channel_block() -> None:
        nonlocal in_channel_block
        if in_channel_block:
            ordered = tuple(channels[k] for k in sorted(channels))
            out.montages.append(ordered)
            in_channel_block = False

    def close_file(lineno: int) -> None:
        nonlocal current, pending_start
        if current is None:
            return
        if pending_start is not None:
            raise fail(pending_start[2], "seizure start time without an end time")
        listed = current["seizures"]
        stated = current["n_seizures_stated"]
        if stated is None:
            raise fail(current["line"], f"{current['name']}: no 'Number of Seizures in File' line")
        if stated != len(listed):
            raise fail(
                current["count_line"],
                f"{current['name']}: states {stated} seizures but lists {len(listed)}",
            )
        out.files.append(
            SummaryFile(
                case=case,
                name=current["name"],
                line=current["line"],
                montage_id=len(out.montages) - 1,
                channels=out.montages[-1] if out.montages else (),
                n_seizures_stated=stated,
                start_clock=current.get("start_clock"),
                end_clock=current.get("end_clock"),
            )
        )
        out.seizures.extend(listed)
        current = None

    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or _RULER.match(line):
            continue
        if line in _HEADERS:
            close_file(lineno)
            close_channel_block()
            channels = {}
            in_channel_block = True
            continue
        if m := _SAMPLING.match(line):
            out.sampling_rate_hz = float(m.group(1))
            continue
        if m := _CHANNEL.match(line):
            if not in_channel_block:
                raise fail(lineno, "channel line outside a channel block")
            label = m.group(2).upper()
            if label in CHANNEL_TYPOS:
                out.channel_fixes.append(
                    f"line {lineno}: channel {m.group(1)} {label!r} read as {CHANNEL_TYPOS[label]!r}"
                )
                label = CHANNEL_TYPOS[label]
            channels[int(m.group(1))] = label
            continue
        if m := _FILE_NAME.match(line):
            close_file(lineno)
            close_channel_block()
            if not out.montages:
                raise fail(lineno, "file listed before any channel block")
            current = {
                "name": m.group(1),
                "line": lineno,
                "seizures": [],
                "n_seizures_stated": None,
            }
            continue
        if current is None:
            raise fail(lineno, f"unrecognised line outside a file block: {line!r}")
        if m := _CLOCK.match(line):
            clock = f"{int(m.group(2))}:{m.group(3)}:{m.group(4)}"
            current["start_clock" if m.group(1) == "Start" else "end_clock"] = clock
            continue
        if m := _N_SEIZURES.match(line):
            current["n_seizures_stated"] = int(m.group(1))
            current["count_line"] = lineno
            continue
        if m := _SEIZURE.match(line):
            number = int(m.group(1)) if m.group(1) else None
            seconds = float(m.group(3))
            if m.group(2) == "Start":
                if pending_start is not None:
                    raise fail(lineno, "two seizure start times in a row")
                pending_start = (number, seconds, lineno)
                continue
            if pending_start is None:
                raise fail(lineno, "seizure end time without a start time")
            start_number, start_sec, start_line = pending_start
            pending_start = None
            if seconds < start_sec:
                raise fail(lineno, f"seizure ends ({seconds} s) before it starts ({start_sec} s)")
            index = len(current["seizures"]) + 1
            # Pairs are read in order; PhysioNet's own numbering has slips (chb09_08 ends
            # seizure 2 with a 'Seizure 1 End Time' line), kept as notes, not errors.
            for where, stated_number in ((start_line, start_number), (lineno, number)):
                if stated_number is not None and stated_number != index:
                    out.notes.append(
                        f"line {where}: {current['name']} seizure numbered {stated_number}, "
                        f"read as seizure {index} by its order"
                    )
            current["seizures"].append(
                SummarySeizure(case, current["name"], index, start_sec, seconds, start_line)
            )
            continue
        raise fail(lineno, f"unrecognised line: {line!r}")
    close_file(len(text.splitlines()))
    close_channel_block()
    if not out.files:
        raise SummaryError(f"{path}: no files listed")
    return out


def find_summary(data_root: str | Path, case: str) -> Path:
    """The case's summary: ``ROOT/chbNN/chbNN-summary.txt`` (PhysioNet layout) or ``ROOT/chbNN-summary.txt``
    (a metadata-only folder)."""
    root = Path(data_root)
    for candidate in (root / case / f"{case}-summary.txt", root / f"{case}-summary.txt"):
        if candidate.is_file():
            return candidate
    raise SummaryError(
        f"{root}: no summary for {case} (looked for {case}/{case}-summary.txt and {case}-summary.txt)"
    )


def list_cases(data_root: str | Path) -> list[str]:
    """Cases whose summary lies under ``data_root``, sorted."""
    root = Path(data_root)
    found = {p.name.split("-")[0] for p in root.glob("chb[0-9][0-9]-summary.txt")}
    found |= {p.name.split("-")[0] for p in root.glob("chb[0-9][0-9]/chb[0-9][0-9]-summary.txt")}
    return sorted(found)


def format_clock(seconds: int, *, zero_pad: bool = True) -> str:
    """Inverse of :func:`clock_to_seconds`; hours are not wrapped (``93735`` -> ``'26:02:15'``)."""
    h, rem = divmod(int(seconds), 3600)
    m, s = divmod(rem, 60)
    return f"{h:02d}:{m:02d}:{s:02d}" if zero_pad else f"{h}:{m:02d}:{s:02d}"


def format_summary(
    sampling_rate_hz: float,
    montages: list[tuple[str, ...]],
    files: list[dict],
    *,
    numbered_seizures: bool,
) -> str:
    """A summary in PhysioNet's format.

    ``files`` are dicts with ``name``, ``montage_id``, ``start_clock``, ``end_clock`` (strings, or
    None to omit them as chb24 does) and ``seizures`` (list of (start_sec, end_sec) in the file).
    A ``Channels changed:`` block is written before the first file of each new montage.
    """
    rate = f"{sampling_rate_hz:g}"
    lines = [f"Data Sampling Rate: {rate} Hz", "*" * 25, "", "Channels in EDF Files:", "*" * 22]
    lines += [f"Channel {i}: {ch}" for i, ch in enumerate(montages[0], start=1)]
    lines.append("")
    montage = 0
    for f in files:
        if f["montage_id"] != montage:
            montage = f["montage_id"]
            lines += ["Channels changed:", "*" * 17]
            lines += [f"Channel {i}: {ch}" for i, ch in enumerate(montages[montage], start=1)]
            lines.append("")
        lines.append(f"File Name: {f['name']}")
        if f.get("start_clock") is not None:
            lines.append(f"File Start Time: {f['start_clock']}")
            lines.append(f"File End Time: {f['end_clock']}")
        lines.append(f"Number of Seizures in File: {len(f['seizures'])}")
        for k, (start, end) in enumerate(f["seizures"], start=1):
            tag = f"Seizure {k}" if numbered_seizures else "Seizure"
            lines.append(f"{tag} Start Time: {start:g} seconds")
            lines.append(f"{tag} End Time: {end:g} seconds")
        lines.append("")
    return "\n".join(lines) + "\n"
