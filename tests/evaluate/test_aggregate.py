"""The intervals of the summary tables: a Student-t interval over folds (patients), because with
five folds a percentile bootstrap of the mean covers far less than its nominal 95 %."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from preictal.evaluate.aggregate import bootstrap_ci, fold_interval


def test_fold_interval_is_the_student_t_interval_of_the_mean():
    v = np.array([0.5, 0.75, 0.25, 1.0, np.nan, 0.5])  # NaN folds (no scored seizure) left out
    finite = v[np.isfinite(v)]
    half = stats.t.ppf(0.975, 4) * finite.std(ddof=1) / np.sqrt(5)
    assert fold_interval(v) == pytest.approx((finite.mean() - half, finite.mean() + half))
    # Clipped to the metric's range (a sensitivity never leaves [0, 1]); one fold has none.
    lo, hi = fold_interval(np.array([1.0, 1.0, 0.75, 1.0]), bounds=(0.0, 1.0))
    assert 0.0 <= lo < hi == 1.0
    assert np.isnan(fold_interval(np.array([0.5, np.nan]))).all()
    assert fold_interval(np.array([0.5, 0.5, 0.5])) == (0.5, 0.5)


def test_with_five_folds_the_t_interval_covers_95_percent_and_the_bootstrap_does_not():
    """2000 sets of five normal fold values, true mean 0.5: the t interval covers the mean in
    95 % (binomial sd 0.5 %); the percentile bootstrap of the mean, which the tables used
    before, in about 85 %."""
    rng = np.random.default_rng(0)
    sets = rng.normal(0.5, 0.1, size=(2000, 5))
    t_cover = np.mean([lo <= 0.5 <= hi for lo, hi in map(fold_interval, sets)])
    boot = [bootstrap_ci(s, 500, np.random.default_rng(i)) for i, s in enumerate(sets)]
    boot_cover = np.mean([lo <= 0.5 <= hi for lo, hi in boot])
    assert 0.935 <= t_cover <= 0.965
    assert boot_cover < 0.9
