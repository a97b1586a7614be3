"""EDF header reader: the fixed 256-byte header plus the per-signal fields (EDF spec, Kemp 1992).

Only the header is read, so checking hundreds of hour-long files costs milliseconds. The file size
must equal what the header promises (a truncated download, or bytes appended to a file, is an
error), and every number field must lie in the range the spec allows. Tested against edfio and MNE.
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


def _field(raw: bytes) -> str:
    # The spec says ASCII, but writers put 'µV' (0xB5) in the physical dimension: read Latin-1,
    # which decodes any byte, so that the number fields fail on their own terms if garbled.
    return raw.decode("latin-1").strip()


def _number(raw: bytes, path: Path, what: str, kind: type = int) -> int | float:
    text = _field(raw)
    try:
        return kind(text)
    except ValueError:
        raise EdfError(f"{path}: header field '{what}' is {text!r}, not a number") from None


def _check_fields(
    path, n_records, record_duration, labels, samples, dig_min, dig_max, phys_min, phys_max
) -> None:
    """The header's numbers within the ranges the EDF spec allows, each error naming its field."""
    if n_records < 0:
        raise EdfError(
            f"{path}: header field 'number of data records' is {n_records}: unknown (-1), the "
            f"file was not closed"
        )
    if record_duration <= 0:
        raise EdfError(
            f"{path}: header field 'duration of a data record' is {record_duration:g} s, not "
            f"positive"
        )
    for i, label in enumerate(labels):
        where = f"{path}: signal {i + 1} ({label!r})"
        if samples[i] <= 0:
            raise EdfError(
                f"{where}: header field 'number of samples in each data record' is {samples[i]}, "
                f"not positive"
            )
        if not -32768 <= dig_min[i] < dig_max[i] <= 32767:
            raise EdfError(
                f"{where}: digital minimum/maximum {dig_min[i]:g}/{dig_max[i]:g}, expected "
                f"-32768 <= min < max <= 32767"
            )
        if phys_min[i] == phys_max[i]:
            raise EdfError(f"{where}: physical minimum equals physical maximum ({phys_min[i]:g})")


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
            start_date = _field(fixed[168:176])
            start_time = _field(fixed[176:184])
            header_bytes = _number(fixed[184:192], path, "number of bytes in header")
            n_records = _number(fixed[236:244], path, "number of data records")
            record_duration = _number(fixed[244:252], path, "duration of a data record", float)
            ns = _number(fixed[252:256], path, "number of signals")
            rest = fh.read(max(ns, 0) * 256)
    except OSError as exc:
        raise EdfError(f"{path}: cannot read EDF: {exc}") from exc
    if ns <= 0:
        raise EdfError(f"{path}: header field 'number of signals' is {ns}, expected at least 1")
    if header_bytes != 256 * (ns + 1):
        raise EdfError(
            f"{path}: header field 'number of bytes in header' is {header_bytes}, expected "
            f"{256 * (ns + 1)} for {ns} signals"
        )
    if len(rest) < ns * 256:
        raise EdfError(f"{path}: truncated EDF header ({ns} signals declared)")

    def column(offset: int, width: int) -> list[bytes]:
        start = offset * ns
        return [rest[start + i * width : start + (i + 1) * width] for i in range(ns)]

    def numbers(offset: int, what: str, kind: type = float) -> list:
        return [
            _number(raw, path, f"{what} of signal {i + 1}", kind)
            for i, raw in enumerate(column(offset, 8))
        ]

    labels = [_field(raw) for raw in column(0, 16)]
    dims = [_field(raw) for raw in column(16 + 80, 8)]
    phys_min, phys_max, dig_min, dig_max = (
        numbers(16 + 80 + 8 + 8 * k, what)
        for k, what in enumerate(
            ("physical minimum", "physical maximum", "digital minimum", "digital maximum")
        )
    )
    samples = numbers(16 + 80 + 8 + 8 * 4 + 80, "number of samples in each data record", int)
    _check_fields(
        path, n_records, record_duration, labels, samples, dig_min, dig_max, phys_min, phys_max
    )
    expected = header_bytes + n_records * sum(samples) * 2
    if size != expected:
        problem = "truncated EDF" if size < expected else "EDF longer than its header says"
        raise EdfError(
            f"{path}: {problem}: {size} bytes on disk, header promises {expected} "
            f"({n_records} records of {record_duration:g} s, {sum(samples)} samples per record)"
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
