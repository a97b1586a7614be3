"""Acceptance of the models on the synthetic default (6 cases, 5 patients, 6 h per case, with the
confounds of docs/SYNTHETIC_DATA.md: patients and seizures of different predictability, preictal-like
interictal episodes, drowsiness). The default is built to be hard in the ways real EEG is, so the
tests check the properties of that design (issue 14), not near-perfect scores:

- cross-patient (loso), the feature baselines are above the range expected by chance but below
  0.9 window AUROC; within-patient forecasting beats cross-patient;
- the false-alarm targets are real operating points: in most loso folds the four FAH targets give
  at least three distinct thresholds, and more false alarms buy more sensitivity;
- on the negative control (``synthetic.effect_size: 0``) the validation and test AUROCs and the
  alarms stay in the range expected by chance. This is the leakage guard: a model that sees its
  test patient, or windows next to its test windows, scores above chance on the negative control.

The range expected by chance, per fold and part, is the 2.5-97.5 % range of the AUROC under
`preictal.evaluate.window_metrics.rotation_null`: each case's label sequence rotated against its scores,
which keeps the strong autocorrelation of both (overlapping windows; ten minutes of preictal
windows per seizure, so the effective sample size is a few seizures, not thousands of windows). A
textbook AUROC standard error from the window counts would be far too narrow. Per fold the null
runs from about 0.3 to 0.7 on this data for loso parts, and much wider for the short
within-patient parts.

Both runs take a few minutes each on 2 cores. They are module fixtures: the README runs the suite
with `--dist loadfile`, so that each runs once (xdist's `xdist_group` does not group with pytest
9.2 and xdist 3.8: grouped tests still went to both workers).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.stats import binom, combine_pvalues, norm

from preictal.evaluate.final_summary import best_model
from tests.workflow.test_workflow import REPO, snakemake

pytestmark = pytest.mark.workflow

TABLE = "results/tables/window_auroc.csv"
MODELS = ["logreg", "mlp", "xgboost", "fusion"]
EVALUATION = yaml.safe_load((REPO / "workflow_config.yaml").read_text())["evaluation"]
SELECTION_FAH = EVALUATION["selection_fah"]
ALPHA = EVALUATION["alpha"]


def window_auroc(work) -> pd.DataFrame:
    table = pd.read_csv(work / TABLE)
    return table[table.skipped.isna()]


SUMMARIES = ["results/loso_summary.csv", "results/within_summary.csv"]
SPC = "results/tables/spc_loso.csv"


@pytest.fixture(scope="module")
def effect_work(tmp_path_factory):
    """The default config, evaluated at the window and the alarm level."""
    work = tmp_path_factory.mktemp("effect")
    snakemake(work, TABLE, *SUMMARIES, SPC, config={})
    return work


@pytest.fixture(scope="module")
def effect(effect_work) -> pd.DataFrame:
    return window_auroc(effect_work)


@pytest.fixture(scope="module")
def null_work(tmp_path_factory):
    """The negative control, evaluated at the alarm level too (thresholds, chance tests)."""
    work = tmp_path_factory.mktemp("null")
    snakemake(work, TABLE, *SUMMARIES, config={"synthetic": {"effect_size": 0.0}})
    return work


@pytest.fixture(scope="module")
def null(null_work) -> pd.DataFrame:
    return window_auroc(null_work)


def folds_of(table: pd.DataFrame, split: str, model: str, part: str) -> pd.DataFrame:
    """The folds with an AUROC: trained, and both classes in the part (a within-patient test part
    can hold no preictal window when its seizure is not a lead seizure)."""
    rows = table[(table.split == split) & (table.model == model) & (table.part == part)]
    rows = rows.dropna(subset=["auroc"])
    assert len(rows) >= 4, f"{split}/{model}: only {len(rows)} folds with an AUROC"
    return rows


FEATURE_BASELINES = ["logreg", "mlp", "xgboost"]


@pytest.mark.parametrize("model", FEATURE_BASELINES)
def test_feature_baselines_forecast_across_patients_above_chance_but_not_easily(effect, model):
    """Loso test window AUROC jointly above chance over the folds (Fisher's combination of the
    per-fold rotation p-values, each at least 1/201) and below 0.9 on average: the confounds keep
    cross-patient forecasting hard. (The mean of the folds' 97.5 % null points, about 0.7, is not
    the chance range of a mean over five folds, which is narrower.)"""
    test = folds_of(effect, "loso", model, "test")
    assert test.auroc.mean() < 0.9, test[["fold", "auroc", "null_hi"]]
    assert combine_pvalues(test.p_chance, method="fisher").pvalue < 1e-4


@pytest.mark.parametrize("split", ["loso", "within"])
@pytest.mark.parametrize("model", MODELS)
def test_every_model_is_jointly_above_chance(effect, split, model):
    """Fisher's combination of the per-fold rotation p-values at the 1 % level. Within-patient
    test parts hold one seizure each (four lead seizures per case), hence a wide chance range per
    fold; FusionNet's cross-patient forecasting is issue 17's."""
    test = folds_of(effect, split, model, "test")
    assert combine_pvalues(test.p_chance, method="fisher").pvalue < 1e-2, test[["fold", "auroc"]]


@pytest.mark.parametrize("model", MODELS)
def test_within_patient_beats_cross_patient(effect, model):
    """Part of each patient's change is its own (band and electrodes): a model trained on the
    patient's earlier seizures sees it, one trained on other patients does not."""
    within = folds_of(effect, "within", model, "test").auroc.mean()
    loso = folds_of(effect, "loso", model, "test").auroc.mean()
    assert within > loso


def test_false_alarm_targets_are_distinct_operating_points(effect_work):
    """The four FAH targets are real operating points. For the model chosen on validation: in
    most loso folds they give at least three distinct thresholds. For logreg, the simplest model:
    at least two per fold on average (on data without preictal-like interictal episodes every
    fold got one). Logreg's count of folds with three is on a knife edge: in fold chb04 the FAH
    0.5 target gets its own threshold only if the validation part (13.6 interictal hours) has 6
    false alarms at it, not 7 (0.51/h): 3 of 5 folds in one CI run, 2 of 5 in every run since
    with unchanged baseline code, 4 of 5 with the lowest of equal thresholds (2026-12-06). For both: the pooled test sensitivity at the largest target is
    above that at the smallest (a larger false-alarm budget buys sensitivity)."""
    results = pd.read_csv(effect_work / "results/loso_results.csv")
    results = results[results.skipped.isna()]
    summary = pd.read_csv(effect_work / "results/loso_summary.csv").set_index(
        ["model", "target_fah"]
    )
    lowest, highest = min(results.target_fah), max(results.target_fah)
    chosen = best_model(results, SELECTION_FAH)
    for model in {chosen, "logreg"}:
        distinct = results[results.model == model].groupby("fold").threshold.nunique()
        assert len(distinct) == 5, (model, distinct)
        if model == chosen:
            assert (distinct >= 3).sum() > len(distinct) / 2, (model, distinct)
        else:
            assert distinct.mean() >= 2, (model, distinct)
        pooled = summary.pooled_sensitivity
        assert pooled[(model, highest)] > pooled[(model, lowest)], (model, pooled.loc[model])


def test_spc_thresholds_come_from_validation_at_every_grid_point(effect_work):
    """spc_loso.csv on the default run: for the chosen model's folds, each grid point's threshold
    is a tuning on that fold's validation predictions alone, under the point's SOP and SPH; the
    random predictor's sensitivity is beside every point. About 20 s."""
    from preictal.alarms.postprocess import AlarmParams
    from preictal.alarms.tuning import threshold_curve, tune_thresholds
    from preictal.evaluate.chance import ledger_under
    from preictal.evaluate.spc import SpcGrid
    from preictal.labels import LabelParams

    config = yaml.safe_load((REPO / "workflow_config.yaml").read_text())
    grid = SpcGrid(**config["evaluation"]["spc"])
    targets = config["evaluation"]["fah_targets"]
    spc = pd.read_csv(effect_work / SPC)
    assert len(spc) == len(MODELS) * len(grid.sop_min) * len(grid.sph_sec) * len(targets)
    assert spc.random_sensitivity.between(0, 1).all() and spc.n_folds.eq(5).all()
    folds = pd.read_csv(effect_work / "results/tables/spc_loso_folds.csv")
    results = pd.read_csv(effect_work / "results/loso_results.csv")
    model = best_model(results, SELECTION_FAH)
    ledgers = pd.concat(
        pd.read_parquet(p)
        for p in sorted((effect_work / "results/labels").glob("*_seizures.parquet"))
    )
    files = pd.concat(
        pd.read_parquet(p) for p in sorted((effect_work / "results/index").glob("*/files.parquet"))
    )
    alarms = AlarmParams(**config["alarms"])
    for fold in sorted(folds.fold.unique())[:2]:
        preds = pd.read_parquet(
            effect_work / f"results/folds/loso/{fold}/{model}/predictions.parquet"
        )
        val = preds[preds.part == "val"]
        for lp in grid.points(LabelParams(**config["labels"])):
            ledger = ledger_under(ledgers, files, lp)
            curve = threshold_curve(
                val, ledger, files, lp, alarms, n_thresholds=config["evaluation"]["n_thresholds"]
            )
            picks = tune_thresholds(curve, targets, config["evaluation"]["tie_break"])
            rows = folds[
                (folds.fold == fold)
                & (folds.model == model)
                & np.isclose(folds.sop_min, lp.sop_sec / 60)
                & (folds.sph_sec == lp.sph_sec)
            ].sort_values("target_fah")
            np.testing.assert_allclose(rows.threshold, picks.threshold, err_msg=f"{fold} {lp}")


def test_app_fah_presets_are_distinct_operating_points(effect_work, monkeypatch):
    """In the replay app on the realistic default, the FAH preset buttons set the thresholds tuned
    on validation, and in a fold where those differ they change what the app shows."""
    from tests.app.test_app import open_app, shown

    results = pd.read_csv(effect_work / "results/loso_results.csv")
    model = best_model(results, SELECTION_FAH)
    rows = results[(results.model == model) & results.threshold.notna()]
    distinct = rows.groupby("fold").threshold.nunique()
    fold = distinct.idxmax()
    assert distinct[fold] >= 3
    app = open_app(effect_work / "results", monkeypatch)
    app.selectbox(key="split").select("loso").run()
    app.selectbox(key="fold").select(fold).run()
    app.selectbox(key="model").select(model).run()
    alarms = {}
    for row in rows[rows.fold == fold].itertuples():
        app.button(key=f"preset_{row.target_fah:g}").click().run()
        assert not app.exception
        assert app.session_state["threshold"] == row.threshold
        assert shown(app)["threshold"] == pytest.approx(row.threshold, abs=5e-5)
        # With the evaluation's post-processing, the whole test part shows the evaluation's FAH.
        text = next(m.value for m in app.markdown if 'id="app-alarm-count"' in m.value)
        assert f"part: FAH {row.test_fah:.2f}" in text
        alarms[row.target_fah] = shown(app)["alarms"]
    assert len(set(alarms.values())) >= 2, alarms  # the presets change what the app shows
    assert alarms[max(alarms)] >= alarms[min(alarms)]


def test_negative_control_stays_within_chance(null):
    """Outside the per-fold 95 % null range: at most what a binomial of the cells allows (they
    are not independent, models share folds, so the bound is loose on purpose), and no model is
    jointly above chance over its folds: Fisher's combination of the folds' p-values above 1e-3,
    and the mean AUROC over the folds within the two-sided 99.9 % chance range of such a mean.

    That range comes from the folds' own null ranges (a fold's null standard deviation taken as
    its 95 % range / 3.92, the folds independent): about +-0.15 for the loso parts, whose null
    spans about 0.3-0.7 per fold, but +-0.23-0.31 for within-patient parts. Those hold one
    10-min preictal block at the end of 3-75 min of interictal windows, so any slow change of
    the scores moves their AUROC far either way (effect 0: logreg's within validation AUROCs
    0.15-0.85, null ranges up to 0.03-0.97); a fixed +-0.15 failed there by chance."""
    cells = null.dropna(subset=["auroc"])
    assert len(cells) >= 60
    outside = ((cells.auroc < cells.null_lo) | (cells.auroc > cells.null_hi)).sum()
    assert outside <= binom.ppf(0.999, len(cells), 0.05), cells[["split", "fold", "model", "auroc"]]
    z = norm.ppf(1 - 1e-3 / 2)
    for (split, model, part), rows in cells.groupby(["split", "model", "part"]):
        p = combine_pvalues(rows.p_chance, method="fisher").pvalue
        assert p > 1e-3, f"{split}/{model}/{part}: above chance on the negative control ({p})"
        fold_sd = (rows.null_hi - rows.null_lo) / (2 * norm.ppf(0.975))
        centre = ((rows.null_hi + rows.null_lo) / 2).mean()
        half_range = z * np.sqrt((fold_sd**2).sum()) / len(rows)
        assert abs(rows.auroc.mean() - centre) < half_range, (
            split,
            model,
            part,
            rows.auroc.tolist(),
            centre,
            half_range,
        )


def test_effect_alarms_beat_chance_over_the_cohort(effect_work):
    """At the selection target (the d-corrected random-predictor test, d = 4 targets), the loso
    cohort test rejects at the workflow's level (``evaluation.alpha``) for the model chosen on
    validation and for every feature baseline. Until 2026-12-06 this asked for 1 %, which
    logistic regression met (p 0.008) only under the EMA alone, a post-processing default chosen
    after seeing test numbers; under the variant chosen on validation its p was 0.031 (0.036 with
    no post-processing), both with the highest of equal thresholds; with the lowest, the default
    since, 4e-4 (docs/EVALUATION.md). Not met on the realistic default, and said in
    docs/SYNTHETIC_DATA.md: most patients significant one by one (four test seizures per patient,
    one patient nearly unpredictable), and any within-patient chance test (one test seizure per
    patient: the test has no power)."""
    results = pd.read_csv(effect_work / "results/loso_results.csv")
    chosen = best_model(results, SELECTION_FAH)
    summary = pd.read_csv(effect_work / "results/loso_summary.csv")
    loso = summary[np.isclose(summary.target_fah, SELECTION_FAH)].set_index("model")
    for model in {chosen, *FEATURE_BASELINES}:
        row = loso.loc[model]
        assert row.n_patients_tested == 5
        assert row.cohort_p < ALPHA, (model, row)


@pytest.mark.parametrize("split", ["loso", "within"])
def test_fusion_is_not_below_the_best_feature_baseline(effect_work, split):
    """Issue 17: at the selection target, FusionNet's mean window AUROC and its pooled alarm
    sensitivity are not below the best feature baseline's 95 % interval (bootstrap over
    patients). The numbers of the default run are in docs/TRAINING.md."""
    summary = pd.read_csv(effect_work / f"results/{split}_summary.csv")
    at = summary[np.isclose(summary.target_fah, SELECTION_FAH)].set_index("model")
    baselines = at.loc[list(FEATURE_BASELINES)]
    fusion = at.loc["fusion"]
    best_auroc = baselines.loc[baselines.auroc_mean.idxmax()]
    assert fusion.auroc_mean >= best_auroc.auroc_ci_lo, (fusion.auroc_mean, best_auroc)
    best_sensitivity = baselines.loc[baselines.pooled_sensitivity.idxmax()]
    assert fusion.pooled_sensitivity >= best_sensitivity.sensitivity_ci_lo, (
        fusion.pooled_sensitivity,
        best_sensitivity,
    )


@pytest.mark.parametrize("split", ["loso", "within"])
def test_negative_control_alarms_stay_at_chance(null_work, split):
    """Issue 5's synthetic check: without a preictal effect no more fold/model/target cells come
    out significant (d-corrected random-predictor test) or rejected by the seizure-time surrogates
    (p <= 0.05, which with 19 surrogates happens with probability 1/20 under the null) than a
    binomial of the cells allows, and no cohort test rejects."""
    results = pd.read_csv(null_work / f"results/{split}_results.csv")
    results = results[results.skipped.isna()]
    assert len(results) >= 60
    assert results.significant.sum() <= binom.ppf(0.999, len(results), 0.05)
    surrogate = results.surrogate_p.dropna()
    assert len(surrogate) >= 60
    assert (surrogate <= 0.05).sum() <= binom.ppf(0.999, len(surrogate), 0.05)
    summary = pd.read_csv(null_work / f"results/{split}_summary.csv")
    assert len(summary) == 16 and (summary.cohort_p > 1e-3).all()


def test_effect_and_null_differ_by_more_than_chance(effect, null):
    """The test is not vacuous: the same models and folds lose their skill without the effect."""
    for split in ("loso", "within"):
        with_effect = effect[(effect.split == split) & (effect.part == "test")].auroc.mean()
        without = null[(null.split == split) & (null.part == "test")].auroc.mean()
        assert with_effect - without > 0.15
        assert np.isfinite(without)
