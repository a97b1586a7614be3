"""The CHB-MIT twin (``synthetic.structure: chbmit``): CHB-MIT's real structure, synthetic signals.

The plan is read from a folder of CHB-MIT's metadata (``synthetic.metadata_root``, e.g.
``../shared/chbmit``: the 24 summaries, RECORDS, RECORDS-WITH-SEIZURES, SUBJECT-INFO, ANNOTATORS).
Real, for every chosen case: the file names, the summary (written verbatim, so its quirks are
parsed as CHB-MIT's are), each file's length and clock times, the gaps, the seizures at their
annotated times, every montage block's channel labels as CHB-MIT writes them (dummy ``-``/``.``,
the repeated ``T8-P8``, chb12's referential files and its ``01``), RECORDS, SUBJECT-INFO and
ANNOTATORS. Files start where the metadata-only timeline (``build_timeline`` with no EDF
headers) puts them, and the EDF headers carry that clock time and day, so the twin's index
equals the index of the metadata alone.

Chosen, where the metadata are silent: a case without clock times (chb24) gets 1-h files back to
back (10-s gaps) from 08:00 on day 0, in the order in which the index lists them (the summary's
files, then the files only RECORDS names, by name). Its index then places the files by their EDF
header times, in one segment, where the metadata alone leave their lengths and relative times
unknown (a segment per file). Channels the signal model does not know are synthesized as a
neighbouring electrode it does (``SIGNAL_SUBSTITUTES``) and written under their real label.
RECORDS-WITH-SEIZURES is written from the summaries, so it has chb07_19 where PhysioNet's own
list has chb07_18 by mistake.

``synthetic.files`` keeps a chosen subset of the files (real names, times and seizures); the
summary then holds only their blocks (every channel block stays, so montage numbers are kept).
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import math
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from preictal.chbmit.dataset import SYNTHETIC_MARKER, read_lines, records_by_case
from preictal.chbmit.errors import DatasetError
from preictal.chbmit.summary_file import (
    CHANNEL_TYPOS,
    CaseSummary,
    find_summary,
    format_clock,
    list_cases,
    parse_summary,
)
from preictal.chbmit.timeline import build_timeline
from preictal.io import sha256_file, write_json, write_text
from preictal.synthetic.plan import (
    TOP_LEVEL_FILES,
    CasePlan,
    FilePlan,
    SeizurePlan,
    SyntheticSpec,
    case_number,
    ground_truth,
    plan_dataset,
)

log = logging.getLogger(__name__)

# A case without clock times (chb24): 1-h files, 10 s apart, from 08:00 of day 0.
UNCLOCKED_FILE_SEC = 3600.0
UNCLOCKED_GAP_SEC = 10.0
UNCLOCKED_DAY_START_SEC = 8 * 3600.0
# CHB-MIT labels outside the signal model, synthesized as these (written under the real label).
SIGNAL_SUBSTITUTES = {
    # 10-10 electrodes -> the nearest 10-20 electrode of the model, on the same side
    "FC1": "F3", "FC2": "F4", "FC5": "F7", "FC6": "F8", "C2": "C4", "C6": "T8",
    "CP1": "P3", "CP2": "P4", "CP4": "P4", "CP5": "P7", "CP6": "P8", "OZ": "O1",
    # whole labels: ECG leads and eye (EOG) channels
    "EKG1-CHIN": "ECG", "EKG1-EKG2": "ECG", "LOC-ROC": "F7-F8", "LUE-RAE": "FP1-F8",
}  # fmt: skip
PARTS_DIR = ".twin"  # per-case hash and event lists, combined into the top-level files


@dataclass(frozen=True)
class Metadata:
    """CHB-MIT's metadata folder, read once."""

    root: Path
    summaries: dict[str, CaseSummary]
    summary_texts: dict[str, str]
    records: list[str]
    subject_info: str
    annotators: str


@functools.lru_cache(maxsize=4)
def read_metadata(root: str | Path) -> Metadata:
    root = Path(root)
    cases = list_cases(root)
    missing = [
        name for name in ("RECORDS", "SUBJECT-INFO", "ANNOTATORS") if not (root / name).is_file()
    ]
    if not cases or missing:
        raise DatasetError(
            f"synthetic.metadata_root {root}: not a folder of CHB-MIT metadata (needs the "
            f"chbNN-summary.txt files, RECORDS, SUBJECT-INFO and ANNOTATORS; missing: "
            f"{', '.join(missing) or 'every summary'})"
        )
    paths = {case: find_summary(root, case) for case in cases}
    return Metadata(
        root=root,
        summaries={case: parse_summary(path, case) for case, path in paths.items()},
        summary_texts={case: path.read_text(encoding="utf-8") for case, path in paths.items()},
        records=read_lines(root / "RECORDS"),
        subject_info=(root / "SUBJECT-INFO").read_text(),
        annotators=(root / "ANNOTATORS").read_text(),
    )


def metadata_cases(structure: str | None, metadata_root: str | None) -> list[str]:
    """``synthetic.cases: all``: every case of the metadata (the twin only)."""
    if structure != "chbmit":
        raise DatasetError("synthetic.cases: 'all' needs synthetic.structure: chbmit")
    return sorted(read_metadata(_metadata_root(metadata_root)).summaries)


def _metadata_root(metadata_root: str | None) -> Path:
    if metadata_root is None:
        raise DatasetError(
            "synthetic.structure chbmit needs synthetic.metadata_root: a folder of CHB-MIT's "
            "metadata (the 24 summaries, RECORDS, SUBJECT-INFO, ANNOTATORS), e.g. ../shared/chbmit"
        )
    root = Path(metadata_root)
    if not root.is_dir():
        raise DatasetError(f"synthetic.metadata_root {root}: folder not found")
    return root.resolve()


def signal_label(label: str) -> str:
    """The label the signal model synthesizes for a CHB-MIT channel label."""
    from preictal.synthetic.head import parse_label

    try:
        parse_label(label)
        return label
    except ValueError:
        pass
    upper = label.strip().upper()
    if upper in SIGNAL_SUBSTITUTES:
        return SIGNAL_SUBSTITUTES[upper]
    parts = [CHANNEL_TYPOS.get(p, SIGNAL_SUBSTITUTES.get(p, p)) for p in upper.split("-")]
    out = "-".join(parts)
    parse_label(out)  # still unknown: the error names it
    return out


_CHANNEL = re.compile(r"^Channel\s+\d+:\s*(\S+)$")
_BLOCK_HEADERS = ("Channels in EDF Files:", "Channels changed:")
_FILE_NAME = re.compile(r"^File Name:\s*(\S+\.edf)$")


def raw_montages(text: str) -> list[tuple[str, ...]]:
    """Every channel block's labels as the summary writes them (the parser upper-cases them and
    reads ``01`` as ``O1``; the EDFs keep the written labels)."""
    blocks: list[list[str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line in _BLOCK_HEADERS:
            blocks.append([])
        elif (m := _CHANNEL.match(line)) and blocks:
            blocks[-1].append(m.group(1))
    return [tuple(b) for b in blocks]


def cut_summary(text: str, keep: set[str]) -> str:
    """The summary with only the ``File Name:`` blocks of ``keep`` (channel blocks all kept)."""
    out: list[str] = []
    dropping = False
    for raw in text.splitlines(keepends=True):
        line = raw.strip()
        if m := _FILE_NAME.match(line):
            dropping = m.group(1) not in keep
        elif line in _BLOCK_HEADERS:
            dropping = False
        if not dropping:
            out.append(raw)
    return "".join(out)


def plan_twin(spec: SyntheticSpec) -> list[CasePlan]:
    """Every case's plan (computed once per metadata folder, cases, files and patients: the
    workflow asks at parse time for every case)."""
    root = _metadata_root(spec.metadata_root)
    key = (root, spec.cases, spec.files, tuple(sorted(spec.patients.items())))
    return copy.deepcopy(_plan_twin(*key))


@functools.lru_cache(maxsize=4)
def _plan_twin(root: Path, cases, files, patients) -> list[CasePlan]:
    spec = SyntheticSpec(structure="chbmit", cases=cases, files=files, patients=dict(patients))
    meta = read_metadata(root)
    unknown = [c for c in spec.cases if c not in meta.summaries]
    if unknown:
        raise DatasetError(
            f"synthetic.cases: {', '.join(unknown)} not in synthetic.metadata_root {meta.root}"
        )
    keep = set(spec.files) if spec.files is not None else None
    if keep is not None:
        known = {n for c in spec.cases for n in _case_files(meta, c)}
        stray = sorted(keep - known)
        if stray:
            raise DatasetError(
                f"synthetic.files: {', '.join(stray)} not a file of synthetic.cases {list(spec.cases)}"
            )
        empty = [c for c in spec.cases if not keep & set(_case_files(meta, c))]
        if empty:
            raise DatasetError(f"synthetic.files: no file of {', '.join(empty)} chosen")
    return [plan_twin_case(spec, meta, case, keep) for case in spec.cases]


def _case_files(meta: Metadata, case: str) -> list[str]:
    """The case's files in the order the index lists them: the summary's, then RECORDS' others."""
    listed = [f.name for f in meta.summaries[case].files]
    in_records = records_by_case(meta.records).get(case, [])
    return listed + sorted(set(in_records) - set(listed))


def plan_twin_case(
    spec: SyntheticSpec, meta: Metadata, case: str, keep: set[str] | None = None
) -> CasePlan:
    summary, text = meta.summaries[case], meta.summary_texts[case]
    all_names = _case_files(meta, case)
    listed = {f.name for f in summary.files}
    clocked = all(f.start_clock and f.end_clock for f in summary.files)
    if any(f.start_clock for f in summary.files) and (not clocked or set(all_names) - listed):
        raise DatasetError(
            f"{case}: the summary gives clock times for some files only, or RECORDS lists files "
            f"it omits; the twin chooses times only for a case without any (as chb24)"
        )
    if not clocked:  # chosen: back to back in index order, whatever subset is kept
        chosen, t = {}, UNCLOCKED_DAY_START_SEC
        for name in all_names:
            dur = _unclocked_duration(summary, name)
            chosen[name] = (t, dur)
            t += dur + UNCLOCKED_GAP_SEC
    names = all_names
    if keep is not None:
        names = [n for n in all_names if n in keep]
        text = cut_summary(text, keep)
        summary = replace(
            summary,
            files=[f for f in summary.files if f.name in keep],
            seizures=[s for s in summary.seizures if s.file in keep],
        )
    montages = raw_montages(text)
    if [tuple(CHANNEL_TYPOS.get(c.upper(), c.upper()) for c in m) for m in montages] != [
        tuple(m) for m in summary.montages
    ]:
        raise DatasetError(f"{meta.root}: {case}'s channel blocks read differently")
    signal = [tuple(signal_label(label) for label in m) for m in montages]

    if clocked:  # where the metadata-only timeline puts them (the index's own placement)
        timeline, _ = build_timeline(summary)
        starts = timeline.start_sec.tolist()
        durations = timeline.duration_sec.tolist()
        clocks = [(f.start_clock, f.end_clock) for f in summary.files]
    else:
        starts = [chosen[n][0] for n in names]
        durations = [chosen[n][1] for n in names]
        clocks = [
            (format_clock(int(t) % 86400), format_clock(int(t) % 86400 + int(d)))
            for t, d in zip(starts, durations, strict=True)
        ]

    montage_of = _montage_ids(summary, names)
    files = [
        FilePlan(
            name=n,
            montage_id=montage_of[n],
            start_sec=float(start),
            duration_sec=float(dur),
            start_clock=c0,
            end_clock=c1,
        )
        for n, start, dur, (c0, c1) in zip(names, starts, durations, clocks, strict=True)
    ]
    start_of = {f.name: f.start_sec for f in files}
    seizures = [
        SeizurePlan(
            file=s.file,
            onset_sec=start_of[s.file] + s.start_sec,
            end_sec=start_of[s.file] + s.end_sec,
            start_in_file_sec=s.start_sec,
            end_in_file_sec=s.end_sec,
            role="chbmit",  # annotated in CHB-MIT at this time
        )
        for s in summary.seizures
    ]
    quirks = []
    if len({f.montage_id for f in files}) > 1:
        quirks.append("montage_change")
    if any(f.end_sec > 86400 for f in files):
        quirks.append("midnight_crossing")
    if set(names) - listed:
        quirks.append("files_not_in_summary")
    return CasePlan(
        case=case,
        patient=spec.patient_of(case),
        montages=montages,
        files=files,
        seizures=seizures,
        quirks=quirks,
        numbered_seizures=case_number(case) >= 6,
        summary_text=text,
        signal_montages=signal if signal != montages else None,
        chosen_times=None if clocked else list(names),
    )


def _unclocked_duration(summary: CaseSummary, name: str) -> float:
    """1 h, or longer where a seizure of the file ends later (none of chb24's does)."""
    last = max((s.end_sec for s in summary.seizures if s.file == name), default=0.0)
    return UNCLOCKED_FILE_SEC if last < UNCLOCKED_FILE_SEC else float(math.ceil(last) + 60)


def _montage_ids(summary: CaseSummary, names: list[str]) -> dict[str, int]:
    """The summary's montage for its files; a file it omits gets the montage of the last listed
    file before it by name (the first montage if none)."""
    listed = {f.name: f.montage_id for f in summary.files}
    out = {}
    for name in names:
        before = [listed[n] for n in sorted(listed) if n < name]
        out[name] = listed.get(name, before[-1] if before else 0)
    return out


# --- Paths and writers --------------------------------------------------------------------------


def part_path(root: str | Path, case: str) -> Path:
    return Path(root) / PARTS_DIR / f"{case}.json"


def twin_paths(spec: SyntheticSpec, root: str | Path) -> dict:
    """What each rule writes: per case its EDFs, summary and part (hashes, events), then the lists
    (RECORDS, RECORDS-WITH-SEIZURES, SUBJECT-INFO, ANNOTATORS) and the checksummed top level
    (SYNTHETIC.json, SHA256SUMS.txt)."""
    root = Path(root)
    return {
        "cases": {
            p.case: {
                "edfs": [root / p.case / f.name for f in p.files],
                "summary": root / p.case / f"{p.case}-summary.txt",
                "part": part_path(root, p.case),
            }
            for p in plan_dataset(spec)
        },
        "lists": [
            root / n for n in ("RECORDS", "RECORDS-WITH-SEIZURES", "SUBJECT-INFO", "ANNOTATORS")
        ],
        "top_level": [root / SYNTHETIC_MARKER, root / "SHA256SUMS.txt"],
    }


def _twin_file(spec: SyntheticSpec, plan: CasePlan, k: int, root: Path) -> tuple[str, list, str]:
    from preictal.synthetic.dataset import _synthesize_file

    name, events = _synthesize_file(spec, plan, k, root)
    return name, events, sha256_file(root / plan.case / name)


def generate_twin_case(
    spec: SyntheticSpec, case: str, root: str | Path, *, threads: int = 1
) -> CasePlan:
    """Write one case of the twin (summary and EDFs) and its part: hashes, events, confounds."""
    from preictal.synthetic.dataset import case_confounds

    root = Path(root)
    plan = {p.case: p for p in plan_dataset(spec)}[case]
    summary_rel = f"{case}/{case}-summary.txt"
    write_text(root / summary_rel, plan.summary_text)
    sums = {summary_rel: sha256_file(root / summary_rel)}
    events: dict[str, list[dict]] = {}
    with ProcessPoolExecutor(max_workers=max(1, threads)) as pool:
        futures = [pool.submit(_twin_file, spec, plan, k, root) for k in range(len(plan.files))]
        for done, fut in enumerate(futures, start=1):
            name, file_events, digest = fut.result()
            events[name] = file_events
            sums[f"{case}/{name}"] = digest
            log.info("twin: %s/%s written (%d/%d files)", case, name, done, len(futures))
    write_json(
        part_path(root, case),
        {
            "case": case,
            "sha256": sums,
            "events": events,
            "confounds": case_confounds(spec, plan).to_dict(),
        },
    )
    return plan


def write_twin_lists(spec: SyntheticSpec, root: str | Path) -> None:
    """RECORDS (the metadata's order), RECORDS-WITH-SEIZURES (from the summaries), SUBJECT-INFO's
    rows of the chosen cases and ANNOTATORS, as CHB-MIT writes them."""
    root = Path(root)
    meta = read_metadata(_metadata_root(spec.metadata_root))
    plans = plan_dataset(spec)
    names = {f"{p.case}/{f.name}" for p in plans for f in p.files}
    with_seizures = {f"{p.case}/{s.file}" for p in plans for s in p.seizures}
    order = {rel: i for i, rel in enumerate(meta.records)}
    records = sorted(names, key=lambda rel: (order.get(rel, len(order)), rel))
    write_text(root / "RECORDS", "".join(f"{rel}\n" for rel in records))
    write_text(
        root / "RECORDS-WITH-SEIZURES", "".join(f"{r}\n" for r in records if r in with_seizures)
    )
    lines = meta.subject_info.splitlines(keepends=True)
    chosen = {p.case for p in plans}
    rows = [line for line in lines[2:] if line.split("\t")[0].strip() in chosen]
    write_text(root / "SUBJECT-INFO", "".join(lines[:2] + rows))
    write_text(root / "ANNOTATORS", meta.annotators)


def write_twin_top_level(
    spec: SyntheticSpec, root: str | Path, parts: list[str | Path] | None = None
) -> None:
    """SYNTHETIC.json (the plan, with each case's events and confounds) and SHA256SUMS.txt of
    every file, from the per-case parts (no EDF is read again)."""
    root = Path(root)
    plans = plan_dataset(spec)
    parts = parts or [part_path(root, p.case) for p in plans]
    by_case = {(d := json.loads(Path(path).read_text()))["case"]: d for path in parts}
    truth = ground_truth(spec, plans, root)
    for p in plans:
        truth["cases"][p.case]["events"] = by_case[p.case]["events"]
        truth["cases"][p.case]["confounds"] = by_case[p.case]["confounds"]
    write_json(root / SYNTHETIC_MARKER, truth)
    lines = [f"{sha256_file(root / rel)} {rel}\n" for rel in TOP_LEVEL_FILES]
    for p in plans:
        sums = by_case[p.case]["sha256"]
        listed = [f"{p.case}/{p.case}-summary.txt"] + [f"{p.case}/{f.name}" for f in p.files]
        lines += [f"{sums[rel]} {rel}\n" for rel in listed]
    write_text(root / "SHA256SUMS.txt", "".join(lines))


def generate_twin(spec: SyntheticSpec, root: str | Path, *, threads: int = 1) -> list[CasePlan]:
    """The whole twin of ``spec.cases`` under ``root`` (the workflow runs these steps as rules)."""
    plans = plan_dataset(spec)
    for p in plans:
        generate_twin_case(spec, p.case, root, threads=threads)
    write_twin_lists(spec, root)
    write_twin_top_level(spec, root)
    return plans


# Columns of the index that come from the EDF headers: the metadata alone leave them empty.
EDF_INDEX_COLUMNS = [
    "edf_present",
    "edf_start_clock",
    "edf_duration_sec",
    "edf_n_signals",
    "edf_sfreq_hz",
]
# chb24 has no clock times: its index is compared on what the metadata do say.
UNCLOCKED_INDEX_COLUMNS = ["file", "montage_id", "n_channels_listed", "n_seizures"]
UNCLOCKED_SEIZURE_COLUMNS = ["file", "seizure_in_file", "start_in_file_sec", "end_in_file_sec"]


def index_differences(
    case: str, twin: tuple[pd.DataFrame, pd.DataFrame], meta: tuple[pd.DataFrame, pd.DataFrame]
) -> list[str]:
    """How a case's twin index (files, seizures) differs from the index of CHB-MIT's metadata
    alone; empty when they agree. Compared: every column but the EDF headers' (files, durations,
    clock times, segments, seizures at their times); for a case without clock times (chb24), what
    the summary lists (the twin's chosen times aside)."""
    files, seizures = twin
    meta_files, meta_seizures = meta
    out = []
    if not files.edf_present.all():
        out.append(f"{case}: {int((~files.edf_present).sum())} file(s) without an EDF")
    if meta_files.start_clock.isna().all():
        files = files[files.in_summary].reset_index(drop=True)
        pairs = [
            (files[UNCLOCKED_INDEX_COLUMNS], meta_files[UNCLOCKED_INDEX_COLUMNS], "files"),
            (
                seizures[UNCLOCKED_SEIZURE_COLUMNS],
                meta_seizures[UNCLOCKED_SEIZURE_COLUMNS],
                "seizures",
            ),
        ]
    else:
        pairs = [
            (
                files.drop(columns=EDF_INDEX_COLUMNS),
                meta_files.drop(columns=EDF_INDEX_COLUMNS),
                "files",
            ),
            (seizures, meta_seizures, "seizures"),
        ]
    for got, want, what in pairs:
        try:
            pd.testing.assert_frame_equal(got, want)
        except AssertionError as exc:
            out.append(f"{case} {what}: {str(exc).splitlines()[0]}")
    return out
