"""Evaluation of one fold and model: thresholds tuned on validation for each false-alarm target,
applied unchanged to test; alarm metrics, window metrics and chance-level tests at each operating
point (docs/EVALUATION.md).

Validation-only steps (threshold tuning here, temperature scaling in `preictal.evaluate.calibration`) get
the validation rows only, and `check_parts` asserts that validation and test share no patient
(loso) or no file (within) before anything is computed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from preictal.alarms.postprocess import AlarmParams
from preictal.alarms.scoring import PartEvaluator
from preictal.alarms.tuning import (
    TIE_BREAKS,
    candidate_thresholds,
    curve_of,
    threshold_curve,
    tune_thresholds,
)
from preictal.evaluate.calibration import calibration_report
from preictal.evaluate.chance import (
    improvement_over_chance,
    patient_chance_test,
    random_predictor_p,
    surrogate_p_value,
    surrogate_seizure_times,
)
from preictal.evaluate.window_metrics import auroc_auprc
from preictal.labels import LabelParams, protocol_columns


@dataclass(frozen=True)
class EvalParams:
    """What one fold's evaluation needs of the ``evaluation`` config (the bootstrap of the
    summary is not here: changing it never re-evaluates a fold)."""

    fah_targets: tuple[float, ...]  # false alarms per interictal hour: the one list of targets
    alpha: float = 0.05  # significance level of the chance tests
    n_surrogates: int = 99  # seizure-time surrogates per fold (0 = off); p floor 1/(n + 1)
    seed: int = 0  # of the surrogates
    n_thresholds: int = 200  # candidate thresholds of the validation sweep
    tie_break: str = "lowest"  # among thresholds of equal validation sensitivity (TIE_BREAKS)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fah_targets", tuple(float(t) for t in self.fah_targets))
        if self.tie_break not in TIE_BREAKS:
            raise ValueError(f"evaluation.tie_break: one of {TIE_BREAKS}, not {self.tie_break!r}")


class LeakageError(AssertionError):
    """Validation and test overlap: a validation-only step would see test data."""


def check_parts(preds: pd.DataFrame, split: str, patients: Mapping[str, str]) -> None:
    """Assert that the validation and test rows share no patient (loso) or no file and no window
    (within)."""
    parts = {p: preds[preds.part == p] for p in ("val", "test")}
    if split == "loso":
        who = {p: {patients.get(c, c) for c in f.case.astype(str)} for p, f in parts.items()}
        if who["val"] & who["test"]:
            raise LeakageError(f"loso: patients in validation and test: {who['val'] & who['test']}")
    else:
        files = {
            p: set(zip(f.case.astype(str), f.file.astype(str), strict=True))
            for p, f in parts.items()
        }
        if files["val"] & files["test"]:
            raise LeakageError(
                f"within: files in validation and test: {files['val'] & files['test']}"
            )
    keys = {p: set(zip(f.case.astype(str), f.window, strict=True)) for p, f in parts.items()}
    if keys["val"] & keys["test"]:
        raise LeakageError("windows in both validation and test")


def chance_rate(test_fah: float, target_fah: float) -> float:
    """The false-alarm rate of the random predictor a fold is compared with: the larger of the
    test FAH and the target. A test part with an hour or two of interictal time often measures
    FAH 0, which would make a single caught seizure "significant" against a predictor that never
    alarms; the target is the rate the threshold was tuned to allow, and the rate used alone where
    the test part has no interictal time (its FAH is undefined)."""
    if not np.isfinite(test_fah):
        return float(target_fah)
    return max(float(test_fah), float(target_fah))


@dataclass
class FoldEvaluation:
    operating_points: pd.DataFrame  # one row per FAH target
    val_curve: pd.DataFrame  # the validation threshold sweep
    test_seizures: pd.DataFrame  # per target and test seizure: caught, time to warning
    test_alarms: pd.DataFrame  # per target and test alarm: time and kind
    window_metrics: dict  # AUROC / AUPRC of validation and test


def window_confusion(evaluator: PartEvaluator, preds: pd.DataFrame, threshold: float) -> dict:
    """Confusion counts of the labelled, good windows at ``threshold`` on the (post-processed)
    risk that raises the alarms."""
    s = evaluator.series
    y = preds.y_cls.to_numpy()[s.row]
    keep = s.good & np.isin(y, (0, 1))
    hit = evaluator.smoothed[keep] >= threshold
    y = y[keep] == 1
    return {
        "tp": int((hit & y).sum()),
        "fp": int((hit & ~y).sum()),
        "fn": int((~hit & y).sum()),
        "tn": int((~hit & ~y).sum()),
    }


def score_operating_points(
    tester: PartEvaluator,
    test: pd.DataFrame,
    picks: pd.DataFrame,
    *,
    sop_sec: float,
    params: EvalParams,
    d: int,
) -> tuple[list[dict], list[pd.DataFrame], list[pd.DataFrame]]:
    """The test part scored at each tuned threshold of ``picks`` (``tune_thresholds``): one row
    of metrics and chance tests per target (``d``: the operating points chosen, for the
    d-corrected test), and the seizures and alarms of each."""
    rows, seizure_tables, alarm_tables = [], [], []
    for pick in picks.itertuples():
        m = tester.metrics(pick.threshold)
        summary = m.summary()
        chance_fah = chance_rate(summary["fah"], pick.target_fah)
        chance = patient_chance_test(
            summary["n_caught"], summary["n_seizures_scored"], chance_fah, sop_sec, params.alpha, d
        )
        rows.append(
            {
                "target_fah": pick.target_fah,
                "threshold": pick.threshold,
                "flag": pick.flag,
                "val_fah": pick.fah,
                "val_sensitivity": pick.sensitivity,
                "val_time_in_warning": pick.time_in_warning,
                **{f"test_{k}": v for k, v in summary.items()},
                "chance_fah": chance_fah,
                "p_random": random_predictor_p(chance_fah, sop_sec),
                "chance_sensitivity": chance["chance_sensitivity"],
                "chance_p": chance["p_value"],
                "chance_d": d,  # operating points chosen on validation (d-correction)
                "significant": chance["significant"],
                "ioc": improvement_over_chance(summary["sensitivity"], summary["time_in_warning"]),
                **{
                    f"window_{k}": v
                    for k, v in window_confusion(tester, test, pick.threshold).items()
                },
            }
        )
        seizure_tables.append(m.seizures.assign(target_fah=pick.target_fah))
        alarm_tables.append(m.alarms.assign(target_fah=pick.target_fah))
    return rows, seizure_tables, alarm_tables


def evaluate_fold(
    preds: pd.DataFrame,
    seizures: pd.DataFrame,
    files: pd.DataFrame,
    *,
    split: str,
    patients: Mapping[str, str],
    label_params: LabelParams,
    alarm_params: AlarmParams,
    params: EvalParams,
    n_choices: int | None = None,
    window_metrics: bool = True,
) -> FoldEvaluation:
    """Tune on validation, apply to test. ``n_choices`` is the d of the d-corrected chance test
    (the number of operating points chosen on validation); by default the number of targets.
    ``window_metrics=False`` leaves out the window AUROC and AUPRC (tables about alarms only)."""
    check_parts(preds, split, patients)
    lp = label_params
    d = n_choices or len(params.fah_targets)
    val, test = preds[preds.part == "val"], preds[preds.part == "test"]
    curve = threshold_curve(
        val, seizures, files, lp, alarm_params, n_thresholds=params.n_thresholds
    )
    picks = tune_thresholds(curve, params.fah_targets, params.tie_break)
    tester = PartEvaluator(test, seizures, files, lp, alarm_params)
    rows, seizure_tables, alarm_tables = score_operating_points(
        tester, test, picks, sop_sec=lp.sop_sec, params=params, d=d
    )
    table = pd.DataFrame(rows).assign(**protocol_columns(lp))  # what was measured
    table["n_choices"] = d
    if params.n_surrogates:
        table["surrogate_p"] = surrogate_test(
            val, test, seizures, files, lp, alarm_params, params, table.test_sensitivity.to_numpy()
        )
    window = {}
    for part, p in (("val", val), ("test", test)) if window_metrics else ():
        labelled = p[p.y_cls.isin([0, 1])]
        window[f"{part}_auroc"], window[f"{part}_auprc"] = auroc_auprc(
            labelled.y_cls.to_numpy(), labelled.score.to_numpy(), f"{part} windows"
        )
        window[f"{part}_n_pos"] = int((labelled.y_cls == 1).sum())
        window[f"{part}_n_neg"] = int((labelled.y_cls == 0).sum())
    return FoldEvaluation(
        table,
        curve,
        pd.concat(seizure_tables, ignore_index=True),
        pd.concat(alarm_tables, ignore_index=True),
        window,
    )


def trained_predictions(paths: Sequence[str]) -> Iterator[tuple[dict, pd.DataFrame]]:
    """``(metadata, predictions)`` of each fold and model in ``paths`` that was trained (skipped
    folds and empty predictions left out): what the re-scorings of stored predictions read."""
    from preictal.io import read_parquet_metadata

    for path in paths:
        meta = read_parquet_metadata(path)
        preds = pd.read_parquet(path)
        if not meta.get("skipped") and not preds.empty:
            yield meta, preds


class Rescorer:
    """One fold's validation and test parts prepared for scoring against other seizure ledgers
    or label parameters (surrogates, the seizure prediction characteristic). Smoothing, candidate
    thresholds and alarms do not depend on the seizures: they are computed once here, and each
    ``retune`` rebuilds only the scorers (the same curves as ``threshold_curve``)."""

    def __init__(
        self,
        val: pd.DataFrame,
        test: pd.DataFrame,
        seizures: pd.DataFrame,
        files: pd.DataFrame,
        label_params: LabelParams,
        alarm_params: AlarmParams,
        params: EvalParams,
    ) -> None:
        self.val_part = PartEvaluator(val, seizures, files, label_params, alarm_params)
        self.thresholds = np.sort(
            candidate_thresholds(
                self.val_part.smoothed, self.val_part.series.good, params.n_thresholds
            )
        )
        self.val_alarms = [self.val_part.detector.alarms(t) for t in self.thresholds]
        self.test_part = PartEvaluator(test, seizures, files, label_params, alarm_params)
        self.targets = params.fah_targets
        self.tie_break = params.tie_break

    def retune(
        self, ledger: pd.DataFrame, label_params: LabelParams
    ) -> tuple[pd.DataFrame, PartEvaluator]:
        """Thresholds tuned on validation against ``ledger`` under ``label_params`` (one row per
        FAH target, as ``tune_thresholds``), and the test part scored against the same."""
        val_part = self.val_part.with_seizures(ledger, label_params)
        curve = curve_of(val_part, self.thresholds, self.val_alarms)
        picks = tune_thresholds(curve, self.targets, self.tie_break)
        return picks, self.test_part.with_seizures(ledger, label_params)


def surrogate_test(
    val: pd.DataFrame,
    test: pd.DataFrame,
    seizures: pd.DataFrame,
    files: pd.DataFrame,
    label_params: LabelParams,
    alarm_params: AlarmParams,
    params: EvalParams,
    observed: np.ndarray,
) -> np.ndarray:
    """Per target, the seizure-time surrogate p-value of the test sensitivity: seizure onsets of
    every case permuted (Andrzejak et al. 2003), then tuning on validation and evaluation on test
    rerun against the surrogate onsets."""
    columns = ["case", "segment", "start_sec", "end_sec"] + ["patient"] * ("patient" in files)
    surrogates = surrogate_seizure_times(
        seizures, files[columns], n=params.n_surrogates, seed=params.seed, label_params=label_params
    )
    values = np.full((len(surrogates), len(params.fah_targets)), np.nan)
    rescorer = Rescorer(val, test, seizures, files, label_params, alarm_params, params)
    for i, ledger in enumerate(surrogates):
        picks, tester = rescorer.retune(ledger, label_params)
        values[i] = [tester.counts(t)["sensitivity"] for t in picks.threshold]
    return np.array(
        [
            surrogate_p_value(observed[j], values[:, j]) if np.isfinite(observed[j]) else np.nan
            for j in range(len(params.fah_targets))
        ]
    )


def fold_results_row(
    evaluation: FoldEvaluation, meta: Mapping, test_cases: Sequence[str]
) -> pd.DataFrame:
    """The fold's rows of loso_results / within_results: one per target, with the fold's window
    metrics and identity columns first."""
    table = evaluation.operating_points
    ident = {
        "split": meta.get("split"),
        "fold": meta.get("fold"),
        "model": meta.get("model"),
        "patient": meta.get("fold"),
        "test_cases": ",".join(test_cases),
        **evaluation.window_metrics,
    }
    return pd.concat([pd.DataFrame([ident] * len(table)), table.reset_index(drop=True)], axis=1)


def training_base_rate(split_manifest: Mapping) -> float:
    """Share of preictal among the labelled training windows of the fold (before any
    subsampling): the reference of the Brier skill score."""
    train = split_manifest["counts"]["train"]
    return train["n_pos"] / (train["n_pos"] + train["n_neg"])


def run_evaluate_fold(
    predictions_path: str,
    split_manifest: Mapping,
    model_manifest: Mapping,
    seizures: pd.DataFrame,
    files: pd.DataFrame,
    *,
    patients: Mapping[str, str],
    label_params: LabelParams,
    alarm_params: AlarmParams,
    params: EvalParams,
    data_source: Mapping,
    out: Mapping[str, str],
) -> pd.DataFrame:
    """Evaluate one fold and model and write ``out`` (results, curve, seizures, alarms); a
    skipped fold writes one row per target saying why, and empty tables."""
    from preictal.io import atomic_path, write_parquet

    meta = {
        "split": model_manifest.get("split"),
        "fold": model_manifest.get("fold"),
        "model": model_manifest.get("model"),
        "data_source": data_source.get("kind"),
    }
    skipped = model_manifest.get("skipped") or split_manifest.get("skipped")
    preds = pd.read_parquet(predictions_path)
    if not skipped and preds.empty:
        skipped = "no predictions"
    protocol = protocol_columns(label_params)
    if skipped:
        results = pd.DataFrame(
            [{**meta, "target_fah": t, "skipped": skipped, **protocol} for t in params.fah_targets]
        )
        evaluation = None
    else:
        evaluation = evaluate_fold(
            preds,
            seizures,
            files,
            split=meta["split"],
            patients=patients,
            label_params=label_params,
            alarm_params=alarm_params,
            params=params,
        )
        test_cases = sorted(set(preds.case[preds.part == "test"].astype(str)))
        results = fold_results_row(evaluation, meta, test_cases)
        results["data_source"] = meta["data_source"]
        results["skipped"] = None
        calibration = calibration_report(preds, training_base_rate(split_manifest))
        calibration.insert(0, "model", meta["model"])
        calibration.insert(0, "fold", meta["fold"])
        calibration.insert(0, "split", meta["split"])
        calibration["data_source"] = meta["data_source"]
    with atomic_path(out["results"]) as tmp:
        results.to_csv(tmp, index=False)
    with atomic_path(out["calibration"]) as tmp:
        (calibration if evaluation else pd.DataFrame()).to_csv(tmp, index=False)
    with atomic_path(out["curve"]) as tmp:
        (evaluation.val_curve if evaluation else pd.DataFrame()).to_csv(tmp, index=False)
    # The post-processing goes with the alarms, so that the replay app starts from it.
    alarms = asdict(alarm_params)
    for key, table in (("seizures", "test_seizures"), ("alarms", "test_alarms")):
        frame = getattr(evaluation, table) if evaluation else pd.DataFrame()
        write_parquet(out[key], frame, metadata={**meta, "skipped": skipped, "alarms": alarms})
    return results
