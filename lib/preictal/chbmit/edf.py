"""EDF header reader: the fixed 256-byte header plus the per-signal fields (EDF spec, Kemp 1992).

Only the header is read, so checking hundreds of hour-long files costs milliseconds. The file size
is checked against the header, which catches truncated downloads. Tested against edfio and MNE.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from preictal.chbmit.errors import DatasetError


class EdfError(DatasetError):
    """An EDF file that is unreadable, truncated or inconsistent."""


@dataclass(frozen=True)
class EdfHeader:
    path: Path
    start_date: str  # dd.mm.yy as written
    start_time: str  # hh.mm.ss as written
    n_records: int
    record_duration_sec: float
    labels: tuple[str, ...]
    samples_per_record: tuple[int, ...]
    physical_dimensions: tuple[str, ...]
    file_bytes: int
    # Per-signal calibration: physical = physical_min + (digital - digital_min) * (physical_max -
    # physical_min) / (digital_max - digital_min).  Defaults keep older constructor calls working.
    physical_min: tuple[float, ...] = ()
    physical_max: tuple[float, ...] = ()
    digital_min: tuple[int, ...] = ()
    digital_max: tuple[int, ...] = ()

    @property
    def duration_sec(self) -> float:
        return self.n_records * self.record_duration_sec

    @property
    def sampling_rates_hz(self) -> tuple[float, ...]:
        return tuple(n / self.record_duration_sec for n in self.samples_per_record)

    @property
    def start_clock_sec(self) -> int:
        h, m, s = (int(x) for x in self.start_time.split("."))
        return h * 3600 + m * 60 + s

    @property
    def start_clock(self) -> str:
        return self.start_time.replace(".", ":")


def _field(raw: bytes, path: Path, what: str) -> str:
    # The spec says ASCII, but writers put 'µV' (0xB5) in the physical dimension: read Latin-1,
    # which decodes any byte, so that the number fields fail on their own terms if garbled.
    return raw.decode("latin-1").strip()


def read_edf_header(path: str | Path) -> EdfHeader:
    """Read and check an EDF header. Raises :class:`EdfError` naming the file and the problem."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            fixed = fh.read(256)
            if len(fixed) < 256:
                raise EdfError(
                    f"{path}: truncated EDF: {size} bytes, shorter than the 256-byte header"
                )
            if fixed[:8].strip() != b"0":
                raise EdfError(f"{path}: not an EDF file (version field {fixed[:8]!r})")
            start_date = _field(fixed[168:176], path, "startdate")
            start_time = _field(fixed[176:184], path, "starttime")
            header_bytes = int(_field(fixed[184:192], path, "header bytes"))
            n_records = int(_field(fixed[236:244], path, "number of data records"))
            record_duration = float(_field(fixed[244:252], path, "record duration"))
            ns = int(_field(fixed[252:256], path, "number of signals"))
            rest = fh.read(ns * 256)
    except OSError as exc:
        raise EdfError(f"{path}: cannot read EDF: {exc}") from exc
    except ValueError as exc:
        if isinstance(exc, EdfError):
            raise
        raise EdfError(f"{path}: malformed EDF header: {exc}") from exc
    if len(rest) < ns * 256 or header_bytes != 256 * (ns + 1):
        raise EdfError(f"{path}: truncated or malformed EDF header ({ns} signals declared)")

    def column(offset: int, width: int) -> list[str]:
        start = offset * ns
        return [
            _field(rest[start + i * width : start + (i + 1) * width], path, "signal field")
            for i in range(ns)
        ]

    labels = column(0, 16)
    dims = column(16 + 80, 8)
    try:
        samples = [int(x) for x in column(16 + 80 + 8 + 8 * 4 + 80, 8)]
        phys_min, phys_max, dig_min, dig_max = (
            [float(x) for x in column(16 + 80 + 8 + 8 * k, 8)] for k in range(4)
        )
    except EdfError:
        raise
    except ValueError as exc:
        raise EdfError(f"{path}: malformed EDF signal header: {exc}") from exc
    if n_records < 0:
        raise EdfError(f"{path}: number of data records is unknown (-1); the file was not closed")
    if record_duration <= 0:
        raise EdfError(f"{path}: record duration {record_duration} s is not positive")
    expected = header_bytes + n_records * sum(samples) * 2
    if size < expected:
        raise EdfError(
            f"{path}: truncated EDF: {size} bytes on disk, header promises {expected} "
            f"({n_records} records of {record_duration:g} s)"
        )
    for text, name in ((start_time, "starttime"), (start_date, "startdate")):
        parts = text.split(".")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            raise EdfError(f"{path}: header {name} {text!r} is not of the form nn.nn.nn")
    return EdfHeader(
        path=path,
        start_date=start_date,
        start_time=start_time,
        n_records=n_records,
        record_duration_sec=record_duration,
        labels=tuple(labels),
        samples_per_record=tuple(samples),
        physical_dimensions=tuple(dims),
        file_bytes=size,
        physical_min=tuple(phys_min),
        physical_max=tuple(phys_max),
        digital_min=tuple(int(x) for x in dig_min),
        digital_max=tuple(int(x) for x in dig_max),
    )
