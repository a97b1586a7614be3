"""Cache-stage throughput: seconds per 1-hour CHB-MIT-shaped EDF per core, by stage, against the
library-default pipeline (MNE read_raw_edf + raw.filter + raw.notch_filter + mne-features) on the
same file. Not a test: run it by hand and paste its table into docs/PERFORMANCE.md.

    python benchmarks/bench_cache.py [--hours 1] [--repeats 3] [--skip-reference]

One core: BLAS/FFT threads are limited to 1 before numpy is imported. Peak memory is measured in a
fresh subprocess per file length (ru_maxrss), for 1-hour and 4-hour files.
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

from preictal.cache import PreprocessParams, preprocess, read_canonical, to_float16  # noqa: E402
from preictal.chbmit.edf import read_edf_header  # noqa: E402
from preictal.features.spectral import compute_features, feature_names  # noqa: E402
from preictal.io import write_parquet  # noqa: E402
from preictal.signal.montage import plan_montage  # noqa: E402
from preictal.synthetic.dataset import patient_profile, write_edf  # noqa: E402
from preictal.synthetic.plan import STANDARD_MONTAGE, SyntheticSpec  # noqa: E402
from preictal.synthetic.signals import ArtifactRates, PreictalEffect, synthesize_recording  # noqa: E402
from preictal.windows import WindowParams, block_window_stats, window_index  # noqa: E402

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
    """The cache stage on one file, stage by stage (the same library calls as the rules)."""
    t = {}
    t0 = time.perf_counter()
    plan = plan_montage(read_edf_header(edf).labels)
    raw, rate = read_canonical(edf, plan)
    t["read"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    x = preprocess(raw, rate, PreprocessParams())
    t["filter"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    signal = np.lib.format.open_memmap(
        out / "signal.npy", mode="w+", dtype=np.float16, shape=x.T.shape
    )
    signal[:], _ = to_float16(x.T)
    signal.flush()
    blocks = pd.DataFrame(
        {
            "file": [edf.name],
            "offset": [0],
            "n_samples": [x.shape[1]],
            "start_sec": [0.0],
            "segment": [0],
        }
    )
    params = WindowParams()
    w, step = params.samples(SFREQ)
    windows = window_index(blocks, SFREQ, params)
    stats = block_window_stats(signal, w, step)
    windows["bad"] = (
        (stats["ptp_max"] > params.amp_uv_thresh)
        | (stats["flat_min"] < params.flat_uv_thresh)
        | stats["has_nan"]
    )
    t["window/store"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    block = np.asarray(signal, dtype=np.float32).T
    feats = compute_features(
        block, SFREQ, w_sec=params.w_sec, step_sec=params.step_sec, feature_set=FEATURE_SET
    )
    t["features"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    write_parquet(out / "windows.parquet", windows)
    table = pd.DataFrame(feats, columns=feature_names(FEATURE_SET))
    write_parquet(out / "features.parquet", table, use_dictionary=False)
    t["write"] = time.perf_counter() - t0
    t["total"] = sum(t.values())
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
    t["window/store"] = time.perf_counter() - t0
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
    t["total"] = sum(t.values())
    return t


def best_of(fn, repeats: int, *args) -> dict[str, float]:
    runs = [fn(*args) for _ in range(repeats)]
    return min(runs, key=lambda r: r["total"])


def peak_memory_mb(hours: float) -> float:
    """ru_maxrss of a fresh process that makes nothing but runs the pipeline on an existing file."""
    with tempfile.TemporaryDirectory() as tmp:
        edf = Path(tmp) / "f.edf"
        make_edf(edf, hours)
        code = (
            "import resource, sys; from pathlib import Path; sys.argv=['x'];"
            "import benchmarks.bench_cache as b;"
            f"b.run_pipeline(Path({str(edf)!r}), Path({tmp!r}));"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
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
    for stage in ("read", "filter", "window/store", "features", "write", "total"):
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
