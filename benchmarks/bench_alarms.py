"""Threshold sweep throughput: one validation sweep (post-processing, alarms, scoring at every
candidate threshold) over a 10,000-window part, the work `evaluate_fold` repeats per FAH target
and surrogate. Reports the median of repeated runs. Then the seizure-time surrogate test of one
fold (`preictal.evaluate.fold.surrogate_test`, alarms detected once, scorers rebuilt per
surrogate) against the reference that tunes and tests from scratch per surrogate, measured in the
same run, per surrogate and for 19 and 99 surrogates.

    .venv/bin/python -m benchmarks.bench_alarms   (from the repository root: it reuses the tests' synthetic part)
"""

from __future__ import annotations

import statistics
import time

from tests.alarms.test_alarms import synthetic_part

from preictal.alarms.postprocess import AlarmParams
from preictal.alarms.tuning import threshold_curve
from preictal.labels import LabelParams


def main(repeats: int = 5) -> None:
    pred, seizures, files = synthetic_part(hours=10_000 * 5 / 3600)
    params = AlarmParams(smoothing="ema", persistence_k=3, hysteresis=0.8)
    threshold_curve(pred, seizures, files, LabelParams(), params)  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        curve = threshold_curve(pred, seizures, files, LabelParams(), params)
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    print(
        f"{len(pred)} windows, {len(curve)} thresholds: median {median:.3f} s per sweep, "
        f"{len(pred) * len(curve) / median:,.0f} window-thresholds/s"
    )


def surrogates(n_values=(19, 99)) -> None:
    from tests.evaluate.test_fold import FAH_TARGETS, LP, fold

    from preictal.alarms.postprocess import PLAIN_ALARMS
    from preictal.alarms.scoring import PartEvaluator
    from preictal.alarms.tuning import tune_thresholds
    from preictal.evaluate.chance import surrogate_seizure_times
    from preictal.evaluate.fold import EvalParams, surrogate_test

    preds, seizures, files = fold(3, skill=0.6)
    val, test = preds[preds.part == "val"], preds[preds.part == "test"]
    observed = [0.5] * len(FAH_TARGETS)
    columns = ["case", "segment", "start_sec", "end_sec"]
    n_ref = min(n_values)
    t0 = time.perf_counter()
    for ledger in surrogate_seizure_times(
        seizures, files[columns], n=n_ref, seed=0, label_params=LP
    ):
        curve = threshold_curve(val, ledger, files, LP, PLAIN_ALARMS)
        tester = PartEvaluator(test, ledger, files, LP, PLAIN_ALARMS)
        [tester.counts(t) for t in tune_thresholds(curve, FAH_TARGETS).threshold]
    reference = (time.perf_counter() - t0) / n_ref
    print(f"surrogates on a {len(val)} + {len(test)}-window fold:")
    print(f"  reference (from scratch per surrogate): {reference:.3f} s per surrogate")
    for n in n_values:
        params = EvalParams(FAH_TARGETS, n_surrogates=n, seed=0)
        t0 = time.perf_counter()
        surrogate_test(val, test, seizures, files, LP, PLAIN_ALARMS, params, observed)
        total = time.perf_counter() - t0
        print(
            f"  surrogate_test, {n} surrogates: {total:.2f} s ({total / n:.3f} s per surrogate, "
            f"{reference * n / total:.2f}x the reference)"
        )


if __name__ == "__main__":
    main()
    surrogates()
