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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import pandas as pd

from preictal.alarms.postprocess import AlarmParams
from preictal.alarms.scoring import PartEvaluator
from preictal.alarms.tuning import threshold_curve, tune_thresholds
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
    picks = tune_thresholds(curve, params.fah_targets)
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
    """``results/tables/threshold_transfer.csv``: per split, model, tuning (``validation`` or
    ``test (oracle)``) and FAH target, the summary across folds (as the alarm ablation's), with
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
    return summarise_by(frames, "tuned_on", params)
