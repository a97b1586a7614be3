"""Threshold transfer: the oracle (thresholds tuned on the test part) beside the evaluation's
thresholds tuned on validation."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from preictal.alarms.postprocess import PLAIN_ALARMS
from preictal.alarms.tuning import TIE_BREAKS
from preictal.evaluate.fold import EvalParams, evaluate_fold
from preictal.evaluate.transfer import (
    ORACLE,
    OTHER_PATIENT,
    TEST,
    VALIDATION,
    one_patient,
    oracle_operating_points,
    threshold_transfer_table,
)
from preictal.io import write_parquet
from tests.evaluate.test_fold import FAH_TARGETS, LP, fold

PARAMS = EvalParams(FAH_TARGETS, n_surrogates=0)
KW = {"label_params": LP, "alarm_params": PLAIN_ALARMS, "params": PARAMS}


def _renamed(frame: pd.DataFrame, case: str) -> pd.DataFrame:
    out = frame.copy()
    out["case"] = case
    if "file" in out:
        out["file"] = out.file.str.replace("chb02", case)
    return out


def test_oracle_tunes_on_test_as_the_evaluation_tunes_on_validation():
    """With a test part that is the validation part under another patient's name, the oracle's
    thresholds and test metrics are the evaluation's."""
    preds, seizures, files = fold(3)
    val = preds[preds.part == "val"]
    twin = _renamed(val, "chb09").assign(part="test")
    both = pd.concat([val, twin], ignore_index=True)
    seizures = pd.concat([seizures, _renamed(seizures[seizures.case == "chb02"], "chb09")])
    files = pd.concat([files, _renamed(files[files.case == "chb02"], "chb09")])
    tuned = evaluate_fold(both, seizures, files, split="loso", patients={}, **KW).operating_points
    oracle = oracle_operating_points(both, seizures, files, **KW)
    np.testing.assert_array_equal(oracle.threshold, tuned.threshold)
    for column in ("test_n_caught", "test_fah", "test_time_in_warning", "chance_p"):
        np.testing.assert_array_equal(oracle[column], tuned[column])
    np.testing.assert_array_equal(tuned.test_fah, tuned.val_fah)
    assert not {"val_fah", "val_sensitivity"} & set(oracle.columns)


def test_oracle_recovers_a_patient_offset_that_validation_thresholds_miss():
    """A test patient whose scores sit higher than the validation patient's: validation's
    thresholds raise far too many alarms there; the oracle keeps every target and catches at least
    as many seizures at each."""
    preds, seizures, files = fold(1)
    test = preds.part == "test"
    logit = np.log(preds.score / (1 - preds.score))
    preds.loc[test, "score"] = 1 / (1 + np.exp(-(logit[test] + 5.0)))
    tuned = evaluate_fold(preds, seizures, files, split="loso", patients={}, **KW).operating_points
    oracle = oracle_operating_points(preds, seizures, files, **KW)
    assert (tuned.test_fah > 2 * tuned.target_fah).all()  # the offset breaks every target
    assert (oracle.test_fah <= oracle.target_fah).all()
    assert (oracle.threshold > tuned.threshold).all()
    assert (oracle.test_n_caught >= tuned.test_n_caught).all()
    assert oracle.test_n_caught.iloc[-1] >= 5  # of 6: the risk still ranks the windows well


def test_threshold_transfer_table_summarises_both_tunings(tmp_path):
    paths = []
    for i, (seed, val_case, test_case) in enumerate([(1, "chb02", "chb03"), (2, "chb05", "chb04")]):
        preds, seizures, files = fold(seed, val_case=val_case, test_case=test_case)
        path = tmp_path / f"{i}.parquet"
        meta = {"split": "loso", "fold": test_case, "model": "m", "skipped": None}
        write_parquet(path, preds, metadata={**meta, "data_source": {"kind": "synthetic"}})
        paths.append((path, preds, seizures, files))
    seizures = pd.concat([p[2] for p in paths], ignore_index=True)
    files = pd.concat([p[3] for p in paths], ignore_index=True)
    table = threshold_transfer_table([str(p[0]) for p in paths], seizures, files, patients={}, **KW)
    assert set(table.tuned_on) == {VALIDATION, ORACLE}
    assert len(table) == 2 * len(FAH_TARGETS) and (table.n_folds == 2).all()
    for name, make in (
        (VALIDATION, lambda p: evaluate_fold(*p[1:], split="loso", patients={}, **KW)),
        (ORACLE, lambda p: oracle_operating_points(*p[1:], **KW)),
    ):
        rows = [make(p) for p in paths]
        points = [r.operating_points if name == VALIDATION else r for r in rows]
        caught = sum(p.test_n_caught.to_numpy() for p in points)
        mine = table[table.tuned_on == name].sort_values("target_fah")
        np.testing.assert_array_equal(mine.pooled_n_caught, caught)
        assert (mine.data_source == "synthetic").all()


def test_validation_patient_pairs_read_no_test_window_and_score_like_a_fold(tmp_path):
    """Loso rows tuned on one validation patient and scored on the other: one per ordered pair
    and tie-break, as ``evaluate_fold`` scores the relabelled pair; test scores replaced by noise
    change the validation and oracle rows only."""
    preds, seizures, files = fold(3, val_case="chb02", test_case="chb03", skill=0.6)
    other, other_seizures, other_files = fold(4, val_case="chb02", test_case="chb03", skill=0.6)
    second = _renamed(other[other.part == "val"], "chb05")
    preds = pd.concat([preds, second], ignore_index=True)
    seizures = pd.concat(
        [seizures, _renamed(other_seizures[other_seizures.case == "chb02"], "chb05")]
    )
    files = pd.concat([files, _renamed(other_files[other_files.case == "chb02"], "chb05")])
    seizures, files = seizures.reset_index(drop=True), files.reset_index(drop=True)

    def table_of(predictions):
        path = tmp_path / "fold.parquet"
        meta = {"split": "loso", "fold": "chb03", "model": "m", "skipped": None}
        write_parquet(path, predictions, metadata={**meta, "data_source": {"kind": "s"}})
        return threshold_transfer_table([str(path)], seizures, files, patients={}, **KW)

    table = table_of(preds)
    pairs = table[table.scored_on == OTHER_PATIENT]
    assert set(pairs.tuned_on) == {one_patient(t) for t in TIE_BREAKS}
    assert (pairs.n_folds == 2).all()  # chb02 -> chb05 and chb05 -> chb02
    assert set(table.scored_on[table.tuned_on.isin([VALIDATION, ORACLE])]) == {TEST}
    for tie_break in TIE_BREAKS:
        caught = 0
        for tune_on, score_on in (("chb02", "chb05"), ("chb05", "chb02")):
            pair = preds[preds.case.isin([tune_on, score_on])].copy()
            pair["part"] = np.where(pair.case == tune_on, "val", "test")
            params = replace(PARAMS, tie_break=tie_break)
            kw = {**KW, "params": params}
            points = evaluate_fold(pair, seizures, files, split="loso", patients={}, **kw)
            caught = caught + points.operating_points.test_n_caught.to_numpy()
        mine = pairs[pairs.tuned_on == one_patient(tie_break)].sort_values("target_fah")
        np.testing.assert_array_equal(mine.pooled_n_caught, caught)

    noisy = preds.copy()
    test = noisy.part == "test"
    noisy.loc[test, "score"] = np.random.default_rng(5).random(int(test.sum()))
    again = table_of(noisy)
    same = again.scored_on == OTHER_PATIENT
    pd.testing.assert_frame_equal(
        again[same].reset_index(drop=True),
        table[table.scored_on == OTHER_PATIENT].reset_index(drop=True),
    )
    assert not again[~same].pooled_n_caught.equals(table[~same].pooled_n_caught)
