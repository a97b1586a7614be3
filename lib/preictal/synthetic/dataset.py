"""Write the synthetic dataset to disk in CHB-MIT's exact layout.

``ROOT/chbNN/chbNN_MM.edf`` (16-bit EDF, 1-s records), ``ROOT/chbNN/chbNN-summary.txt``, ``RECORDS``,
``RECORDS-WITH-SEIZURES``, ``SUBJECT-INFO``, ``ANNOTATORS``, ``SHA256SUMS.txt`` and, unlike
PhysioNet, ``SYNTHETIC.json``: the marker that makes every downstream output say "synthetic", with
the generator's parameters and ground truth.
"""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from preictal.chbmit.dataset import SYNTHETIC_MARKER
from preictal.chbmit.summary_file import format_summary
from preictal.io import atomic_path, sha256_file, write_json, write_text
from preictal.synthetic.confounds import CaseConfounds, plan_confounds
from preictal.synthetic.params import ArtifactRates, PatientProfile, PreictalEffect
from preictal.synthetic.plan import (
    TOP_LEVEL_FILES,
    CasePlan,
    SyntheticSpec,
    case_number,
    ground_truth,
    plan_dataset,
    seed_for,
)
from preictal.synthetic.signals import synthesize_recording

log = logging.getLogger(__name__)

PHYSICAL_RANGE_UV = (-3276.8, 3276.7)  # 0.1 uV per digital step


def patient_profile(spec: SyntheticSpec, patient: str) -> PatientProfile:
    state = seed_for(spec.seed, case_number(patient), 2).generate_state(1)[0]
    return PatientProfile.from_seed(int(state))


def case_confounds(spec: SyntheticSpec, plan: CasePlan) -> CaseConfounds:
    """The case's confounds on its timeline (cheap; every file's job recomputes them)."""
    return plan_confounds(
        spec.seed,
        case_number(plan.case),
        (plan.files[0].start_sec, plan.files[-1].end_sec),
        [s.onset_sec for s in plan.seizures],
        patient_profile(spec, plan.patient),
        spec.confounds,
    )


def _synthesize_file(
    spec: SyntheticSpec, plan: CasePlan, k: int, root: Path
) -> tuple[str, list[dict]]:
    f = plan.files[k]
    seizures = [(s.onset_sec - f.start_sec, s.end_sec - f.start_sec) for s in plan.seizures]
    confounds = case_confounds(spec, plan)
    data, events = synthesize_recording(
        labels=plan.signal_labels(f.montage_id),  # the EDF keeps plan.montages' labels
        duration_sec=f.duration_sec,
        sfreq=spec.sfreq,
        profile=patient_profile(spec, plan.patient),
        effect=PreictalEffect(
            effect_size=spec.effect_size * confounds.preictal_gain,
            duration_sec=spec.effect_duration_min * 60.0,
            shared_fraction=spec.shared_fraction,
        ),
        seizures=seizures,
        artifacts=ArtifactRates(**{f"{k}_per_h": v for k, v in spec.artifacts_per_h.items()}),
        rng=np.random.default_rng(seed_for(spec.seed, case_number(plan.case), 100 + k)),
        seizure_weights=[confounds.seizure_weights.get(s.onset_sec, 1.0) for s in plan.seizures],
        decoys=[d.shifted(-f.start_sec) for d in confounds.decoys],
        drowsy=[(a - f.start_sec, b - f.start_sec) for a, b in confounds.drowsy],
    )
    write_edf(root / plan.case / f.name, data, plan.montages[f.montage_id], spec.sfreq, f.start_sec)
    return f.name, events


def write_edf(
    path: str | Path, data: np.ndarray, labels, sfreq: float, start_sec: float = 0.0
) -> None:
    """A 16-bit EDF of ``data`` (uV, [channels, samples]) starting ``start_sec`` after midnight of
    day 0 (the header's start time is that clock time; its date moves on by whole days)."""
    import edfio

    lo, hi = PHYSICAL_RANGE_UV
    clipped = np.clip(data, lo, hi).astype(np.float64)
    signals = [
        edfio.EdfSignal(
            clipped[i],
            sampling_frequency=sfreq,
            label=label,
            physical_dimension="uV",
            physical_range=PHYSICAL_RANGE_UV,
            digital_range=(-32768, 32767),
        )
        for i, label in enumerate(labels)
    ]
    clock = int(start_sec) % 86400
    day = int(start_sec) // 86400
    edf = edfio.Edf(
        signals,
        recording=edfio.Recording(startdate=dt.date(2001, 1, 1) + dt.timedelta(days=day)),
        starttime=dt.time(clock // 3600, clock // 60 % 60, clock % 60),
        data_record_duration=1,
    )
    with atomic_path(path) as tmp:
        edf.write(tmp)


def subject_info(spec: SyntheticSpec, plans: list[CasePlan]) -> str:
    lines = ["Case\tGender\tAge (years)", ""]
    for p in plans:
        rng = np.random.default_rng(seed_for(spec.seed, case_number(p.patient), 3))
        sex = "F" if rng.random() < 0.5 else "M"
        age = float(rng.integers(2, 20))
        if p.patient != p.case:  # recorded later, as chb21 is 1.5 years after chb01
            age += 1.5
        lines.append(f"{p.case}\t{sex}\t{age:g}")
    return "\n".join(lines) + "\n"


def generate_dataset(spec: SyntheticSpec, root: str | Path, *, threads: int = 1) -> list[CasePlan]:
    """Generate every file of the dataset under ``root``. Deterministic for a given spec."""
    if spec.structure == "chbmit":  # the CHB-MIT twin writes CHB-MIT's summaries and lists
        from preictal.synthetic.twin import generate_twin

        return generate_twin(spec, root, threads=threads)
    root = Path(root)
    plans = plan_dataset(spec)
    for p in plans:
        text = format_summary(
            spec.sfreq,
            p.montages,
            [
                {
                    "name": f.name,
                    "montage_id": f.montage_id,
                    "start_clock": f.start_clock,
                    "end_clock": f.end_clock,
                    "seizures": [
                        (s.start_in_file_sec, s.end_in_file_sec)
                        for s in p.seizures
                        if s.file == f.name
                    ],
                }
                for f in p.files
            ],
            numbered_seizures=p.numbered_seizures,
        )
        write_text(root / p.case / f"{p.case}-summary.txt", text)

    jobs = [(p, k) for p in plans for k in range(len(p.files))]
    events: dict[str, dict[str, list[dict]]] = {p.case: {} for p in plans}
    with ProcessPoolExecutor(max_workers=max(1, threads)) as pool:
        futures = [pool.submit(_synthesize_file, spec, p, k, root) for p, k in jobs]
        for done, ((p, _), fut) in enumerate(zip(jobs, futures, strict=True), start=1):
            name, file_events = fut.result()
            events[p.case][name] = file_events
            log.info("synthetic: %s/%s written (%d/%d files)", p.case, name, done, len(jobs))

    records = [f"{p.case}/{f.name}" for p in plans for f in p.files]
    with_seizures = sorted({f"{p.case}/{s.file}" for p in plans for s in p.seizures})
    write_text(root / "RECORDS", "\n".join(records) + "\n")
    write_text(root / "RECORDS-WITH-SEIZURES", "\n".join(with_seizures) + "\n")
    write_text(root / "SUBJECT-INFO", subject_info(spec, plans))
    write_text(root / "ANNOTATORS", "synthetic\tplanted by preictal.synthetic (ground truth)\n")
    truth = ground_truth(spec, plans, root)
    for case, by_file in events.items():
        truth["cases"][case]["events"] = by_file  # artifacts and spikes, seconds in the file
    for p in plans:  # on the case's timeline, like the seizures
        truth["cases"][p.case]["confounds"] = case_confounds(spec, p).to_dict()
    write_json(root / SYNTHETIC_MARKER, truth)
    listed = [*TOP_LEVEL_FILES]
    for p in plans:
        listed.append(f"{p.case}/{p.case}-summary.txt")
        listed += [f"{p.case}/{f.name}" for f in p.files]
    sums = "".join(f"{sha256_file(root / rel)} {rel}\n" for rel in listed)
    write_text(root / "SHA256SUMS.txt", sums)
    return plans
