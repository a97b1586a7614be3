"""Fault injection over the tiny synthetic dataset (issue 13): every fault of an input file ends
either in an error that names the file and the field, or in an exclusion that is listed in
``results/dataset/exclusions.csv`` with its reason and logged at WARNING, the other files and
cases unaffected. Never rc 0 with a silent exclusion.

The corpus is made here from one generated dataset (3 cases x 3 files x 20 min): each fault is
one function that damages a copy. Errors are checked where they are raised (the case index, as
``index_case`` runs it, ~0.1 s each), and two of them through Snakemake; the exclusions in one
Snakemake run of the data layer on a damaged copy against the same run on the clean copy, then
once more after a file is fixed. The module costs about 1.5 minutes on 2 cores.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from preictal import layout
from preictal.chbmit.errors import DatasetError
from preictal.chbmit.index import build_case_index_in
from preictal.labels import recorded_overlap
from preictal.synthetic.dataset import generate_dataset
from preictal.synthetic.plan import SyntheticSpec
from tests.workflow.test_workflow import TINY, snakemake

pytestmark = pytest.mark.workflow

SPEC = SyntheticSpec.from_config(TINY["synthetic"], patients={"chb21": "chb01"})
CASES = list(SPEC.cases)


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny_data")
    generate_dataset(SPEC, root, threads=2)
    return root


def damaged_copy(clean: Path, dest: Path) -> Path:
    """A copy whose files are hard links to the clean ones: a fault must replace a file, never
    write into it (see ``replace``)."""
    shutil.copytree(clean, dest, copy_function=os.link)
    return dest


def replace(path: Path, data: bytes) -> None:
    path.unlink()
    path.write_bytes(data)


# EDF header layout (EDF spec): 256 fixed bytes, then each per-signal field for all signals.
SIGNAL_FIELDS = {"label": 16, "transducer": 80, "dimension": 8, "physical minimum": 8,
                 "physical maximum": 8, "digital minimum": 8, "digital maximum": 8,
                 "prefiltering": 80, "samples per record": 8}  # fmt: skip


def patch_edf(path: Path, *, fixed: dict[int, bytes] = (), signal: tuple = ()) -> None:
    """Overwrite fixed-header fields (``{offset: bytes}``) or one signal's field
    (``(field, index, bytes)``), padded with spaces to the field's width."""
    raw = bytearray(path.read_bytes())
    for offset, value in dict(fixed).items():
        width = {236: 8, 244: 8, 252: 4, 184: 8, 0: 8}[offset]
        raw[offset : offset + width] = value.ljust(width)
    if signal:
        field, index, value = signal
        ns = int(raw[252:256])
        offset = 256
        for name, width in SIGNAL_FIELDS.items():
            if name == field:
                at = offset + index * width
                raw[at : at + width] = value.ljust(width)
                break
            offset += ns * width
    replace(path, bytes(raw))


def edit_summary(root: Path, case: str, old: str, new: str, count: int = 1) -> Path:
    path = root / case / f"{case}-summary.txt"
    text = path.read_text()
    assert text.count(old) >= count, (old, path)
    replace(path, text.replace(old, new, count).encode())
    return path


def seizure_line(root: Path, case: str) -> tuple[str, float]:
    """The first seizure end line of the case's summary and its value (s)."""
    for line in (root / case / f"{case}-summary.txt").read_text().splitlines():
        if "End Time" in line and line.startswith("Seizure"):
            return line, float(line.split(":")[1].split()[0])
    raise AssertionError(f"{case}: no seizure")


def first_file_with_seizure(root: Path, case: str) -> str:
    text = (root / case / f"{case}-summary.txt").read_text()
    blocks = text.split("File Name: ")[1:]
    return next(b.split()[0] for b in blocks if "Seizure" in b.split("Number of Seizures")[1])


# Each error fault damages the copy and returns the file its error must name and the message.
EDF = Path("chb02") / "chb02_02.edf"
SUMMARY = Path("chb02") / "chb02-summary.txt"


def truncate(root):
    replace(root / EDF, (root / EDF).read_bytes()[:-5000])
    return root / EDF, "truncated EDF"


def append_bytes(root):
    replace(root / EDF, (root / EDF).read_bytes() + b"\0" * 512)
    return root / EDF, "EDF longer than its header says"


def zero_samples_per_record(root):
    patch_edf(root / EDF, signal=("samples per record", 3, b"0"))
    return root / EDF, "header field 'number of samples in each data record' is 0, not positive"


def garbled_record_count(root):
    patch_edf(root / EDF, fixed={236: b"12x4"})
    return root / EDF, "header field 'number of data records' is '12x4', not a number"


def bad_digital_range(root):
    patch_edf(root / EDF, signal=("digital minimum", 0, b"40000"))
    return root / EDF, "digital minimum/maximum 40000/32767"


def not_an_edf(root):
    patch_edf(root / EDF, fixed={0: b"PK"})
    return root / EDF, "not an EDF file (version field"


def header_says_128_hz(root):
    """Records of 2 s holding 256 samples: 128 Hz on every channel, in the same bytes."""
    patch_edf(root / EDF, fixed={244: b"2"})
    return root / EDF, (
        "EDF header sampling rate 128 Hz on every channel, but the summary says Data Sampling "
        "Rate 256 Hz"
    )


def summary_lists_another_channel_count(root):
    lines = (root / SUMMARY).read_text().splitlines(keepends=True)
    drop = next(k for k, line in enumerate(lines) if line.startswith("Channel 23:"))
    replace(root / SUMMARY, "".join(lines[:drop] + lines[drop + 1 :]).encode())
    return root / "chb02" / "chb02_01.edf", "EDF header has 23 signals, but the summary"


def seizure_after_its_file(root):
    line, end = seizure_line(root, "chb02")
    edit_summary(root, "chb02", line, line.replace(f"{end:g} seconds", "99999 seconds"))
    return root / SUMMARY, "seizure ends at 99999 s, after the end of"


def wrong_seizure_count(root):
    name = first_file_with_seizure(root, "chb02")
    head, tail = (root / SUMMARY).read_text().split(f"File Name: {name}")
    stated = int(tail.split("Number of Seizures in File:")[1].split()[0])
    tail = tail.replace(
        f"Number of Seizures in File: {stated}", f"Number of Seizures in File: {stated + 1}", 1
    )
    replace(root / SUMMARY, (head + f"File Name: {name}" + tail).encode())
    return root / SUMMARY, f"{name}: states {stated + 1} seizures but lists {stated}"


def summary_duration_mismatch(root):
    text = (root / SUMMARY).read_text()
    end = next(line for line in text.splitlines() if line.startswith("File End Time:"))
    h, m, s = (int(x) for x in end.split(": ")[1].split(":"))
    edit_summary(root, "chb02", end, f"File End Time: {h}:{(m + 1) % 60:02d}:{s:02d}")
    return root / "chb02" / "chb02_01.edf", "EDF header lasts 1200 s, but"


ERROR_FAULTS = [
    truncate,
    append_bytes,
    zero_samples_per_record,
    garbled_record_count,
    bad_digital_range,
    not_an_edf,
    header_says_128_hz,
    summary_lists_another_channel_count,
    seizure_after_its_file,
    wrong_seizure_count,
    summary_duration_mismatch,
]


@pytest.mark.parametrize("fault", ERROR_FAULTS, ids=lambda f: f.__name__)
def test_error_faults_name_the_file_and_field(clean, tmp_path, fault):
    root = damaged_copy(clean, tmp_path / "data")
    named, expected = fault(root)
    with pytest.raises(DatasetError) as error:
        build_case_index_in(root, "chb02", patients={})
    message = str(error.value)
    assert str(named) in message and expected in message, message
    for case in ("chb01", "chb21"):  # the other cases index as before
        build_case_index_in(root, case, patients={})


@pytest.mark.parametrize("fault", [zero_samples_per_record, header_says_128_hz])
def test_error_faults_fail_their_case_in_the_workflow(clean, tmp_path, fault):
    """The two faults that once passed (a ZeroDivisionError without the file's name; a run at the
    header's wrong rate, rc 0): the case's job fails with the message, the others finish."""
    root = damaged_copy(clean, tmp_path / "data")
    named, expected = fault(root)
    targets = [layout.path(layout.FILES, "results", case=c) for c in CASES]
    config = {**TINY, "data_root": str(root)}
    proc = snakemake(tmp_path, "--keep-going", *map(str, targets), config=config, check=False)
    assert proc.returncode != 0
    log = (tmp_path / "logs/index_case/chb02.log").read_text()
    assert f"{named}: " in log and expected in log, log[-2000:]
    assert expected in proc.stdout + proc.stderr
    assert not (tmp_path / targets[1]).exists()
    assert (tmp_path / targets[0]).is_file() and (tmp_path / targets[2]).is_file()


# Exclusion faults, all in one copy: (case, file, stage, reason).
def near_start_quirk(clean) -> tuple[str, str]:
    """The case whose seizure a few minutes into a file has its preictal period in the file
    before, and that earlier file."""
    for case in CASES:
        files, seizures = build_case_index_in(clean, case, patients={})
        for s in seizures.itertuples():
            before = files[(files.end_sec <= s.onset_sec) & (files.end_sec > s.onset_sec - 600)]
            if len(before) and s.onset_sec - files.set_index("file").start_sec[s.file] < 600:
                return case, before.file.iloc[-1]
    raise AssertionError("the tiny dataset plants a seizure near a file's start")


def channel_at_half_rate(path: Path, channel: str) -> None:
    """Rewrite ``path`` with ``channel`` at half the rate (edfio), the rest unchanged."""
    import edfio

    edf = edfio.read_edf(path)
    signals = []
    for s in edf.signals:
        half = s.label == channel
        signals.append(
            edfio.EdfSignal(
                s.data[::2] if half else s.data,
                sampling_frequency=s.sampling_frequency / (2 if half else 1),
                label=s.label,
                physical_dimension=s.physical_dimension,
                physical_range=(s.physical_min, s.physical_max),
                digital_range=(s.digital_min, s.digital_max),
            )
        )
    out = edfio.Edf(signals, recording=edf.recording, starttime=edf.starttime,
                    data_record_duration=edf.data_record_duration)  # fmt: skip
    path.unlink()
    out.write(path)


def label_index(path: Path, label: str) -> int:
    from preictal.chbmit.edf import read_edf_header

    return read_edf_header(path).labels.index(label)


def inject_exclusions(clean: Path, root: Path) -> tuple[set[tuple[str, str, str, str]], str]:
    """Five exclusion faults in a copy; returns the expected table rows and the case left clean."""
    case, missing = near_start_quirk(clean)
    others = [c for c in CASES if c != case]
    damaged, untouched = others[0], others[1]
    (root / case / missing).unlink()
    other_file = next(p.name for p in sorted((root / case).glob("*.edf")))
    path = root / case / other_file
    channel_at_half_rate(path, "F7-T7")
    shutil.copyfile(path, root / case / f"{case}_99.edf")  # on disk, in no list
    first, _, third = sorted(p.name for p in (root / damaged).glob("*.edf"))
    renamed = root / damaged / first
    patch_edf(renamed, signal=("label", label_index(renamed, "FP1-F7"), b"FP1-FX"))
    accented = root / damaged / third
    patch_edf(accented, signal=("label", label_index(accented, "T7-P7"), "T7-Pé".encode("latin-1")))
    lost = "canonical channels neither present nor derivable"
    expected = {
        (case, f"{case}_99.edf", "index", "on disk but in neither the summary nor RECORDS"),
        (case, missing, "preprocess", "EDF not on disk"),
        (case, other_file, "preprocess", "canonical channels differ in rate: 128, 256 Hz"),
        (damaged, first, "preprocess", f"{lost}: FP1-F7"),
        (damaged, third, "preprocess", f"{lost}: T7-P7"),
    }
    return expected, untouched


def data_layer(work: Path, root: Path, *args: str):
    targets = [layout.EXCLUSIONS] + [layout.LEDGER.format(case=c) for c in CASES]
    return snakemake(work, *args, *targets, config={**TINY, "data_root": str(root)})


def block_signals(work: Path, case: str) -> dict[str, np.ndarray]:
    signal = np.load(work / layout.SIGNAL.format(case=case), mmap_mode="r")
    blocks = pd.read_parquet(work / layout.BLOCKS.format(case=case))
    return {
        b.file: np.asarray(signal[:, b.offset : b.offset + b.n_samples])
        for b in blocks.itertuples()
    }


def test_exclusions_are_listed_logged_and_leave_the_rest_alone(clean, tmp_path):
    reference = tmp_path / "clean_run"
    reference.mkdir()
    clean_run = data_layer(reference, clean)
    assert pd.read_csv(reference / layout.EXCLUSIONS).empty
    assert "excluded" not in clean_run.stdout + clean_run.stderr

    root = damaged_copy(clean, tmp_path / "data")
    expected, untouched = inject_exclusions(clean, root)
    work = tmp_path / "faulty_run"
    work.mkdir()
    proc = data_layer(work, root)
    assert f"{len(expected)} input file(s) excluded" in proc.stdout + proc.stderr  # the console
    table = pd.read_csv(work / layout.EXCLUSIONS)
    assert (
        set(table[["case", "file", "stage", "reason"]].itertuples(index=False, name=None))
        == expected
    )
    assert len(table) == len(expected) and (table.data_source == "synthetic").all()

    # Each exclusion at WARNING in its job's log (and the exclusions job's), naming the file.
    for case, name, stage, reason in expected:
        job_log = (work / f"logs/{stage}_case/{case}.log").read_text()
        lines = [line for line in job_log.splitlines() if " WARNING " in line and name in line]
        assert lines, (case, name, job_log[-1500:])
        assert any(f"{case}/{name} excluded ({stage}): {reason}" in line
                   for line in (work / "logs/exclusions.log").read_text().splitlines())  # fmt: skip

    # The files left, and the untouched case, are cached exactly as from the clean copy.
    excluded = {(c, f) for c, f, _, _ in expected}
    for case in CASES:
        clean_blocks, faulty_blocks = block_signals(reference, case), block_signals(work, case)
        assert set(faulty_blocks) == {f for f in clean_blocks if (case, f) not in excluded}
        for name, x in faulty_blocks.items():
            np.testing.assert_array_equal(x, clean_blocks[name])
    signal = layout.SIGNAL.format(case=untouched)
    assert (work / signal).read_bytes() == (reference / signal).read_bytes()
    for table in (layout.WINDOWS, layout.LABELS, layout.LEDGER):
        path = table.format(case=untouched)
        pd.testing.assert_frame_equal(
            pd.read_parquet(work / path), pd.read_parquet(reference / path)
        )

    # The seizure ledger counts what was cached: a seizure whose preictal period lay in the
    # missing file has less of it on record than the summary's files would say.
    case, missing = near_start_quirk(clean)
    ledger = pd.read_parquet(work / layout.LEDGER.format(case=case))
    clean_ledger = pd.read_parquet(reference / layout.LEDGER.format(case=case))
    blocks = pd.read_parquet(work / layout.BLOCKS.format(case=case))
    lost = ledger.preictal_recorded_sec < clean_ledger.preictal_recorded_sec
    assert lost.any()
    for s in ledger[lost].itertuples():
        lo, hi = s.onset_sec - 600, s.onset_sec - 30
        assert s.preictal_recorded_sec == pytest.approx(
            recorded_overlap(blocks[blocks.segment == s.segment], lo, hi)
        )
        assert s.scorable == (s.lead and s.preictal_recorded_fraction >= 0.5)
    assert (ledger.n_preictal_windows <= clean_ledger.n_preictal_windows).all()


def test_a_fixed_file_reruns_its_case_only(clean, tmp_path):
    """Real-data inputs are ancient(); their sizes and times are a param of the index, so a
    fixed file reruns its case and nothing else, and an unchanged dataset reruns nothing."""
    root = damaged_copy(clean, tmp_path / "data")
    edf = root / "chb02" / "chb02_01.edf"
    patch_edf(edf, signal=("label", label_index(edf, "FP1-F7"), b"FP1-FX"))
    work = tmp_path / "run"
    work.mkdir()
    data_layer(work, root)
    assert pd.read_csv(work / layout.EXCLUSIONS).file.tolist() == ["chb02_01.edf"]
    dry = data_layer(work, root, "-n")
    assert "Nothing to be done" in dry.stdout + dry.stderr
    stamps = {c: (work / layout.CACHE_MANIFEST.format(case=c)).stat().st_mtime_ns for c in CASES}

    edf.unlink()
    shutil.copyfile(clean / "chb02" / "chb02_01.edf", edf)  # fixed: same name, new bytes
    data_layer(work, root)
    assert pd.read_csv(work / layout.EXCLUSIONS).empty
    after = {c: (work / layout.CACHE_MANIFEST.format(case=c)).stat().st_mtime_ns for c in CASES}
    assert [c for c in CASES if after[c] != stamps[c]] == ["chb02"]
