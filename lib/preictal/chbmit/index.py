"""Per-case index: the summary, the EDF headers on disk and the timeline, as two tables."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from preictal.chbmit.dataset import edfs_on_disk, patient_of, read_lines, records_by_case
from preictal.chbmit.edf import read_edf_header
from preictal.chbmit.errors import DatasetError
from preictal.chbmit.summary_file import find_summary, parse_summary
from preictal.chbmit.timeline import TimelineParams, build_timeline

log = logging.getLogger(__name__)


def build_case_index(
    case: str,
    summary: str | Path,
    edfs: Sequence[str | Path] = (),
    *,
    records: str | Path | None = None,
    seizure_records: str | Path | None = None,
    patients: Mapping[str, str],
    params: TimelineParams | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Files and seizures of ``case`` on its gap-aware timeline.

    ``edfs`` are the case's EDFs on disk; their headers are checked against the summary. EDFs that
    the summary omits but PhysioNet's RECORDS lists (chb24 lists only its seizure files) join the
    timeline without seizures; one that RECORDS-WITH-SEIZURES lists is an error, since its seizures
    would have no times. EDFs that no list names are excluded (``files.attrs["ignored_edfs"]``),
    and files listed but not on disk stay on the timeline without data; both are logged at WARNING.
    """
    parsed = parse_summary(summary, case)
    on_disk = {Path(p).name: Path(p) for p in edfs}
    headers = {}
    for k, (name, path) in enumerate(sorted(on_disk.items()), start=1):
        headers[name] = read_edf_header(path)
        if k % 20 == 0 or k == len(on_disk):
            log.info("%s: %d/%d EDF headers read", case, k, len(on_disk))

    listed = {f.name for f in parsed.files}
    in_records = _records(records, case)
    extra = sorted(set(on_disk) - listed)
    for name in extra:
        if name in _records(seizure_records, case):
            raise DatasetError(
                f"{on_disk[name]}: listed in RECORDS-WITH-SEIZURES but absent from the "
                f"summary {summary}, so its seizures have no times"
            )
    unlisted = [n for n in extra if n not in in_records]
    for name in unlisted:
        log.warning("%s: on disk but in neither the summary nor RECORDS: excluded", on_disk[name])
    for name in sorted(listed - set(on_disk)):
        log.warning(
            "%s: listed in %s but not on disk: excluded", Path(summary).parent / name, summary
        )
    files, seizures = build_timeline(
        parsed,
        headers,
        patient=patient_of(case, patients),
        extra_files=[n for n in extra if n in in_records],
        params=params,
    )
    # The run-level exclusions table (results/dataset/exclusions.csv) lists these.
    files.attrs["ignored_edfs"] = unlisted
    log.info(
        "%s: %d files, %d seizures, %.1f h recorded, %d segment(s)",
        case,
        len(files),
        len(seizures),
        files.duration_sec.sum() / 3600,
        files.segment.nunique(),
    )
    return files, seizures


def build_case_index_in(
    data_root: str | Path, case: str, **kwargs
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`build_case_index` on the files that ``data_root`` holds for ``case``."""
    root = Path(data_root)
    return build_case_index(
        case,
        find_summary(root, case),
        edfs_on_disk(root, case),
        records=root / "RECORDS",
        seizure_records=root / "RECORDS-WITH-SEIZURES",
        **kwargs,
    )


def _records(path: str | Path | None, case: str) -> set[str]:
    if path is None or not Path(path).is_file():
        return set()
    path = Path(path)
    return set(records_by_case(read_lines(path)).get(case, []))
