"""The seizure prediction characteristic (Maiwald et al. 2004): sensitivity as a function of the
false-alarm bound, the seizure occurrence period (SOP) and the prediction horizon (SPH), from the
stored predictions of every fold, without retraining (docs/EVALUATION.md#seizure-prediction-characteristic).

At each grid point the seizure ledger's lead and scorable flags are recomputed for that SOP and
SPH, the thresholds are tuned on the validation part at each FAH target, exactly as
``evaluate_fold`` does, and the test part is scored with them. The alarms themselves do not depend
on SOP or SPH, so each fold detects them once; only the scorers are rebuilt per point. Beside each
point: the analytic random predictor's sensitivity at that FAH bound and SOP (Schelter et al.
2006). The models were trained with the config's preictal definition; the other points re-score
them under other definitions, and say so (``trained_sop_min``, ``trained_sph_sec``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from preictal.alarms.postprocess import AlarmParams
from preictal.alarms.scoring import SECONDS_PER_HOUR
from preictal.evaluate.chance import ledger_under, random_predictor_p
from preictal.evaluate.fold import (
    EvalParams,
    Rescorer,
    chance_rate,
    check_parts,
    trained_predictions,
)
from preictal.labels import LabelParams, protocol_columns


@dataclass(frozen=True)
class SpcGrid:
    """The SOP (min) and SPH (s) values of the characteristic (``evaluation.spc``); the FAH
    targets are the evaluation's."""

    sop_min: tuple[float, ...]
    sph_sec: tuple[float, ...]

    def __post_init__(self) -> None:
        for name in ("sop_min", "sph_sec"):
            values = tuple(float(v) for v in getattr(self, name))
            if not values or len(set(values)) != len(values):
                raise ValueError(f"evaluation.spc.{name}: need distinct values, got {values}")
            object.__setattr__(self, name, values)
        if min(self.sop_min) <= 0 or min(self.sph_sec) < 0:
            raise ValueError("evaluation.spc: need sop_min > 0 and sph_sec >= 0")

    def points(self, label_params: LabelParams) -> list[LabelParams]:
        """The label parameters of each grid point: SOP and SPH set, the rest as configured."""
        return [
            replace(label_params, preictal_min=(sop * 60 + sph) / 60, gap_sec=sph)
            for sop in self.sop_min
            for sph in self.sph_sec
        ]


def fold_spc(
    preds: pd.DataFrame,
    seizures: pd.DataFrame,
    files: pd.DataFrame,
    *,
    split: str,
    patients: Mapping[str, str],
    label_params: LabelParams,
    alarm_params: AlarmParams,
    params: EvalParams,
    grid: SpcGrid,
) -> pd.DataFrame:
    """One row per grid point and FAH target of one fold: the threshold tuned on validation, its
    validation FAH and sensitivity, the test counts at that threshold and the random predictor's
    sensitivity."""
    check_parts(preds, split, patients)  # validation and test never overlap
    val, test = preds[preds.part == "val"], preds[preds.part == "test"]
    rescorer = Rescorer(val, test, seizures, files, label_params, alarm_params, params)
    rows = []
    for lp in grid.points(label_params):
        picks, tester = rescorer.retune(ledger_under(seizures, files, lp), lp)
        for pick in picks.itertuples():
            counts = tester.counts(pick.threshold)
            rows.append(
                {
                    "sop_min": lp.sop_sec / 60,
                    "sph_sec": lp.sph_sec,
                    "target_fah": pick.target_fah,
                    "threshold": pick.threshold,
                    "flag": pick.flag,
                    "val_fah": pick.fah,
                    "val_sensitivity": pick.sensitivity,
                    "test_n_seizures_scored": counts["n_seizures_scored"],
                    "test_n_caught": counts["n_caught"],
                    "test_sensitivity": counts["sensitivity"],
                    "test_n_false_alarms": counts["n_false_alarms"],
                    "test_interictal_hours": tester.scorer.interictal_sec / SECONDS_PER_HOUR,
                    "test_fah": counts["fah"],
                    "random_sensitivity": random_predictor_p(pick.target_fah, lp.sop_sec),
                    # At the rate the fold's chance test uses: a test FAH above the target
                    # (thresholds from other patients) raises the chance of a catch.
                    "random_sensitivity_at_test_fah": random_predictor_p(
                        chance_rate(counts["fah"], pick.target_fah), lp.sop_sec
                    ),
                }
            )
    return pd.DataFrame(rows)


def spc_tables(
    prediction_paths: Sequence[str],
    seizures: pd.DataFrame,
    files: pd.DataFrame,
    *,
    patients: Mapping[str, str],
    label_params: LabelParams,
    alarm_params: AlarmParams,
    params: EvalParams,
    grid: SpcGrid,
    data_source: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(folds, characteristic)``: the rows of ``fold_spc`` for every fold and model with
    predictions, and per model, grid point and FAH target the pooled characteristic (caught over
    scored test seizures of all folds, false alarms over interictal hours) beside the random
    predictor's sensitivity. Both carry the protocol columns of each point and the training
    definition."""
    frames = []
    for meta, preds in trained_predictions(prediction_paths):
        rows = fold_spc(
            preds,
            seizures,
            files,
            split=meta["split"],
            patients=patients,
            label_params=label_params,
            alarm_params=alarm_params,
            params=params,
            grid=grid,
        )
        frames.append(rows.assign(split=meta["split"], fold=meta["fold"], model=meta["model"]))
    trained = {
        "trained_sop_min": label_params.sop_sec / 60,
        "trained_sph_sec": label_params.sph_sec,
    }
    fixed = {
        k: v for k, v in protocol_columns(label_params).items() if k not in ("sop_min", "sph_sec")
    }
    meta_columns = {**trained, **fixed, "data_source": data_source}
    if not frames:
        return pd.DataFrame(columns=["split", "fold", "model"]), pd.DataFrame(
            columns=["split", "model", "sop_min", "sph_sec", "target_fah", "n_folds"]
        )
    folds = pd.concat(frames, ignore_index=True).assign(**meta_columns)
    first = ["split", "fold", "model", "sop_min", "sph_sec", "target_fah"]
    folds = folds[first + [c for c in folds if c not in first]]
    keys = ["split", "model", "sop_min", "sph_sec", "target_fah"]
    pooled = []
    for key, g in folds.groupby(keys, sort=True):
        scored = g.test_n_seizures_scored.sum()
        hours = g.test_interictal_hours.sum()
        pooled.append(
            {
                **dict(zip(keys, key, strict=True)),
                "n_folds": len(g),
                "n_folds_flagged": int((g.flag.fillna("") != "").sum()),
                "pooled_n_seizures": int(scored),
                "pooled_n_caught": int(g.test_n_caught.sum()),
                "pooled_sensitivity": g.test_n_caught.sum() / scored if scored else np.nan,
                "sensitivity_mean": float(g.test_sensitivity.mean()),
                "pooled_fah": g.test_n_false_alarms.sum() / hours if hours else np.nan,
                "random_sensitivity": float(g.random_sensitivity.iloc[0]),
                # Seizures a random predictor at each fold's test rate would catch, of all scored.
                "random_sensitivity_at_test_fah": (
                    float((g.random_sensitivity_at_test_fah * g.test_n_seizures_scored).sum())
                    / scored
                    if scored
                    else np.nan
                ),
            }
        )
    characteristic = pd.DataFrame(pooled).assign(**meta_columns)
    return folds, characteristic
