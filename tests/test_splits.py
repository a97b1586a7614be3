"""Splits: grouped by patient (loso) or by time within a patient, and the leakage guard."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from preictal.splits import (
    SplitParams,
    assert_disjoint,
    build_split,
    loso_parts,
    within_lead_shares,
)

PATIENTS = {"chb21": "chb01"}


def case_tables(case, n_files=4, seizure_files=(1, 2, 3), file_sec=3600.0, t0=0.0):
    """Windows every 5 s over n_files files of file_sec, one lead seizure in each listed file."""
    rows, files, ledger = [], [], []
    for k in range(n_files):
        start = t0 + k * (file_sec + 10)
        files.append(
            {"file": f"{case}_{k + 1:02d}.edf", "start_sec": start, "end_sec": start + file_sec}
        )
        s = np.arange(start, start + file_sec - 10 + 1e-9, 5.0)
        rows.append(
            pd.DataFrame({"file": f"{case}_{k + 1:02d}.edf", "start_sec": s, "end_sec": s + 10})
        )
        if k in seizure_files:
            ledger.append(
                {"file": f"{case}_{k + 1:02d}.edf", "onset_sec": start + 2000, "lead": True}
            )
    w = pd.concat(rows, ignore_index=True)
    w.insert(0, "window", np.arange(len(w)))
    labels = pd.DataFrame(
        {"window": w.window, "y_cls": np.where(np.arange(len(w)) % 10 == 0, 1, 0), "seizure": -1}
    )
    seizures = pd.DataFrame(ledger, columns=["file", "onset_sec", "lead"])
    return {
        "windows": w,
        "labels": labels,
        "files": pd.DataFrame(files),
        "seizures": seizures.assign(seizure=np.arange(len(seizures))),
    }


@pytest.fixture
def tables():
    return {c: case_tables(c) for c in ("chb01", "chb02", "chb03", "chb04", "chb21")}


def test_loso_rotates_validation_and_keeps_a_patient_together(tables):
    assert loso_parts("chb02", ["chb01", "chb02", "chb03", "chb04"], SplitParams()) == {
        "test": ["chb02"],
        "val": ["chb03", "chb04"],
        "train": ["chb01"],
    }
    split, manifest = build_split("loso", "chb01", tables, PATIENTS, SplitParams())
    parts = split.groupby("case").part.unique().map(list).to_dict()
    assert parts["chb01"] == ["test"] and parts["chb21"] == ["test"]  # one patient, one part
    assert manifest["patients"] == {
        "test": ["chb01"],
        "val": ["chb02", "chb03"],
        "train": ["chb04"],
    }
    assert manifest["counts"]["test"]["n_pos"] > 0


def test_loso_needs_three_patients(tables):
    two = {c: tables[c] for c in ("chb01", "chb02")}
    split, manifest = build_split("loso", "chb01", two, PATIENTS, SplitParams())
    assert len(split) == 0 and "at least 3 patients" in manifest["skipped"]


def test_within_is_whole_files_in_time_order(tables):
    split, manifest = build_split("within", "chb01", tables, PATIENTS, SplitParams())
    assert set(split.case) == {"chb01", "chb21"}
    # chb01 and chb21 each hold 3 lead seizures (6 in all): 3 train, 1 val, 2 test.
    assert manifest["lead_seizures"] == {"train": 3, "val": 1, "test": 2}
    assert manifest["files"]["train"][-1] == "chb01/chb01_04.edf"
    assert manifest["files"]["val"] == ["chb21/chb21_01.edf", "chb21/chb21_02.edf"]
    assert manifest["files"]["test"] == ["chb21/chb21_03.edf", "chb21/chb21_04.edf"]
    per_file = split.merge(tables["chb21"]["windows"][["window", "file"]], on="window")
    assert per_file[per_file.case == "chb21"].groupby("file").part.nunique().eq(1).all()


def test_within_counts_each_seizure_in_the_part_of_its_file():
    t = case_tables("chb03", seizure_files=(0, 1, 2, 3))
    second = {
        "file": "chb03_03.edf",
        "onset_sec": t["files"].start_sec[2] + 3000,
        "lead": True,
        "seizure": len(t["seizures"]),
    }
    t["seizures"] = pd.concat([t["seizures"], pd.DataFrame([second])], ignore_index=True)
    # 5 lead seizures: 2 train, 1 val (in file 3), 2 test; but file 3 holds a second one, and
    # whole files move, so that one is a validation seizure and the test part holds one.
    split, manifest = build_split("within", "chb03", {"chb03": t}, {}, SplitParams())
    assert manifest["files"]["val"] == ["chb03/chb03_03.edf"]
    assert manifest["lead_seizures"] == {"train": 2, "val": 2, "test": 1}


def test_default_within_split_leaves_most_chbmit_patients_two_test_seizures(chbmit_meta):
    """One test seizure can never pass the chance test (docs/EVALUATION.md), so the default
    train_frac must leave two or more for most CHB-MIT patients; 0.7 would leave one for 16 of 20."""
    from preictal.chbmit.summary_file import parse_summary
    from preictal.chbmit.timeline import build_timeline
    from preictal.labels import LabelParams, seizure_ledger

    leads = {}
    for summary in sorted(chbmit_meta.glob("chb*-summary.txt")):
        case = summary.name[:5]
        ledger = seizure_ledger(*build_timeline(parse_summary(summary, case)), None, LabelParams())
        patient = PATIENTS.get(case, case)
        leads[patient] = leads.get(patient, 0) + int((ledger.lead & ledger.scorable).sum())
    eligible = [n for n in leads.values() if n >= SplitParams().min_lead_seizures]
    assert len(eligible) == 20

    def n_test(n, params):
        return n - sum(within_lead_shares(n, params))

    assert sum(n_test(n, SplitParams()) >= 2 for n in eligible) == 13
    assert sum(n_test(n, SplitParams(train_frac=0.7)) >= 2 for n in eligible) == 4


def test_within_skips_patients_with_few_lead_seizures():
    t = {"chb05": case_tables("chb05", seizure_files=(1, 2))}
    split, manifest = build_split("within", "chb05", t, {}, SplitParams())
    assert len(split) == 0
    assert manifest["skipped"] == "chb05: 2 lead seizure(s), fewer than min_lead_seizures=3"


def test_leakage_guard_catches_mixed_parts(tables):
    split, _ = build_split("loso", "chb01", tables, PATIENTS, SplitParams())
    windows = {c: t["windows"] for c, t in tables.items()}
    leaked = split.copy()
    leaked.loc[leaked.case == "chb21", "part"] = "train"  # chb21 is chb01's patient
    with pytest.raises(AssertionError, match="patients in two parts"):
        assert_disjoint(leaked, windows, PATIENTS, "loso")
    split, _ = build_split("within", "chb03", tables, {}, SplitParams())
    mine = {"chb03": windows["chb03"]}
    shuffled = split.copy()
    shuffled.loc[shuffled.index[:5], "part"] = "test"  # test windows before training ones
    with pytest.raises(AssertionError, match="two parts|time order"):
        assert_disjoint(shuffled, mine, {}, "within")
    twice = pd.concat([split, split.iloc[:1]])
    with pytest.raises(AssertionError, match="assigned twice"):
        assert_disjoint(twice, mine, {}, "within")


def boundary_case():
    """chb03: five 3-h files 10 s apart (one segment), a lead seizure in each; the third and
    fourth seizures come 300 s into their files, so their preictal periods start in the file
    before, across the part boundary (train | val | test test)."""
    from preictal.labels import LabelParams, label_windows, seizure_ledger

    params, file_sec = LabelParams(), 3 * 3600.0
    case = case_tables("chb03", n_files=5, seizure_files=(), file_sec=file_sec)
    case["windows"]["segment"] = 0
    starts = case["files"].start_sec.to_numpy()
    onsets = starts + np.array([5000.0, 5000.0, 300.0, 300.0, 5000.0])
    seizures = pd.DataFrame(
        {
            "case": "chb03",
            "patient": "chb03",
            "file": case["files"].file,
            "seizure_in_file": 1,
            "onset_sec": onsets,
            "end_sec": onsets + 60,
            "segment": 0,
        }
    )
    labels = label_windows(case["windows"], seizures, params)
    case["labels"] = labels.assign(window=case["windows"].window.to_numpy())
    recorded = case["files"].assign(segment=0)
    case["seizures"] = seizure_ledger(recorded, seizures, labels, params)
    assert case["seizures"].lead.all() and case["seizures"].scorable.all()
    return case, params


def test_within_purges_windows_labelled_by_another_parts_seizure():
    """The leaks of issue 16: training windows labelled preictal for a validation seizure and
    validation windows labelled by a test seizure are purged (part none), and the guard catches
    them when they are not."""
    from preictal.splits import assert_no_label_leak, seizure_parts, within_split

    case, _ = boundary_case()
    tables = {"chb03": case}
    args = ("chb03", {"chb03": case["windows"]}, {"chb03": case["files"]})
    ledgers, labels = {"chb03": case["seizures"]}, {"chb03": case["labels"]}
    unpurged, manifest = within_split(*args, ledgers, SplitParams())
    assert manifest["files"]["val"] == ["chb03/chb03_03.edf"]
    part_of_file = {
        ("chb03", f.split("/")[1]): p for p, fs in manifest["files"].items() for f in fs
    }
    owner = seizure_parts(ledgers, part_of_file)
    assert [owner[("chb03", i)] for i in range(5)] == ["train", "train", "val", "test", "test"]
    merged = unpurged.merge(case["labels"][["window", "seizure"]], on="window")
    # Preictal windows end in [onset - 600, onset - 30]; in the file before (it ends 10 s before
    # the next file, 310 s before the onset) that is ends from 300 s to 10 s before the boundary,
    # every 5 s: 59 windows.
    leaks = {
        part: int(((merged.part == part) & merged.seizure.eq(s)).sum())
        for part, s in (("train", 2), ("val", 3))
    }
    assert leaks == {"train": 59, "val": 59}
    with pytest.raises(AssertionError, match="labelled preictal for a seizure of another part"):
        assert_no_label_leak(unpurged, labels, owner)
    split, manifest = build_split("within", "chb03", tables, {}, SplitParams())
    assert manifest["purged_windows"] == {"train": 59, "val": 59, "test": 0}
    purged = split.merge(case["labels"][["window", "seizure"]], on="window")
    assert (purged.part == "none").sum() == 118
    for part, s in (("train", 2), ("val", 3)):
        assert not ((purged.part == part) & purged.seizure.eq(s)).any()
    # Each part keeps the preictal windows of its own seizures.
    assert ((purged.part == "val") & purged.seizure.eq(2)).sum() > 0


def test_an_alarm_before_a_part_boundary_is_not_credited_to_the_next_parts_seizure():
    """The third leak: a validation alarm 580 s before the test seizure's onset was a true alarm
    during threshold tuning. Scored on the validation files alone it is excluded (it lies in the
    test seizure's preictal horizon): neither true nor false. The same alarm is true when the part
    records the onset."""
    from preictal.alarms.scoring import score_alarms

    case, params = boundary_case()
    files, ledger = case["files"].assign(segment=0), case["seizures"]
    test_onset = float(ledger.onset_sec[3])
    alarm = pd.DataFrame({"case": "chb03", "segment": 0, "time_sec": [test_onset - 580]})
    val = files[files.file == "chb03_03.edf"]
    assert val.start_sec.iloc[0] < test_onset - 580 < val.end_sec.iloc[0]
    m = score_alarms(alarm, val.assign(case="chb03"), ledger, params)
    assert (m.n_true_alarms, m.n_false_alarms, m.alarms_excluded) == (0, 0, 1)
    both = files[files.file.isin(["chb03_03.edf", "chb03_04.edf"])].assign(case="chb03")
    assert score_alarms(alarm, both, ledger, params).n_true_alarms == 1
