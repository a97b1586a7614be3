"""The seizure prediction characteristic (preictal.evaluate.spc): thresholds from validation only,
the config's own point equal to the fold evaluation, the random predictor beside each point."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from preictal.alarms.postprocess import PLAIN_ALARMS
from preictal.alarms.tuning import threshold_curve, tune_thresholds
from preictal.evaluate.chance import ledger_under
from preictal.evaluate.fold import evaluate_fold
from preictal.evaluate.spc import SpcGrid, fold_spc
from tests.evaluate.test_fold import FAH_TARGETS, LP, PARAMS, fold

GRID = SpcGrid(sop_min=(5, 9.5, 30), sph_sec=(30, 300))
NO_SURROGATES = replace(PARAMS, n_surrogates=0)


# What a loso fold's evaluation and its characteristic share.
FOLD = {
    "split": "loso",
    "patients": {},
    "label_params": LP,
    "alarm_params": PLAIN_ALARMS,
    "params": NO_SURROGATES,
}


def spc(preds, seizures, files, grid=GRID):
    return fold_spc(preds, seizures, files, grid=grid, **FOLD)


def test_the_configs_own_point_equals_the_fold_evaluation():
    preds, seizures, files = fold(1)
    table = spc(preds, seizures, files)
    assert len(table) == 3 * 2 * len(FAH_TARGETS)
    own = table[(table.sop_min == LP.sop_sec / 60) & (table.sph_sec == LP.sph_sec)]
    ev = evaluate_fold(preds, seizures, files, **FOLD).operating_points
    for column in ("target_fah", "threshold", "val_fah", "val_sensitivity"):
        np.testing.assert_array_equal(own[column], ev[column])
    for column in ("test_sensitivity", "test_fah", "test_n_caught", "test_n_seizures_scored"):
        np.testing.assert_array_equal(own[column], ev[column])
    # The random predictor at each point: p = 1 - exp(-FAH * SOP).
    expected = 1 - np.exp(-table.target_fah * table.sop_min * 60 / 3600)
    np.testing.assert_allclose(table.random_sensitivity, expected)
    # ... and at the rate of the fold's chance test (the test FAH where it exceeds the target),
    # which at the config's own point is the p_random of the fold evaluation.
    rate = np.maximum(table.test_fah.fillna(0), table.target_fah)
    np.testing.assert_allclose(
        table.random_sensitivity_at_test_fah, 1 - np.exp(-rate * table.sop_min * 60 / 3600)
    )
    np.testing.assert_allclose(own.random_sensitivity_at_test_fah, ev.p_random)
    assert (table.random_sensitivity_at_test_fah >= table.random_sensitivity).all()


def test_thresholds_at_every_point_come_from_validation_only():
    """Scrambling the test part's risks changes the test results but no threshold; each threshold
    equals a tuning on the validation part alone, under that point's SOP and SPH."""
    preds, seizures, files = fold(2)
    table = spc(preds, seizures, files)
    scrambled = preds.copy()
    test = scrambled.part == "test"
    rng = np.random.default_rng(0)
    scrambled.loc[test, "score"] = rng.permutation(scrambled.score[test].to_numpy())
    other = spc(scrambled, seizures, files)
    pd.testing.assert_frame_equal(
        table[["sop_min", "sph_sec", "target_fah", "threshold", "val_fah", "val_sensitivity"]],
        other[["sop_min", "sph_sec", "target_fah", "threshold", "val_fah", "val_sensitivity"]],
    )
    assert not table.test_sensitivity.equals(other.test_sensitivity)
    val = preds[preds.part == "val"]
    recorded = files[["case", "segment", "start_sec", "end_sec"]]
    for lp in GRID.points(LP):
        ledger = ledger_under(seizures, recorded, lp)
        picks = tune_thresholds(
            threshold_curve(val, ledger, files, lp, PLAIN_ALARMS), PARAMS.fah_targets
        )
        rows = table[(table.sop_min == lp.sop_sec / 60) & (table.sph_sec == lp.sph_sec)]
        np.testing.assert_array_equal(rows.threshold, picks.threshold)


def test_ledger_under_the_run_params_is_the_ledger_and_a_long_sop_needs_more_recording():
    _, seizures, files = fold(3)
    recorded = files[["case", "segment", "start_sec", "end_sec"]]
    same = ledger_under(seizures, recorded, LP)
    pd.testing.assert_frame_equal(same, seizures)
    # An SOP longer than the recording before a seizure leaves it unscorable.
    long = ledger_under(seizures, recorded, replace(LP, preictal_min=24 * 60))
    assert long.scorable.sum() < seizures.scorable.sum()


def test_grid_rejects_repeats_and_non_positive_sops():
    with pytest.raises(ValueError, match="distinct"):
        SpcGrid(sop_min=(5, 5), sph_sec=(30,))
    with pytest.raises(ValueError, match="sop_min > 0"):
        SpcGrid(sop_min=(0,), sph_sec=(30,))
