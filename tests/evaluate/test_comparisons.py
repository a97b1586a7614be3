"""Variant comparison: ranking on validation only, threshold carried from validation to test, and
test numbers hidden for all but the chosen variant of a sweep."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from preictal.alarms.postprocess import PLAIN_ALARMS
from preictal.alarms.scoring import PartEvaluator
from preictal.alarms.tuning import threshold_curve, tune_thresholds
from preictal.evaluate.comparisons import comparison_table, rank_variants, variant_of
from preictal.labels import LabelParams
from tests.alarms.test_alarms import synthetic_part

LP = LabelParams()


def labelled(pred: pd.DataFrame, seizures: pd.DataFrame, part: str) -> pd.DataFrame:
    ahead = seizures.onset_sec.to_numpy()[None, :] - pred.end_sec.to_numpy()[:, None]
    preictal = ((ahead > LP.gap_sec) & (ahead <= LP.preictal_min * 60)).any(axis=1)
    return pred.assign(part=part, y_cls=preictal.astype(np.int8))


@pytest.fixture(scope="module")
def fold_data():
    val, val_seiz, val_files = synthetic_part(seed=1, case="chb02")
    test, test_seiz, test_files = synthetic_part(seed=2, case="chb03")
    preds = pd.concat(
        [labelled(val, val_seiz, "val"), labelled(test, test_seiz, "test")], ignore_index=True
    )
    return (
        preds,
        pd.concat([val_seiz, test_seiz], ignore_index=True),
        pd.concat([val_files, test_files], ignore_index=True),
    )


def write_variants(tmp_path, preds, variants) -> list[str]:
    """Predictions per variant: score = the informative score mixed with noise by ``weight``."""
    rng = np.random.default_rng(0)
    noise = rng.random(len(preds))
    paths = []
    for name, weight in variants.items():
        path = tmp_path / "comparisons/sweep/loso/chb03" / name / "predictions.parquet"
        path.parent.mkdir(parents=True)
        preds.assign(score=weight * preds.score + (1 - weight) * noise).to_parquet(path)
        paths.append(str(path))
    return paths


def test_variant_of_reads_fold_and_variant():
    path = "results/comparisons/losses/loso/chb05/focal_g2_drop0.4/predictions.parquet"
    assert variant_of(path) == ("chb05", "focal_g2_drop0.4")


@pytest.mark.parametrize("test", ["all", "chosen"])
def test_best_validation_variant_is_chosen(fold_data, tmp_path, test):
    preds, seizures, files = fold_data
    paths = write_variants(tmp_path, preds, {"noise": 0.0, "good": 1.0, "mixed": 0.3})
    alarms = replace(PLAIN_ALARMS, refractory_min=20)
    table = comparison_table(
        paths,
        seizures,
        files,
        label_params=LP,
        alarm_params=alarms,
        fah_target=0.5,
        test=test,
        data_source="synthetic",
    )
    assert list(table.variant) == ["good", "mixed", "noise"]
    assert list(table["rank"]) == [1, 2, 3] and list(table.chosen) == [True, False, False]
    good = table.iloc[0]
    assert good.val_auroc > 0.9 and 0.35 < table.iloc[2].val_auroc < 0.65
    # The test threshold is the validation pick, and the test numbers are its evaluation.
    val = preds[preds.part == "val"]
    pick = tune_thresholds(threshold_curve(val, seizures, files, LP, alarms), [0.5]).iloc[0]
    assert good.val_threshold == good.test_threshold == pick.threshold
    assert good.val_sensitivity == pick.sensitivity and good.val_fah <= 0.5
    counts = PartEvaluator(preds[preds.part == "test"], seizures, files, LP, alarms).counts(
        pick.threshold
    )
    assert good.test_sensitivity == counts["sensitivity"] and good.test_fah == counts["fah"]
    hidden = table.loc[~table.chosen, ["test_auroc", "test_sensitivity", "test_threshold"]]
    assert hidden.isna().all().all() == (test == "chosen")
    assert hidden.notna().all().all() == (test == "all")
    assert (table.data_source == "synthetic").all()


def test_ranking_by_mean_validation_sensitivity_then_auprc():
    table = pd.DataFrame(
        {
            "variant": ["a", "a", "b", "b", "c", "c", "d", "e", "e"],
            "val_sensitivity": [0.5, 0.5, 1.0, 0.0, 1.0, 0.5, np.nan, 0.5, 0.5],
            "val_auprc": [0.3, 0.3, 0.6, 0.6, 0.1, 0.1, 0.9, 0.3, 0.3],
        }
    )
    # c: mean sens 0.75; b and a and e: 0.5, b has the best AUPRC, a and e tie (config order);
    # d has no validation seizure.
    assert rank_variants(table) == {"c": 1, "b": 2, "a": 3, "e": 4, "d": 5}


def test_skipped_fold_ranks_last(fold_data, tmp_path):
    preds, seizures, files = fold_data
    paths = write_variants(tmp_path, preds, {"good": 1.0})
    empty = tmp_path / "comparisons/sweep/loso/chb03/skipped/predictions.parquet"
    empty.parent.mkdir(parents=True)
    pd.DataFrame(columns=["case", "window", "part", "y_cls", "score"]).to_parquet(empty)
    table = comparison_table(
        [str(empty), *paths],
        seizures,
        files,
        label_params=LP,
        alarm_params=PLAIN_ALARMS,
        fah_target=0.5,
    )
    assert list(table.variant) == ["good", "skipped"]
    assert table.iloc[1].val_auroc != table.iloc[1].val_auroc  # NaN
