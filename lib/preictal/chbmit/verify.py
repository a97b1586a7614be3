"""Dataset verification (the original ``verify_dataset.py``): what is on disk against what PhysioNet
lists, and the numbers a correct reading of CHB-MIT must reproduce.

Known discrepancies of the published metadata are reported, never hidden: PhysioNet's
RECORDS-WITH-SEIZURES lists ``chb07/chb07_18.edf`` while the summary puts that seizure in chb07_19,
and some summary clock times overlap (chb10_89, chb18_36).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from preictal.chbmit.dataset import (
    data_source,
    edfs_on_disk,
    read_lines,
    read_sha256sums,
    read_subject_info,
    records_by_case,
)
from preictal.chbmit.edf import read_edf_header
from preictal.chbmit.summary_file import (
    CHANNEL_TYPOS,
    DUMMY_CHANNELS,
    find_summary,
    parse_summary,
)
from preictal.io import atomic_path, sha256_file, write_json, write_text

log = logging.getLogger(__name__)

LONG_GAP_SEC = 60.0


def verify_dataset(
    data_root: str | Path,
    cases: Sequence[str],
    index: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]],
    *,
    patients: Mapping[str, str],
    check_sha256: bool = True,
    threads: int = 1,
    case_files: Mapping[str, dict] | None = None,
) -> dict:
    """Verify ``cases`` of ``data_root``; ``index`` maps case -> (files, seizures) of the timeline.
    ``case_files`` maps case -> :func:`verify_case_files` of it, read while its EDFs existed
    (the twin's may be deleted once cached); by default they are read now."""
    root = Path(data_root)
    source = data_source(root)
    metadata_only = source["kind"] == "chbmit-metadata"
    if case_files is None:
        case_files = {c: verify_case_files(root, c, check_sha256=check_sha256) for c in cases}
    records = _optional_lines(root / "RECORDS")
    seizure_records = _optional_lines(root / "RECORDS-WITH-SEIZURES")
    records_case = records_by_case(records or [])
    seizure_records_case = records_by_case(seizure_records or [])
    subject_info = (
        read_subject_info(root / "SUBJECT-INFO") if (root / "SUBJECT-INFO").is_file() else None
    )

    per_case = {}
    discrepancies = []
    for case in cases:
        files, seizures = index[case]
        report = _verify_case(root, case_files[case], files, seizures, records_case, metadata_only)
        per_case[case] = report
        if seizure_records is not None:
            summary_set = set(files.loc[files.n_seizures > 0, "file"])
            listed_set = set(seizure_records_case.get(case, []))
            for name in sorted(listed_set - summary_set):
                discrepancies.append(
                    {
                        "case": case,
                        "file": name,
                        "issue": "in RECORDS-WITH-SEIZURES, but the summary lists no seizure in it",
                    }
                )
            for name in sorted(summary_set - listed_set):
                discrepancies.append(
                    {
                        "case": case,
                        "file": name,
                        "issue": "the summary lists seizures, but RECORDS-WITH-SEIZURES omits it",
                    }
                )

    totals = _totals(per_case, records_case, seizure_records_case, cases)
    result = {
        "data_source": source,
        "mode": "metadata-only (no EDF files on disk)" if metadata_only else "EDF files on disk",
        "cases_verified": list(cases),
        "patients": _patients(cases, patients),
        "totals": totals,
        "records_with_seizures_discrepancies": discrepancies,
        "subject_info": _subject_info_report(subject_info, cases),
        "sha256": _verify_sha256(root, cases, check_sha256, metadata_only, threads, case_files),
        "cases": per_case,
    }
    result["problems"] = _problems(result)
    return result


def _optional_lines(path: Path) -> list[str] | None:
    return read_lines(path) if path.is_file() else None


def verify_case_files(data_root: str | Path, case: str, *, check_sha256: bool = True) -> dict:
    """What verifying one case reads from its EDFs, while they exist: the EDFs on disk, header
    labels that differ from the summary, and (``check_sha256``) each EDF's SHA-256 by its path
    relative to ``data_root``. JSON-serialisable: the workflow writes it per case."""
    root = Path(data_root)
    edfs = edfs_on_disk(root, case)
    return {
        "case": case,
        "edfs_on_disk": sorted(p.name for p in edfs),
        "edf_header_problems": _edf_checks(
            root, case, parse_summary(find_summary(root, case), case)
        ),
        "edf_sha256": {f"{case}/{p.name}": sha256_file(p) for p in edfs} if check_sha256 else None,
    }


def _verify_case(
    root: Path,
    case_files: dict,
    files: pd.DataFrame,
    seizures: pd.DataFrame,
    records_case: Mapping[str, list[str]],
    metadata_only: bool,
) -> dict:
    case = case_files["case"]
    summary = parse_summary(find_summary(root, case), case)
    in_summary = set(files.loc[files.in_summary, "file"])
    on_disk = set(case_files["edfs_on_disk"])
    in_records = set(records_case.get(case, []))
    durations = files.duration_sec.to_numpy(dtype=float)
    gaps = files.gap_before_sec.to_numpy(dtype=float)
    overlaps = files.loc[files.gap_before_sec < 0, ["file", "gap_before_sec"]]
    edf_checks = [] if metadata_only else case_files["edf_header_problems"]
    report = {
        "files_in_summary": len(in_summary),
        "edfs_on_disk": len(on_disk),
        "files_in_records": len(in_records),
        "summary_not_in_records": sorted(in_summary - in_records) if records_case else [],
        "records_not_in_summary": sorted(in_records - in_summary),
        "missing_edfs": [] if metadata_only else sorted((in_summary | in_records) - on_disk),
        "extra_edfs": sorted(on_disk - in_summary - in_records),
        "seizures": len(seizures),
        "files_with_seizures": int((files.n_seizures > 0).sum()),
        "montages": len(summary.montages),
        "montage_changes": [
            f.name
            for prev, f in zip(summary.files, summary.files[1:], strict=False)
            if f.montage_id != prev.montage_id
        ],
        "dummy_channels": sorted(
            {ch for m in summary.montages for ch in m if ch in DUMMY_CHANNELS}
        ),
        "channel_fixes": summary.channel_fixes,
        "summary_notes": summary.notes,
        "hours": float(np.nansum(durations) / 3600.0),
        "hours_with_clock_times": float(
            np.nansum(durations[files.time_source.to_numpy() != "none"]) / 3600.0
        ),
        "time_sources": files.time_source.value_counts().to_dict(),
        "segments": int(files.segment.nunique()),
        "gaps": int(np.sum(gaps > 0)),
        "gap_hours": float(np.nansum(np.clip(gaps, 0, None)) / 3600.0),
        "long_gaps": int(np.sum(gaps > LONG_GAP_SEC)),
        "overlapping_files": [
            {"file": r.file, "overlap_sec": -float(r.gap_before_sec)} for r in overlaps.itertuples()
        ],
        "edf_header_problems": edf_checks,
    }
    return report


def _edf_checks(root: Path, case: str, summary) -> list[dict]:
    """EDF channel labels that differ from the summary's list (a renamed channel; the montage
    excludes the file if a canonical channel is lost). The rate, channel count, start and
    duration are checked, as errors, when the timeline is built."""
    problems = []
    for f in summary.files:
        path = root / case / f.name
        if not path.is_file():
            continue
        # The summary's typos are read as the parser reads them (an EDF of chb12_28's block
        # may write 01 for O1 as its summary does).
        labels = [
            _strip_dup(CHANNEL_TYPOS.get(label.upper(), label.upper()))
            for label in read_edf_header(path).labels
        ]
        if labels != [ch.upper() for ch in f.channels]:
            problems.append({"file": f.name, "issue": "channel labels differ from the summary"})
    return problems


def _strip_dup(label: str) -> str:
    # Some writers suffix duplicate labels (T8-P8-0, T8-P8-1); the summary lists them bare.
    head, _, tail = label.rpartition("-")
    return head if tail.isdigit() and head.count("-") == 1 else label


def _totals(per_case, records_case, seizure_records_case, cases) -> dict:
    return {
        "cases": len(per_case),
        "seizures": sum(r["seizures"] for r in per_case.values()),
        "files_in_summaries": sum(r["files_in_summary"] for r in per_case.values()),
        "files_in_records": sum(len(records_case.get(c, [])) for c in cases),
        "files_with_seizures_in_summaries": sum(
            r["files_with_seizures"] for r in per_case.values()
        ),
        "files_in_records_with_seizures": sum(len(seizure_records_case.get(c, [])) for c in cases),
        "edfs_on_disk": sum(r["edfs_on_disk"] for r in per_case.values()),
        "hours": sum(r["hours"] for r in per_case.values()),
        "hours_with_clock_times": sum(r["hours_with_clock_times"] for r in per_case.values()),
    }


def _patients(cases: Sequence[str], patients: Mapping[str, str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for case in cases:
        out.setdefault(patients.get(case, case), []).append(case)
    return out


def _subject_info_report(info, cases) -> dict:
    if info is None:
        return {"present": False}
    return {"present": True, "cases_without_info": [c for c in cases if c not in info]}


def _verify_sha256(
    root: Path, cases, enabled: bool, metadata_only: bool, threads: int, case_files: Mapping
) -> dict:
    """EDFs by the digests of :func:`verify_case_files`, the other listed files hashed here."""
    sums_path = root / "SHA256SUMS.txt"
    if not enabled:
        return {"status": "skipped (verification.sha256 is false)"}
    if not sums_path.is_file():
        return {"status": "skipped (no SHA256SUMS.txt in data_root)"}
    sums = read_sha256sums(sums_path)
    wanted = [
        rel
        for rel in sums
        if "/" not in rel or rel.split("/")[0] in set(cases)  # top-level files and chosen cases
    ]
    edf_digests = {}
    for case in cases:
        edf_digests.update(case_files[case]["edf_sha256"] or {})
    located = {rel: _locate(root, rel) for rel in wanted if not rel.endswith(".edf")}
    to_hash = [rel for rel, path in located.items() if path is not None]
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        digests = dict(
            zip(to_hash, pool.map(lambda rel: sha256_file(located[rel]), to_hash), strict=True)
        )
    digests.update({rel: d for rel, d in edf_digests.items() if rel in sums})
    present = [rel for rel in wanted if rel in digests]
    absent = sorted(set(wanted) - set(present))
    mismatched = [rel for rel in present if digests[rel] != sums[rel]]
    log.info("sha256: %d files hashed, %d mismatched", len(present), len(mismatched))
    status = "ok" if not mismatched else "MISMATCH"
    if metadata_only:
        status += " (metadata files only; EDFs absent)"
    return {
        "status": status,
        "listed": len(wanted),
        "verified": len(present) - len(mismatched),
        "mismatched": mismatched,
        "absent": len(absent),
        "absent_edfs": sum(rel.endswith(".edf") for rel in absent),
    }


def _locate(root: Path, rel: str) -> Path | None:
    """``root/rel``, or for a metadata-only folder its flat copy ``root/<name>`` (summaries)."""
    for path in (root / rel, root / Path(rel).name):
        if path.is_file() and not path.name.endswith(".edf"):
            return path
    return root / rel if (root / rel).is_file() else None


def _problems(result: dict) -> list[str]:
    out = []
    for case, r in result["cases"].items():
        if r["missing_edfs"]:
            out.append(f"{case}: {len(r['missing_edfs'])} EDF(s) missing")
        if r["extra_edfs"]:
            out.append(f"{case}: EDF(s) on disk that no list names: {', '.join(r['extra_edfs'])}")
        for p in r["edf_header_problems"]:
            out.append(f"{case}/{p['file']}: {p['issue']}")
        if r["records_not_in_summary"]:
            out.append(
                f"{case}: {len(r['records_not_in_summary'])} file(s) in RECORDS that the summary "
                f"does not list (no seizures, no clock times in the summary)"
            )
        for o in r["overlapping_files"]:
            out.append(
                f"{case}/{o['file']}: starts {o['overlap_sec']:g} s before the previous file ends"
            )
    for d in result["records_with_seizures_discrepancies"]:
        out.append(f"{d['case']}/{d['file']}: {d['issue']}")
    for rel in result["sha256"].get("mismatched", []):
        out.append(f"{rel}: SHA-256 does not match SHA256SUMS.txt")
    return out


def render_markdown(result: dict) -> str:
    """The human-readable ``verification.md``."""
    src = result["data_source"]
    t = result["totals"]
    lines = [
        "# Dataset verification",
        "",
        f"- **Data source: {src['kind']}** (`{src['data_root']}`)"
        + (
            f", generator {src.get('generator')}, seed {src.get('seed')}, "
            f"preictal effect size {src.get('effect_size')}"
            if src["kind"] == "synthetic"
            else ""
        )
        + (
            f"; **CHB-MIT twin**: CHB-MIT's files, clock times, montages and seizures from "
            f"`{src['metadata_root']}`, synthetic signals"
            if src.get("structure") == "chbmit"
            else ""
        ),
        f"- Mode: {result['mode']}",
        f"- SHA-256: {result['sha256']['status']}",
        "- Patients: " + "; ".join(f"{p}: {', '.join(c)}" for p, c in result["patients"].items()),
        "",
        "## Totals",
        "",
        "| quantity | value |",
        "| --- | --- |",
        f"| cases | {t['cases']} |",
        f"| seizures (summaries) | {t['seizures']} |",
        f"| files in summaries | {t['files_in_summaries']} |",
        f"| files in RECORDS | {t['files_in_records']} |",
        f"| files with seizures (summaries) | {t['files_with_seizures_in_summaries']} |",
        f"| files in RECORDS-WITH-SEIZURES | {t['files_in_records_with_seizures']} |",
        f"| EDFs on disk | {t['edfs_on_disk']} |",
        f"| hours recorded (clock times or EDF headers) | {t['hours_with_clock_times']:.1f} |",
        "",
        "## Per case",
        "",
        "| case | files (summary / disk / RECORDS) | seizures | files with seizures | hours "
        "| segments | gaps > 60 s | montages | missing | extra |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for case, r in result["cases"].items():
        lines.append(
            f"| {case} | {r['files_in_summary']} / {r['edfs_on_disk']} / {r['files_in_records']} "
            f"| {r['seizures']} | {r['files_with_seizures']} | {r['hours']:.2f} | {r['segments']} "
            f"| {r['long_gaps']} | {r['montages']} | {len(r['missing_edfs'])} "
            f"| {len(r['extra_edfs'])} |"
        )
    lines += ["", "## Findings", ""]
    lines += [f"- {p}" for p in result["problems"]] or ["- none"]
    notes = [
        f"- {case}: {n}"
        for case, r in result["cases"].items()
        for n in (r["channel_fixes"] + r["summary_notes"])
    ]
    changes = [
        f"- {case}: channels change at {', '.join(r['montage_changes'])}"
        for case, r in result["cases"].items()
        if r["montage_changes"]
    ]
    lines += ["", "## Montage changes", ""] + (changes or ["- none"])
    lines += ["", "## Summary notes (read and corrected)", ""] + (notes or ["- none"])
    missing_info = result["subject_info"].get("cases_without_info")
    if missing_info:
        lines += ["", f"SUBJECT-INFO has no row for: {', '.join(missing_info)}."]
    return "\n".join(lines) + "\n"


def cases_table(result: dict) -> pd.DataFrame:
    """One row per case, for the report."""
    rows = []
    for case, r in result["cases"].items():
        rows.append(
            {
                "case": case,
                "patient": next(p for p, cs in result["patients"].items() if case in cs),
                "files_in_summary": r["files_in_summary"],
                "edfs_on_disk": r["edfs_on_disk"],
                "files_in_records": r["files_in_records"],
                "seizures": r["seizures"],
                "files_with_seizures": r["files_with_seizures"],
                "hours": round(r["hours"], 3),
                "segments": r["segments"],
                "long_gaps": r["long_gaps"],
                "montages": r["montages"],
                "missing_edfs": len(r["missing_edfs"]),
                "data_source": result["data_source"]["kind"],
            }
        )
    return pd.DataFrame(rows)


def run_verification(
    data_root: str | Path,
    cases: Sequence[str],
    *,
    files: Sequence[str | Path],
    seizures: Sequence[str | Path],
    case_files: Sequence[str | Path],
    patients: Mapping[str, str],
    check_sha256: bool,
    threads: int,
    out_json: str | Path,
    out_md: str | Path,
    out_table: str | Path,
) -> dict:
    """Read the per-case index tables and file checks (:func:`run_case_files`), verify, and
    write the JSON, Markdown and CSV reports."""
    index = {
        case: (pd.read_parquet(f), pd.read_parquet(s))
        for case, f, s in zip(cases, files, seizures, strict=True)
    }
    checks = {
        case: json.loads(Path(path).read_text())
        for case, path in zip(cases, case_files, strict=True)
    }
    for case, check in checks.items():
        if check["case"] != case or (check_sha256 and check["edf_sha256"] is None):
            raise ValueError(f"{case}: its file checks are stale (case or verification.sha256)")
    result = verify_dataset(
        data_root,
        cases,
        index,
        patients=patients,
        check_sha256=check_sha256,
        threads=threads,
        case_files=checks,
    )
    write_json(out_json, result)
    write_text(out_md, render_markdown(result))
    with atomic_path(out_table) as tmp:
        cases_table(result).to_csv(tmp, index=False)
    for problem in result["problems"]:
        log.warning("verification: %s", problem)
    return result


def run_case_files(data_root: str | Path, case: str, *, check_sha256: bool, out_json) -> dict:
    """:func:`verify_case_files` of one case, written as JSON for :func:`run_verification`."""
    result = verify_case_files(data_root, case, check_sha256=check_sha256)
    write_json(out_json, result)
    return result
