"""Threshold sweep throughput: one validation sweep (post-processing, alarms, scoring at every
candidate threshold) over a 10,000-window part, the work `evaluate_fold` repeats per FAH target
and surrogate. Reports the median of repeated runs.

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


if __name__ == "__main__":
    main()
