"""Threshold transfer: how much of a model's alarm performance is lost because its thresholds are
tuned on other data than it is applied to (docs/EVALUATION.md).

For every fold, the operating points of the evaluation (thresholds tuned on validation, applied to
test) stand beside an **oracle**: thresholds tuned on the test part itself, by the same sweep and
rule. The oracle sees the test seizures, so it is a diagnostic and never a result: its numbers
bound what any way of setting a threshold from data the model has not been tested on could reach
with the same risk series, and its chance p-values are optimistic (the threshold was chosen on
the seizures it is tested on). Cross-patient (loso) models shift each patient's scores, so a
threshold from validation patients may raise the alarm too often in one test patient and too
seldom in another although the risk ranks that patient's windows well; the gap between the two
rows says how much.

A third kind of row never reads a test window: in each loso fold, the thresholds tuned on one
validation patient and scored on another (every ordered pair), under each tie-break of
``tune_thresholds``. It measures, on patients the model was not trained on, how thresholds
carried from one patient to another fare, and it is what chose the tie-break default
(docs/EVALUATION.md, "Which of equal thresholds").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from preictal.alarms.postprocess import AlarmParams
from preictal.alarms.scoring import PartEvaluator
from preictal.alarms.tuning import TIE_BREAKS, threshold_curve, tune_thresholds
from preictal.evaluate.ablation import fold_rows, summarise_by
from preictal.evaluate.fold import (
    EvalParams,
    evaluate_fold,
    score_operating_points,
    trained_predictions,
)
from preictal.labels import LabelParams, protocol_columns

VALIDATION = "validation"
ORACLE = "test (oracle)"
TEST = "test"
OTHER_PATIENT = "another validation patient"


def one_patient(tie_break: str) -> str:
    """``tuned_on`` of the rows tuned on one validation patient with ``tie_break``."""
    return f"one validation patient (tie {tie_break})"


def oracle_operating_points(
    preds: pd.DataFrame,
    seizures: pd.DataFrame,
    files: pd.DataFrame,
    *,
    label_params: LabelParams,
    alarm_params: AlarmParams,
    params: EvalParams,
) -> pd.DataFrame:
    """The oracle's operating points of one fold: the thresholds ``evaluate_fold`` would pick if
    the test part were its validation part, scored on that test part (one row per target, the
    columns of ``evaluate_fold`` without the validation ones)."""
    test = preds[preds.part == "test"]
    curve = threshold_curve(
        test, seizures, files, label_params, alarm_params, n_thresholds=params.n_thresholds
    )
    picks = tune_thresholds(curve, params.fah_targets, params.tie_break)
    tester = PartEvaluator(test, seizures, files, label_params, alarm_params)
    rows, _, _ = score_operating_points(
        tester,
        test,
        picks,
        sop_sec=label_params.sop_sec,
        params=params,
        d=len(params.fah_targets),
    )
    table = pd.DataFrame(rows).drop(columns=["val_fah", "val_sensitivity", "val_time_in_warning"])
    return table.assign(**protocol_columns(label_params))


def threshold_transfer_table(
    prediction_paths: Sequence[str],
    seizures: pd.DataFrame,
    files: pd.DataFrame,
    *,
    patients: Mapping[str, str],
    label_params: LabelParams,
    alarm_params: AlarmParams,
    params: EvalParams,
) -> pd.DataFrame:
    """``results/tables/threshold_transfer.csv``: per split, model, tuning (``tuned_on``:
    ``validation``, ``test (oracle)`` or, loso only, ``one validation patient (tie ...)``), the
    part scored (``scored_on``: ``test``, or for the last the other validation patient) and FAH
    target, the summary across folds or validation-patient pairs (as the alarm ablation's), with
    the alarm post-processing of the config."""
    no_surrogates = replace(params, n_surrogates=0)
    frames = []
    for meta, preds in trained_predictions(prediction_paths):
        kwargs = {"label_params": label_params, "alarm_params": alarm_params}
        tuned = evaluate_fold(
            preds,
            seizures,
            files,
            split=meta["split"],
            patients=patients,
            params=no_surrogates,
            window_metrics=False,
            **kwargs,
        ).operating_points
        oracle = oracle_operating_points(preds, seizures, files, params=no_surrogates, **kwargs)
        rows = pd.concat(
            [tuned.assign(tuned_on=VALIDATION), oracle.assign(tuned_on=ORACLE)],
            ignore_index=True,
        )
        frames.append(fold_rows(rows, meta))
        if meta["split"] == "loso":
            frames += validation_pair_rows(
                preds, seizures, files, meta, patients, no_surrogates, kwargs
            )
    table = summarise_by(frames, "tuned_on", params)
    if table.empty:
        return table
    scored = {VALIDATION: TEST, ORACLE: TEST}
    table.insert(3, "scored_on", table.tuned_on.map(scored).fillna(OTHER_PATIENT))
    return table


def validation_pair_rows(
    preds: pd.DataFrame,
    seizures: pd.DataFrame,
    files: pd.DataFrame,
    meta: Mapping,
    patients: Mapping[str, str],
    params: EvalParams,
    kwargs: Mapping,
) -> list[pd.DataFrame]:
    """One loso fold's validation part only: for every ordered pair of its patients and every
    tie-break, the thresholds tuned on the first patient and scored on the second, as
    ``evaluate_fold`` does (its leakage guard included). The test rows are dropped first."""
    val = preds[preds.part == "val"]
    patient = val.case.astype(str).map(lambda c: patients.get(c, c))
    frames = []
    for tune_on in sorted(set(patient)):
        for score_on in sorted(set(patient) - {tune_on}):
            pair = val[patient.isin([tune_on, score_on])]
            pair = pair.assign(part=np.where(patient[pair.index] == tune_on, "val", "test"))
            for tie_break in TIE_BREAKS:
                rows = evaluate_fold(
                    pair,
                    seizures,
                    files,
                    split="loso",
                    patients=patients,
                    params=replace(params, tie_break=tie_break),
                    window_metrics=False,
                    **kwargs,
                ).operating_points
                pair_meta = {**meta, "fold": f"{meta['fold']}: {tune_on} -> {score_on}"}
                frames.append(fold_rows(rows.assign(tuned_on=one_patient(tie_break)), pair_meta))
    return frames
