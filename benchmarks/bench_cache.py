"""Cache-stage throughput: seconds per 1-hour CHB-MIT-shaped EDF per core, by stage, against the
library-default pipeline (MNE read_raw_edf + raw.filter + raw.notch_filter + mne-features) on the
same file. Not a test: run it by hand and paste its table into docs/PERFORMANCE.md.

    python benchmarks/bench_cache.py [--hours 1] [--repeats 3] [--skip-reference]

One core: BLAS/FFT threads are limited to 1 before numpy is imported. Peak memory is measured in a
fresh subprocess per file length (VmHWM), for 1-hour and 4-hour files.
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from preictal.cache.store import PreprocessParams, build_case_cache, preprocess, read_canonical  # noqa: E402
from preictal.cache.windows import WindowParams, build_window_table  # noqa: E402
from preictal.chbmit.edf import read_edf_header  # noqa: E402
from preictal.features.table import build_feature_table  # noqa: E402
from preictal.io import write_parquet  # noqa: E402
from preictal.signal.montage import plan_montage  # noqa: E402
from preictal.synthetic.dataset import patient_profile, write_edf  # noqa: E402
from preictal.synthetic.params import ArtifactRates, PreictalEffect  # noqa: E402
from preictal.synthetic.plan import STANDARD_MONTAGE, SyntheticSpec  # noqa: E402
from preictal.synthetic.signals import synthesize_recording  # noqa: E402

SFREQ = 256.0
FEATURE_SET = "basic_plus"


def make_edf(path: Path, hours: float) -> None:
    """A CHB-MIT-shaped file: 23 channels (T8-P8 twice), 256 Hz, 16-bit, with one seizure."""
    spec = SyntheticSpec()
    data, _ = synthesize_recording(
        labels=STANDARD_MONTAGE,
        duration_sec=hours * 3600,
        sfreq=SFREQ,
        profile=patient_profile(spec, "chb01"),
        effect=PreictalEffect(),
        seizures=[(hours * 1800.0, hours * 1800.0 + 60.0)],
        artifacts=ArtifactRates(),
        rng=np.random.default_rng(0),
    )
    write_edf(path, data, STANDARD_MONTAGE, SFREQ)


def run_pipeline(edf: Path, out: Path) -> dict[str, float]:
    """The cache stage on one file with the library calls of the rules, stage by stage.

    ``read`` and ``filter`` time those steps alone on the whole file (for the breakdown); the
    rule streams them piece by piece with margins, and ``preprocess_case`` times that rule's call
    (read + filter + float16 store) as it runs in the workflow. The total is the workflow's path:
    preprocess_case + windows + features + write."""
    t = {}
    header = read_edf_header(edf)
    plan = plan_montage(header.labels)
    t0 = time.perf_counter()
    raw, rate = read_canonical(edf, plan, header=header)
    t["read"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    preprocess(raw, rate, PreprocessParams())
    t["filter"] = time.perf_counter() - t0
    del raw

    files = pd.DataFrame({"file": [edf.name], "start_sec": [0.0], "segment": [0]})
    t0 = time.perf_counter()
    build_case_cache(
        "chb00", files, edf.parent, out, PreprocessParams(), data_source={"kind": "bench"}
    )
    t["preprocess_case"] = time.perf_counter() - t0

    blocks = pd.read_parquet(out / "blocks.parquet")
    t0 = time.perf_counter()
    windows = build_window_table(
        str(out / "signal.npy"),
        blocks,
        SFREQ,
        WindowParams(),
        pd.read_parquet(out / "flat.parquet"),
    )
    t["windows"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    feats = build_feature_table(
        str(out / "signal.npy"), blocks, SFREQ, w_sec=10, step_sec=5, feature_set=FEATURE_SET
    )
    t["features"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    write_parquet(out / "windows.parquet", windows)
    write_parquet(out / "features.parquet", feats, use_dictionary=False)
    t["write"] = time.perf_counter() - t0
    t["total"] = t["preprocess_case"] + t["windows"] + t["features"] + t["write"]
    return t


def run_reference(edf: Path) -> dict[str, float]:
    """The library-default pipeline on the same file and windows."""
    import mne
    from mne_features.feature_extraction import extract_features

    t = {}
    t0 = time.perf_counter()
    raw = mne.io.read_raw_edf(edf, preload=True, verbose="error")
    raw.pick(list(range(18)))  # the first 18 channels are the canonical ones in this montage
    t["read"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    raw.filter(0.5, 45, verbose="error")
    raw.notch_filter(60, verbose="error")
    t["filter"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    x = raw.get_data() * 1e6
    w, step = int(10 * SFREQ), int(5 * SFREQ)
    starts = np.arange(0, x.shape[1] - w + 1, step)
    epochs = np.stack([x[:, s : s + w] for s in starts])
    t["windows"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    funcs = {
        "pow_freq_bands",
        "line_length",
        "spect_entropy",
        "hjorth_mobility",
        "hjorth_complexity",
        "variance",
        "kurtosis",
        "spect_edge_freq",
    }
    params = {
        "pow_freq_bands__freq_bands": np.array([0.5, 4, 8, 12, 30, 45]),
        "pow_freq_bands__normalize": False,
    }
    extract_features(epochs, SFREQ, funcs, funcs_params=params, n_jobs=1)
    t["features"] = time.perf_counter() - t0
    t["write"] = 0.0
    t["preprocess_case"] = t["read"] + t["filter"]
    t["total"] = t["read"] + t["filter"] + t["windows"] + t["features"]
    return t


def best_of(fn, repeats: int, *args) -> dict[str, float]:
    runs = [fn(*args) for _ in range(repeats)]
    return min(runs, key=lambda r: r["total"])


def run_workflow_path(edf: Path, out: Path) -> None:
    """Only what the rules run (preprocess_case, windows_case, features_case), for peak memory."""
    files = pd.DataFrame({"file": [edf.name], "start_sec": [0.0], "segment": [0]})
    build_case_cache("chb00", files, edf.parent, out, PreprocessParams(), data_source={})
    blocks = pd.read_parquet(out / "blocks.parquet")
    windows = build_window_table(
        str(out / "signal.npy"),
        blocks,
        SFREQ,
        WindowParams(),
        pd.read_parquet(out / "flat.parquet"),
    )
    write_parquet(out / "windows.parquet", windows)
    feats = build_feature_table(
        str(out / "signal.npy"), blocks, SFREQ, w_sec=10, step_sec=5, feature_set=FEATURE_SET
    )
    write_parquet(out / "features.parquet", feats, use_dictionary=False)


def peak_memory_mb(hours: float) -> float:
    """ru_maxrss of a fresh process that runs the workflow's cache stage on an existing file (the
    three rules run as separate jobs, so this over-counts a job's peak)."""
    with tempfile.TemporaryDirectory() as tmp:
        edf = Path(tmp) / "f.edf"
        make_edf(edf, hours)
        code = (
            "import sys; from pathlib import Path; sys.argv=['x'];"
            "import benchmarks.bench_cache as b;"
            f"b.run_workflow_path(Path({str(edf)!r}), Path({tmp!r}));"
            # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the parent.
            "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
        )
        root = Path(__file__).resolve().parents[1]
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True
        )
        return int(out.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-reference", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        edf = Path(tmp) / "chb00_01.edf"
        make_edf(edf, args.hours)
        ours = best_of(run_pipeline, args.repeats, edf, Path(tmp))
        ref = None if args.skip_reference else best_of(run_reference, 1, edf)
    mem = {h: peak_memory_mb(h) for h in (1.0, 4.0)}
    per_h = {k: v / args.hours for k, v in ours.items()}
    print(f"\nCache stage, one {args.hours:g}-hour file, 23 channels (18 used), 256 Hz, 1 core")
    print("| stage | preictal (s per hour-file) | library default (s) | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for stage in ("read", "filter", "preprocess_case", "windows", "features", "write", "total"):
        r = "" if ref is None else f"{ref[stage] / args.hours:.3f}"
        ratio = "" if ref is None or per_h[stage] == 0 else f"{ref[stage] / ours[stage]:.1f}x"
        print(f"| {stage} | {per_h[stage]:.3f} | {r} | {ratio} |")
    full = 980 * per_h["total"] / 2 / 60
    print(
        f"\nPeak RSS of a process running the stage: {mem[1.0]:.0f} MB (1-h file), {mem[4.0]:.0f} MB (4-h file)"
    )
    print(f"Full CHB-MIT (980 h) on 2 cores, extrapolated: {full:.1f} min")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"ours": per_h, "reference": ref, "peak_mb": mem, "full_min": full}, indent=2
            )
        )


if __name__ == "__main__":
    main()
