"""Replay app responsiveness: seconds per re-render of app/app.py (streamlit's AppTest, the whole
script including the figure) after a threshold change, a post-processing change, a new file and
a new EEG view, on an existing results folder (by default the synthetic default's `results/`).
The reference is the first, cold run in the same process (nothing cached). Not a test: run it by
hand and paste its table into docs/PERFORMANCE.md.

    python benchmarks/bench_app.py [--results results] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from preictal.replay import Results, Run

APP = str(Path(__file__).resolve().parents[1] / "app" / "app.py")


def timed(step) -> float:
    t = time.perf_counter()
    step()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    os.environ["PREICTAL_RESULTS"] = str(Path(args.results).resolve())
    at = AppTest.from_file(APP, default_timeout=300)
    cold = timed(at.run)
    assert not at.exception, [e.message for e in at.exception]
    run = Run(*(at.session_state[k] for k in ("split", "fold", "model")))
    stops = [float(x) for x in Results(os.environ["PREICTAL_RESULTS"]).candidate_thresholds(run)]
    files = at.selectbox(key="file").options
    views = at.selectbox(key="view").options
    steps = {
        "threshold": lambda i: (
            at.select_slider(key="threshold").set_value(stops[(i * 37) % len(stops)]).run()
        ),
        "preset": lambda i: at.button(key="preset_0.5").click().run(),
        "toggle EMA": lambda i: at.toggle(key="ema").set_value(i % 2 == 0).run(),
        "file": lambda i: at.selectbox(key="file").select(files[1 + i % (len(files) - 1)]).run(),
        "EEG view": lambda i: at.selectbox(key="view").select(views[i % len(views)]).run(),
    }
    print(f"results: {args.results}; cold first run (nothing cached): {cold:.2f} s")
    print("| change | median s | max s | runs |")
    print("| --- | --- | --- | --- |")
    for name, step in steps.items():
        times = [timed(lambda i=i, step=step: step(i)) for i in range(args.repeats)]
        assert not at.exception, [e.message for e in at.exception]
        print(f"| {name} | {statistics.median(times):.2f} | {max(times):.2f} | {len(times)} |")


if __name__ == "__main__":
    main()
