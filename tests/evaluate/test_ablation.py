"""The alarm ablation: every post-processing variant tuned on validation and applied to test,
ranked on validation only, and the variant the `alarms` default follows."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from preictal.alarms.postprocess import PLAIN_ALARMS, AlarmParams
from preictal.evaluate.ablation import (
    ABLATION,
    alarm_ablation_table,
    configured_variant,
    validation_choice,
)
from preictal.evaluate.fold import evaluate_fold
from preictal.io import write_parquet
from tests.evaluate.test_fold import FAH_TARGETS, fold
from tests.evaluate.test_transfer import KW  # plain alarms, no surrogates


def _ablation(tmp_path, folds) -> pd.DataFrame:
    paths, seizures, files = [], [], []
    for i, (preds, seiz, fls) in enumerate(folds):
        path = tmp_path / f"{i}.parquet"
        meta = {"split": "loso", "fold": f"f{i}", "model": "m", "skipped": None}
        write_parquet(path, preds, metadata={**meta, "data_source": {"kind": "synthetic"}})
        paths.append(str(path))
        seizures.append(seiz)
        files.append(fls)
    return alarm_ablation_table(
        paths,
        pd.concat(seizures, ignore_index=True),
        pd.concat(files, ignore_index=True),
        patients={},
        selection_fah=0.5,
        **KW,
    )


def weak_fold(seed: int, val_case: str, test_case: str):
    """A fold whose risk rises by only 1 logit (sd 1) in the 10 minutes before each onset, so
    that the variants differ on validation (the risk of ``fold`` is near perfect)."""
    preds, seizures, files = fold(seed, val_case, test_case)
    ahead = seizures.onset_sec.to_numpy()[None, :] - preds.end_sec.to_numpy()[:, None]
    same_case = seizures.case.to_numpy()[None, :] == preds.case.to_numpy()[:, None]
    near = (same_case & (ahead > 0) & (ahead <= 600)).any(axis=1)
    logit = np.random.default_rng(seed).normal(0, 1, len(preds)) + 1.0 * near
    return preds.assign(score=1 / (1 + np.exp(-logit))), seizures, files


def test_ablation_ranks_the_variants_on_validation_and_never_on_test(tmp_path):
    folds = [weak_fold(1, "chb02", "chb03"), weak_fold(2, "chb05", "chb04")]
    table = _ablation(tmp_path, folds)
    assert set(table.variant) == set(ABLATION)
    at = table[table.target_fah == 0.5]
    assert at.val_sensitivity_mean.nunique() > 1  # the ranking has something to rank
    assert len(table) == len(ABLATION) * len(FAH_TARGETS)

    # The validation means are those of the folds' own evaluations.
    for name in ("none", "smoothing+persistence+hysteresis"):
        alarms = replace(PLAIN_ALARMS, **ABLATION[name])
        points = [
            evaluate_fold(*f, split="loso", patients={}, **{**KW, "alarm_params": alarms})
            .operating_points.set_index("target_fah")
            .val_sensitivity
            for f in folds
        ]
        mine = table[table.variant == name].set_index("target_fah").val_sensitivity_mean
        np.testing.assert_allclose(mine[list(FAH_TARGETS)], sum(points)[list(FAH_TARGETS)] / 2)

    for _, g in table.groupby("target_fah"):
        assert sorted(g.val_rank) == list(range(1, len(ABLATION) + 1))
        best = g[g.val_rank == 1].iloc[0]
        assert best.val_sensitivity_mean == g.val_sensitivity_mean.max()
    # One model, one split: the choice is the top of the ranking at the selection target.
    chosen = set(table.variant[table.chosen_on_validation])
    assert chosen == {validation_choice(table, 0.5)} == set(at.variant[at.val_rank == 1])

    # Test scores replaced by noise: the test columns move, the ranking and the choice do not.
    noisy = []
    for preds, seiz, fls in folds:
        preds = preds.copy()
        test = preds.part == "test"
        preds.loc[test, "score"] = np.random.default_rng(9).random(int(test.sum()))
        noisy.append((preds, seiz, fls))
    again = _ablation(tmp_path, noisy)
    assert not again.pooled_n_caught.equals(table.pooled_n_caught)
    pd.testing.assert_series_equal(again.val_rank, table.val_rank)
    pd.testing.assert_series_equal(again.chosen_on_validation, table.chosen_on_validation)


def test_validation_choice_averages_over_models_and_splits_then_breaks_ties():
    rows = [
        # split, model, variant, target, validation sensitivity, validation FAH
        ("loso", "a", "none", 0.5, 0.4, 0.3),
        ("loso", "b", "none", 0.5, 0.6, 0.3),
        ("loso", "a", "smoothing", 0.5, 0.7, 0.3),
        ("loso", "b", "smoothing", 0.5, 0.3, 0.3),
        ("within", "a", "persistence", 0.5, 0.2, 0.0),
        ("loso", "a", "persistence", 1.0, 0.99, 0.0),  # another target: not counted
    ]
    columns = ["split", "model", "variant", "target_fah", "val_sensitivity_mean", "val_fah_mean"]
    table = pd.DataFrame(rows, columns=columns)
    assert validation_choice(table, 0.5) == "none"  # equal: the earlier (simpler) one
    table.loc[3, "val_fah_mean"] = 0.2
    assert validation_choice(table, 0.5) == "smoothing"  # equal sensitivity, fewer false alarms
    table.loc[1, "val_sensitivity_mean"] = 0.61
    assert validation_choice(table, 0.5) == "none"
    assert validation_choice(table.assign(val_sensitivity_mean=np.nan), 0.5) is None


@pytest.mark.parametrize("name", list(ABLATION))
def test_configured_variant_names_the_ablation_variant_of_the_alarm_settings(name):
    assert configured_variant(replace(AlarmParams(), **ABLATION[name])) == name


def test_configured_variant_is_none_outside_the_ablation():
    assert configured_variant(AlarmParams(smoothing="moving_average")) is None
