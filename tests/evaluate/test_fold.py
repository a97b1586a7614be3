"""Per-fold evaluation (thresholds from validation applied to test, chance tests, leakage guard)
and the summary across folds, recomputed from the per-fold rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from preictal.alarms.postprocess import PLAIN_ALARMS
from preictal.alarms.scoring import evaluate_predictions
from preictal.alarms.tuning import threshold_curve, tune_thresholds
from preictal.evaluate.aggregate import summarise
from preictal.evaluate.chance import cohort_chance_test, patient_chance_test, random_predictor_p
from preictal.evaluate.fold import EvalParams, LeakageError, check_parts, evaluate_fold
from preictal.labels import LabelParams, protocol_columns
from tests.alarms.test_alarms import synthetic_part
from tests.evaluate.test_comparisons import labelled

LP = LabelParams()
SOP = LP.preictal_min * 60 - LP.gap_sec
FAH_TARGETS = (0.1, 0.2, 0.5, 1.0)
PARAMS = EvalParams(FAH_TARGETS, n_surrogates=5)


def fold(seed: int, val_case: str = "chb02", test_case: str = "chb03", skill: float = 1.0):
    val, val_seiz, val_files = synthetic_part(seed=seed, case=val_case)
    test, test_seiz, test_files = synthetic_part(seed=seed + 100, case=test_case)
    preds = pd.concat(
        [labelled(val, val_seiz, "val"), labelled(test, test_seiz, "test")], ignore_index=True
    )
    preds["window"] = preds.groupby("case").cumcount()
    # A risk that rises clearly in the 10 minutes before each onset, with mild noise, mixed with
    # pure noise by (1 - skill).
    rng = np.random.default_rng(seed)
    onsets = pd.concat([val_seiz, test_seiz])
    ahead = onsets.onset_sec.to_numpy()[None, :] - preds.end_sec.to_numpy()[:, None]
    same_case = onsets.case.to_numpy()[None, :] == preds.case.to_numpy()[:, None]
    near = (same_case & (ahead > 0) & (ahead <= 600)).any(axis=1)
    risk = 1 / (1 + np.exp(-(rng.normal(-3, 0.5, len(preds)) + 5 * near)))
    preds["score"] = skill * risk + (1 - skill) * rng.random(len(preds))
    return (
        preds,
        pd.concat([val_seiz, test_seiz], ignore_index=True),
        pd.concat([val_files, test_files], ignore_index=True),
    )


def test_leakage_guard():
    preds, _, _ = fold(0)
    check_parts(preds, "loso", {})
    with pytest.raises(LeakageError, match="patients"):
        check_parts(preds, "loso", {"chb02": "p1", "chb03": "p1"})  # one person in both parts
    leaky = preds.copy()
    leaky.loc[leaky.index[:5], "part"] = "test"  # val windows of chb02 moved into test
    with pytest.raises(LeakageError):
        check_parts(leaky, "loso", {})
    with pytest.raises(LeakageError, match="files"):
        check_parts(leaky, "within", {})


def test_thresholds_from_validation_are_applied_unchanged_to_test():
    preds, seizures, files = fold(1)
    ev = evaluate_fold(
        preds,
        seizures,
        files,
        split="loso",
        patients={},
        label_params=LP,
        alarm_params=PLAIN_ALARMS,
        params=PARAMS,
    )
    val, test = preds[preds.part == "val"], preds[preds.part == "test"]
    picks = tune_thresholds(
        threshold_curve(val, seizures, files, LP, PLAIN_ALARMS), PARAMS.fah_targets
    )
    table = ev.operating_points
    assert list(table.target_fah) == list(PARAMS.fah_targets)
    np.testing.assert_array_equal(table.threshold, picks.threshold)
    assert (table.val_fah <= table.target_fah).all()
    for row in table.itertuples():
        m = evaluate_predictions(test, seizures, files, LP, PLAIN_ALARMS, row.threshold).summary()
        assert row.test_sensitivity == m["sensitivity"] and row.test_fah == m["fah"]
        assert row.test_n_seizures_scored == 6
        rate = max(m["fah"], row.target_fah)  # the test FAH, but never below the target
        chance = patient_chance_test(m["n_caught"], 6, rate, SOP, 0.05, len(table))
        assert row.chance_p == chance["p_value"] and row.significant == chance["significant"]
        assert row.chance_fah == rate and row.p_random == random_predictor_p(rate, SOP)
        assert row.window_tp + row.window_fn == (test.y_cls[~test.bad] == 1).sum()
    assert ev.window_metrics["test_auroc"] > 0.8
    # A skilled model on six test seizures: caught beyond chance at the looser targets.
    assert table.significant.iloc[-1]
    assert (table.surrogate_p >= 1 / 6).all() and (table.surrogate_p <= 1).all()
    assert set(ev.test_seizures.target_fah) == set(PARAMS.fah_targets)


def results_for(seed: int, skill: float, fold_name: str) -> pd.DataFrame:
    preds, seizures, files = fold(seed, test_case=fold_name, skill=skill)
    ev = evaluate_fold(
        preds,
        seizures,
        files,
        split="loso",
        patients={},
        label_params=LP,
        alarm_params=PLAIN_ALARMS,
        params=EvalParams(FAH_TARGETS, n_surrogates=0),
    )
    t = ev.operating_points.assign(
        split="loso",
        fold=fold_name,
        model="m",
        skipped=None,
        data_source="synthetic",
        test_auroc=ev.window_metrics["test_auroc"],
        test_auprc=ev.window_metrics["test_auprc"],
    )
    return t


def test_summary_agrees_with_the_per_fold_rows():
    results = pd.concat(
        [
            results_for(2, 1.0, "chb03"),
            results_for(3, 0.6, "chb04"),
            results_for(4, 0.0, "chb05"),
            pd.DataFrame(
                {
                    "split": "loso",
                    "fold": "chb06",
                    "model": "m",
                    "target_fah": PARAMS.fah_targets,
                    "skipped": "too few patients",
                }
            ),
        ],
        ignore_index=True,
    )
    summary = summarise(results, n_boot=500, seed=1)
    assert len(summary) == len(PARAMS.fah_targets)
    for row in summary.itertuples():
        rows = results[(results.target_fah == row.target_fah) & results.skipped.isna()]
        assert row.n_folds == 3
        assert row.sensitivity_mean == pytest.approx(rows.test_sensitivity.mean())
        assert row.sensitivity_std == pytest.approx(rows.test_sensitivity.std(ddof=1))
        assert row.fah_mean == pytest.approx(rows.test_fah.mean())
        assert row.auroc_mean == pytest.approx(rows.test_auroc.mean())
        caught, scored = rows.test_n_caught.sum(), rows.test_n_seizures_scored.sum()
        assert row.pooled_sensitivity == pytest.approx(caught / scored)
        hours = rows.test_interictal_hours.sum()
        assert row.pooled_fah == pytest.approx(rows.test_n_false_alarms.sum() / hours)
        assert row.n_patients_significant == rows.significant.sum()
        assert row.sensitivity_ci_lo <= row.sensitivity_mean <= row.sensitivity_ci_hi
        assert row.data_source == "synthetic"
    # The cohort test uses the per-patient tests' d (the FAH targets chosen on validation).
    assert summary.cohort_d.eq(len(PARAMS.fah_targets)).all()
    for row in summary.itertuples():
        rows = results[
            (results.target_fah == row.target_fah) & (results.test_n_seizures_scored > 0)
        ]
        assert rows.chance_d.eq(len(PARAMS.fah_targets)).all()
        args = (rows.test_n_caught, rows.test_n_seizures_scored, rows.p_random)
        assert row.cohort_p == pytest.approx(cohort_chance_test(*args, d=row.cohort_d)["p_value"])
        assert row.cohort_p >= cohort_chance_test(*args, d=1)["p_value"]
    with pytest.raises(ValueError, match="different d"):
        summarise(results.assign(chance_d=np.where(results.fold == "chb03", 1, 4)))


def test_a_model_whose_folds_were_all_skipped_keeps_its_rows_and_protocol():
    """Under a protocol that leaves no fold to train (e.g. 4-h lead seizures on short recordings)
    the summary still has a row per model and target saying so, with the protocol measured."""
    protocol = protocol_columns(LP)
    skipped = pd.DataFrame(
        {
            "split": "loso",
            "fold": ["chb03"] * len(FAH_TARGETS) + ["chb04"] * len(FAH_TARGETS),
            "model": "n",
            "target_fah": list(FAH_TARGETS) * 2,
            "skipped": "no lead seizure",
            "data_source": "synthetic",
            **protocol,
        }
    )
    # Every fold skipped: the fold rows have no metric columns at all.
    alone = summarise(skipped, n_boot=100, seed=1)
    assert alone.n_folds.eq(0).all() and alone.sop_min.eq(protocol["sop_min"]).all()
    results = pd.concat([results_for(2, 1.0, "chb03"), skipped], ignore_index=True)
    summary = summarise(results, n_boot=100, seed=1)
    none = summary[summary.model == "n"]
    assert sorted(none.target_fah) == sorted(FAH_TARGETS)
    assert none.n_folds.eq(0).all() and none.n_folds_skipped.eq(2).all()
    assert none.sensitivity_mean.isna().all() and none.data_source.eq("synthetic").all()
    for key, value in protocol.items():
        assert none[key].eq(value).all(), key
    trained = summary[summary.model == "m"]
    assert trained.n_folds.eq(1).all() and trained.n_folds_skipped.eq(0).all()
    assert trained.sensitivity_mean.notna().all()


def test_surrogates_reuse_the_alarms_and_equal_a_full_recomputation():
    """surrogate_test detects the alarms once and rebuilds only the scorers; the p-values equal
    those of tuning and testing from scratch against each surrogate ledger."""
    from preictal.alarms.scoring import PartEvaluator
    from preictal.evaluate.chance import surrogate_p_value, surrogate_seizure_times
    from preictal.evaluate.fold import surrogate_test

    preds, seizures, files = fold(3, skill=0.6)
    params = EvalParams(FAH_TARGETS, n_surrogates=9, seed=5)
    val, test = preds[preds.part == "val"], preds[preds.part == "test"]
    observed = np.array([0.5, 0.5, 0.75, 1.0])
    got = surrogate_test(val, test, seizures, files, LP, PLAIN_ALARMS, params, observed)
    columns = ["case", "segment", "start_sec", "end_sec"]
    ledgers = surrogate_seizure_times(seizures, files[columns], n=9, seed=5, label_params=LP)
    values = []
    for ledger in ledgers:
        picks = tune_thresholds(threshold_curve(val, ledger, files, LP, PLAIN_ALARMS), FAH_TARGETS)
        tester = PartEvaluator(test, ledger, files, LP, PLAIN_ALARMS)
        values.append([tester.counts(t)["sensitivity"] for t in picks.threshold])
    values = np.array(values)
    want = [surrogate_p_value(observed[j], values[:, j]) for j in range(len(FAH_TARGETS))]
    np.testing.assert_array_equal(got, want)
    assert len(set(map(tuple, values))) > 1  # the surrogates do move the onsets


def test_default_surrogate_p_value_can_go_below_alpha():
    """With the default surrogate count, a sensitivity above every surrogate's gets a p-value
    well below alpha (19 surrogates had the floor 0.05 = alpha: the test could never reject)."""
    import yaml

    from preictal.evaluate.chance import surrogate_p_value
    from tests.workflow.test_workflow import REPO

    config = yaml.safe_load((REPO / "workflow_config.yaml").read_text())["evaluation"]
    schema = yaml.safe_load((REPO / "schemas/workflow_config.schema.yaml").read_text())
    default = schema["properties"]["evaluation"]["properties"]["n_surrogates"]["default"]
    assert config["n_surrogates"] == default
    floor = surrogate_p_value(1.0, np.zeros(config["n_surrogates"]))
    assert floor == 1 / (config["n_surrogates"] + 1) and floor <= config["alpha"] / 4


def test_a_test_part_without_interictal_time_is_tested_at_the_target_rate():
    """Seizures every 10 minutes leave the test part no interictal time (its FAH is undefined):
    the chance test then uses the target, the rate the threshold was tuned to allow, and the
    summary's cohort test takes the fold instead of failing."""
    from tests.alarms.test_alarms import ledger

    preds, seizures, files = fold(1)
    test_end = files[files.case == "chb03"].end_sec.max()
    dense = ledger(*[(t, t + 30) for t in np.arange(300.0, test_end + 600, 600.0)], case="chb03")
    seizures = pd.concat(
        [seizures[seizures.case != "chb03"], dense.assign(patient="chb03")], ignore_index=True
    )
    ev = evaluate_fold(
        preds,
        seizures,
        files,
        split="loso",
        patients={},
        label_params=LP,
        alarm_params=PLAIN_ALARMS,
        params=EvalParams(FAH_TARGETS, n_surrogates=0),
        window_metrics=False,
    )
    table = ev.operating_points
    assert (table.test_interictal_hours == 0).all() and table.test_fah.isna().all()
    assert (table.test_n_seizures_scored > 0).all()
    np.testing.assert_array_equal(table.chance_fah, FAH_TARGETS)
    np.testing.assert_allclose(table.p_random, [random_predictor_p(t, SOP) for t in FAH_TARGETS])
    rows = pd.concat(
        [
            results_for(2, 1.0, "chb04"),
            table.assign(
                split="loso",
                fold="chb03",
                model="m",
                skipped=None,
                data_source="synthetic",
                test_auroc=np.nan,
                test_auprc=np.nan,
            ),
        ],
        ignore_index=True,
    )
    summary = summarise(rows, n_boot=0)
    assert (summary.n_patients_tested == 2).all() and summary.cohort_p.between(0, 1).all()


def test_alarm_tables_can_leave_the_window_metrics_out():
    """The alarm ablation and threshold transfer need no window AUROC: without it the operating
    points are the same and a part with one class raises no warning."""
    import warnings

    preds, seizures, files = fold(1)
    kwargs = {
        "split": "loso",
        "patients": {},
        "label_params": LP,
        "alarm_params": PLAIN_ALARMS,
        "params": EvalParams(FAH_TARGETS, n_surrogates=0),
    }
    full = evaluate_fold(preds, seizures, files, **kwargs)
    alarms_only = evaluate_fold(preds, seizures, files, window_metrics=False, **kwargs)
    pd.testing.assert_frame_equal(full.operating_points, alarms_only.operating_points)
    assert alarms_only.window_metrics == {} and full.window_metrics["test_auroc"] > 0.8
    one_class = preds[(preds.part == "val") | (preds.y_cls != 0)]  # no interictal test window
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        evaluate_fold(one_class, seizures, files, window_metrics=False, **kwargs)
    with pytest.warns(UserWarning, match="test windows"):
        evaluate_fold(one_class, seizures, files, **kwargs)
