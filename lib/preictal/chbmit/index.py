"""Per-case index: the summary, the EDF headers on disk and the timeline, as two tables."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from preictal.chbmit.dataset import edfs_on_disk, patient_of, read_lines, records_by_case
from preictal.chbmit.edf import read_edf_header
from preictal.chbmit.errors import DatasetError
from preictal.chbmit.summary import find_summary, parse_summary
from preictal.chbmit.timeline import TimelineParams, build_timeline

log = logging.getLogger(__name__)


def build_case_index(
    data_root: str | Path,
    case: str,
    *,
    patients: Mapping[str, str],
    params: TimelineParams | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Files and seizures of ``case`` on its gap-aware timeline.

    EDFs on disk are header-checked against the summary. EDFs that the summary omits but PhysioNet's
    RECORDS lists (chb24 lists only its seizure files) join the timeline without seizures; one that
    RECORDS-WITH-SEIZURES lists is an error, since its seizures would be unannotated.
    """
    root = Path(data_root)
    summary = parse_summary(find_summary(root, case), case)
    on_disk = {p.name: p for p in edfs_on_disk(root, case)}
    headers = {}
    for k, (name, path) in enumerate(sorted(on_disk.items()), start=1):
        headers[name] = read_edf_header(path)
        if k % 20 == 0 or k == len(on_disk):
            log.info("%s: %d/%d EDF headers read", case, k, len(on_disk))

    listed = {f.name for f in summary.files}
    records = _records(root / "RECORDS", case)
    seizure_records = _records(root / "RECORDS-WITH-SEIZURES", case)
    extra = sorted(set(on_disk) - listed)
    for name in extra:
        if name in seizure_records:
            raise DatasetError(
                f"{root / case / name}: listed in RECORDS-WITH-SEIZURES but absent from the "
                f"summary, so its seizures have no times"
            )
    unlisted = [n for n in extra if n not in records]
    if unlisted:
        log.warning("%s: EDFs on disk in neither summary nor RECORDS, ignored: %s", case, unlisted)
    files, seizures = build_timeline(
        summary,
        headers,
        patient=patient_of(case, patients),
        extra_files=[n for n in extra if n in records],
        params=params,
    )
    log.info(
        "%s: %d files, %d seizures, %.1f h recorded, %d segment(s)",
        case,
        len(files),
        len(seizures),
        files.duration_sec.sum() / 3600,
        files.segment.nunique(),
    )
    return files, seizures


def _records(path: Path, case: str) -> set[str]:
    if not path.is_file():
        return set()
    return set(records_by_case(read_lines(path)).get(case, []))
