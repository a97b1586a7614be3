"""Deterministic plan of the synthetic CHB-MIT-like dataset: cases, files, clock times, seizures.

The plan is cheap (no signals), so the workflow computes it at parse time to know every file that
the generator will write. It also holds the ground truth that later tests check the timeline,
labels and metrics against. CHB-MIT's quirks are placed on purpose, one per case in turn:

- ``seizure_near_file_start``: a seizure a few minutes after a file starts, so its preictal period
  lies in the previous file (the gap before that file is short);
- ``seizure_cluster``: two more seizures within minutes of a lead seizure;
- ``montage_change``: a ``Channels changed:`` block half-way, to a montage with dummy ``-`` channels;
- ``midnight_crossing``: a file that runs past midnight, written with an end clock >= 24:00, and
  later clock times without a leading zero.

Every case has gaps between files (a few seconds) and one long gap. The standard montage repeats
``T8-P8``, as CHB-MIT's does. Two cases of the same patient (``patients`` mapping) share one
patient profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from preictal.chbmit.dataset import SYNTHETIC_MARKER
from preictal.chbmit.errors import DatasetError
from preictal.chbmit.summary_file import format_clock

TOP_LEVEL_FILES = (
    "RECORDS",
    "RECORDS-WITH-SEIZURES",
    "SUBJECT-INFO",
    "ANNOTATORS",
    SYNTHETIC_MARKER,
)

QUIRKS = ("seizure_near_file_start", "seizure_cluster", "montage_change", "midnight_crossing")

STANDARD_MONTAGE = (
    "FP1-F7", "F7-T7", "T7-P7", "P7-O1", "FP1-F3", "F3-C3", "C3-P3", "P3-O1", "FP2-F4", "F4-C4",
    "C4-P4", "P4-O2", "FP2-F8", "F8-T8", "T8-P8", "P8-O2", "FZ-CZ", "CZ-PZ", "P7-T7", "T7-FT9",
    "FT9-FT10", "FT10-T8", "T8-P8",
)  # fmt: skip
# The montage that chb11-chb19 switch to: dummy '-' channels between the chains.
DUMMY_MONTAGE = (
    "FP1-F7", "F7-T7", "T7-P7", "P7-O1", "-", "FP1-F3", "F3-C3", "C3-P3", "P3-O1", "-", "FZ-CZ",
    "CZ-PZ", "-", "FP2-F4", "F4-C4", "C4-P4", "P4-O2", "-", "FP2-F8", "F8-T8", "T8-P8", "P8-O2",
    "-", "P7-T7", "T7-FT9", "FT9-FT10", "FT10-T8", "T8-P8",
)  # fmt: skip


@dataclass(frozen=True)
class SyntheticSpec:
    """The generator's parameters (``synthetic:`` in workflow_config.yaml)."""

    seed: int = 20261125
    cases: tuple[str, ...] = ("chb01", "chb02", "chb03", "chb04", "chb05", "chb21")
    files_per_case: int = 6
    file_min: float = 60.0
    seizures_per_case: int = 4
    seizure_sec: tuple[float, float] = (20.0, 90.0)
    min_separation_min: float = 40.0
    # Lead seizures start at least this long into their file and share no file while files
    # allow, so that a within-patient part (whole files) holds whole preictal periods; None:
    # anywhere after the file's first minute.
    lead_file_margin_min: float | None = 12.0
    long_gap_min: tuple[float, float] = (10.0, 60.0)
    sfreq: int = 256
    effect_size: float = 3.0
    effect_duration_min: float = 10.0
    shared_fraction: float = 0.25
    artifacts_per_h: Mapping[str, float] = field(
        default_factory=lambda: {"blink": 60.0, "muscle": 12.0, "pop": 4.0, "flat": 2.0}
    )
    # What makes forecasting hard (preictal.synthetic.confounds); presets/easy.yaml turns it off.
    confounds: Mapping[str, bool] = field(
        default_factory=lambda: {"heterogeneity": True, "decoys": True, "vigilance": True}
    )
    patients: Mapping[str, str] = field(default_factory=dict)
    # "synthetic": the planted dataset above; "chbmit": the CHB-MIT twin (preictal.synthetic.twin),
    # CHB-MIT's real files, clock times, montages and seizures read from ``metadata_root``, with
    # synthetic signals. ``files`` (twin only) keeps a chosen subset of the cases' files.
    structure: str = "synthetic"
    metadata_root: str | None = None
    files: tuple[str, ...] | None = None

    @classmethod
    def from_config(cls, cfg: Mapping, patients: Mapping[str, str] | None = None) -> SyntheticSpec:
        known = set(cls.__dataclass_fields__)
        kwargs = {k: v for k, v in cfg.items() if k in known}
        if kwargs.get("cases") == "all":
            from preictal.synthetic.twin import metadata_cases

            kwargs["cases"] = metadata_cases(kwargs.get("structure"), kwargs.get("metadata_root"))
        for key in ("cases", "seizure_sec", "long_gap_min"):
            if key in kwargs:
                kwargs[key] = tuple(kwargs[key])
        if kwargs.get("files") is not None:
            kwargs["files"] = tuple(kwargs["files"])
        return cls(**kwargs, **({"patients": dict(patients)} if patients is not None else {}))

    def patient_of(self, case: str) -> str:
        return self.patients.get(case, case)


@dataclass
class FilePlan:
    name: str
    montage_id: int
    start_sec: float  # from midnight of day 0 of the case
    duration_sec: float
    start_clock: str
    end_clock: str

    @property
    def end_sec(self) -> float:
        return self.start_sec + self.duration_sec


@dataclass
class SeizurePlan:
    file: str
    onset_sec: float
    end_sec: float
    start_in_file_sec: float
    end_in_file_sec: float
    role: str  # "lead", "near_file_start" or "cluster"


@dataclass
class CasePlan:
    case: str
    patient: str
    montages: list[tuple[str, ...]]
    files: list[FilePlan]
    seizures: list[SeizurePlan]
    quirks: list[str]
    numbered_seizures: bool
    # The CHB-MIT twin only (None in the planted dataset, and then absent from to_dict):
    # the real summary text, written verbatim in place of format_summary's;
    summary_text: str | None = None
    # the labels the signal model synthesizes, per montage, where the EDF's own labels
    # (``montages``, as CHB-MIT writes them) name electrodes or channels it does not model;
    signal_montages: list[tuple[str, ...]] | None = None
    # files whose length and clock times the metadata do not give (chosen by the twin).
    chosen_times: list[str] | None = None

    def signal_labels(self, montage_id: int) -> tuple[str, ...]:
        """The labels to synthesize for a file of montage ``montage_id``."""
        return (self.signal_montages or self.montages)[montage_id]

    def to_dict(self) -> dict:
        out = asdict(self)
        del out["summary_text"]  # the summary file itself holds it
        for key in ("signal_montages", "chosen_times"):
            if out[key] is None:
                del out[key]
        return out


def case_number(case: str) -> int:
    return int(case[3:5])


def seed_for(seed: int, *keys: int) -> np.random.SeedSequence:
    return np.random.SeedSequence([seed, *keys])


def plan_dataset(spec: SyntheticSpec) -> list[CasePlan]:
    if not spec.cases:
        raise ValueError("synthetic.cases is empty")
    if spec.structure == "chbmit":
        from preictal.synthetic.twin import plan_twin

        return plan_twin(spec)
    if spec.structure != "synthetic" or spec.files is not None:
        raise DatasetError(
            f"synthetic.structure {spec.structure!r}: 'synthetic' (planted) or 'chbmit' (the "
            f"CHB-MIT twin); synthetic.files chooses files of the twin only"
        )
    return [plan_case(spec, case, i) for i, case in enumerate(spec.cases)]


def plan_case(spec: SyntheticSpec, case: str, position: int) -> CasePlan:
    rng = np.random.default_rng(seed_for(spec.seed, case_number(case), 1))
    quirks = [q for k, q in enumerate(QUIRKS) if k % len(spec.cases) == position]
    n_files = spec.files_per_case
    file_sec = spec.file_min * 60.0

    # Gaps: a few seconds between files, and one long gap not before the near-start file.
    near_start_file = max(1, n_files // 2) if n_files > 1 else None
    gaps = rng.integers(2, 11, size=max(n_files - 1, 0)).astype(float)
    candidates = [k for k in range(n_files - 1) if k + 1 != near_start_file]
    if candidates:
        long_at = candidates[int(rng.integers(len(candidates)))]
        gaps[long_at] = round(float(rng.uniform(*spec.long_gap_min)) * 60.0)

    if "midnight_crossing" in quirks:
        day_start = 86400 - 1.5 * file_sec  # the second file runs over midnight
    else:
        day_start = float(rng.integers(8 * 3600, 16 * 3600))
    starts = [day_start]
    for g in gaps:
        starts.append(starts[-1] + file_sec + g)
    # Durations in whole seconds: one file slightly shorter, as real recordings end early.
    durations = [file_sec] * n_files
    if n_files > 2:
        durations[-1] = file_sec - float(rng.integers(60, 300))

    montage_from = n_files // 2 if "montage_change" in quirks and n_files > 1 else n_files
    montages = [STANDARD_MONTAGE] + ([DUMMY_MONTAGE] if montage_from < n_files else [])
    files = []
    for k, (start, dur) in enumerate(zip(starts, durations, strict=True)):
        clock0 = int(start) % 86400
        end_clock = clock0 + int(dur)  # not wrapped: CHB-MIT writes 24:22:17
        files.append(
            FilePlan(
                name=f"{case}_{k + 1:02d}.edf",
                montage_id=int(k >= montage_from),
                start_sec=float(start),
                duration_sec=float(dur),
                start_clock=format_clock(clock0),
                end_clock=format_clock(end_clock, zero_pad=end_clock >= 36000),
            )
        )

    seizures = _place_seizures(spec, rng, files, quirks, near_start_file)
    return CasePlan(
        case=case,
        patient=spec.patient_of(case),
        montages=[tuple(m) for m in montages],
        files=files,
        seizures=seizures,
        quirks=quirks,
        numbered_seizures=case_number(case) >= 6,
    )


def _file_at(files: list[FilePlan], t: float) -> FilePlan | None:
    for f in files:
        if f.start_sec <= t < f.end_sec:
            return f
    return None


def _make(f: FilePlan, onset: float, dur: float, role: str) -> SeizurePlan:
    onset, dur = float(round(onset)), float(round(dur))
    return SeizurePlan(
        f.name, onset, onset + dur, onset - f.start_sec, onset + dur - f.start_sec, role
    )


def _place_seizures(
    spec: SyntheticSpec,
    rng: np.random.Generator,
    files: list[FilePlan],
    quirks: list[str],
    near_start_file: int | None,
) -> list[SeizurePlan]:
    sep = spec.min_separation_min * 60.0
    placed: list[SeizurePlan] = []

    def fits(onset: float, dur: float) -> FilePlan | None:
        f = _file_at(files, onset)
        if f is None or onset + dur > f.end_sec - 60.0:
            return None
        if any(abs(onset - s.onset_sec) < sep for s in placed):
            return None
        return f

    if "seizure_near_file_start" in quirks and near_start_file is not None:
        f = files[near_start_file]
        placed.append(
            _make(
                f,
                f.start_sec + rng.uniform(150, 330),
                rng.uniform(*spec.seizure_sec),
                "near_file_start",
            )
        )
    first, last = files[0].start_sec + 20 * 60.0, files[-1].end_sec - 120.0
    if spec.lead_file_margin_min is None:
        margin, per_file = 60.0, spec.seizures_per_case
    else:
        margin = max(60.0, spec.lead_file_margin_min * 60.0)
        per_file = -(-spec.seizures_per_case // len(files))  # ceil: usually one per file
    n_lead = len(placed)
    for _ in range(20000):
        if n_lead >= spec.seizures_per_case:
            break
        onset, dur = rng.uniform(first, last), rng.uniform(*spec.seizure_sec)
        f = fits(onset, dur)
        if f is None or onset - f.start_sec < margin:
            continue
        if sum(s.file == f.name and s.role != "cluster" for s in placed) >= per_file:
            continue
        leader = _make(f, onset, dur, "lead")
        if "seizure_cluster" in quirks and not any(s.role == "cluster" for s in placed):
            # The cluster is placed with the first lead seizure, before the others take room.
            cluster = _cluster_after(spec, rng, files, leader)
            if cluster is None or any(
                abs(m.onset_sec - s.onset_sec) < sep for m in cluster for s in placed
            ):
                continue
            placed += [leader, *cluster]
        else:
            placed.append(leader)
        n_lead += 1
    if n_lead < spec.seizures_per_case:
        raise ValueError(
            f"synthetic: cannot place {spec.seizures_per_case} seizures "
            f"{spec.min_separation_min:g} min apart (with the planned quirks and "
            f"lead_file_margin_min={spec.lead_file_margin_min}) in "
            f"{len(files)} files of {spec.file_min:g} min; raise file_min or files_per_case"
        )
    placed.sort(key=lambda s: s.onset_sec)
    return placed


def _cluster_after(
    spec: SyntheticSpec,
    rng: np.random.Generator,
    files: list[FilePlan],
    leader: SeizurePlan,
) -> list[SeizurePlan] | None:
    """Two seizures 3-7 min apart after ``leader`` (moved to the next file's start if they would
    fall in a gap), or None where they do not fit."""
    members: list[SeizurePlan] = []
    t = leader.end_sec
    for _ in range(2):
        onset, dur = t + rng.uniform(180, 420), rng.uniform(*spec.seizure_sec)
        f = _file_at(files, onset)
        if f is None or onset + dur > f.end_sec - 30.0:
            f = next((g for g in files if g.start_sec > onset), None)
            if f is None:
                return None
            onset = f.start_sec + rng.uniform(30, 90)
        if onset + dur > f.end_sec - 30.0 or onset - t > 900.0:
            return None
        members.append(_make(f, onset, dur, "cluster"))
        t = members[-1].end_sec
    return members


def source_record(spec: SyntheticSpec, root: str | Path) -> dict:
    """How outputs name this data: the ``data_source`` of SYNTHETIC.json and of every table."""
    from preictal import __version__

    record = {
        "kind": "synthetic",
        "data_root": str(root),
        "generator": f"preictal.synthetic {__version__}",
        "seed": spec.seed,
        "effect_size": spec.effect_size,
    }
    if spec.structure == "chbmit":  # the CHB-MIT twin: real structure, synthetic signals
        record.update(structure="chbmit", metadata_root=str(spec.metadata_root))
    return record


def ground_truth(spec: SyntheticSpec, plans: list[CasePlan], root: str | Path) -> dict:
    """The ``SYNTHETIC.json`` content: generator parameters and the planned truth per case."""
    spec_dict = asdict(spec)
    spec_dict["artifacts_per_h"] = dict(spec.artifacts_per_h)
    spec_dict["patients"] = dict(spec.patients)
    if spec.structure == "synthetic":  # the twin's keys, only in a twin's record
        for key in ("structure", "metadata_root", "files"):
            del spec_dict[key]
    return {
        "data_source": source_record(spec, root),
        "spec": spec_dict,
        "cases": {p.case: p.to_dict() for p in plans},
    }


def dataset_paths(spec: SyntheticSpec, root: str | Path) -> dict[str, list[Path]]:
    """Every path the generator writes, by kind; the workflow declares them as outputs."""
    root = Path(root)
    plans = plan_dataset(spec)
    return {
        "edfs": [root / p.case / f.name for p in plans for f in p.files],
        "summaries": [root / p.case / f"{p.case}-summary.txt" for p in plans],
        "top_level": [root / name for name in (*TOP_LEVEL_FILES, "SHA256SUMS.txt")],
    }
