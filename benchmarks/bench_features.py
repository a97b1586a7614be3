"""Benchmark: per-window features of a 1-hour 18-channel 256 Hz block, preictal vs mne-features.

    .venv/bin/python benchmarks/bench_features.py [--seconds 3600] [--repeat 5] [--no-mne]

Builds a realistic block (band-limited 1/f noise plus a waxing and waning alpha rhythm, µV),
times ``compute_features`` for each feature set on one thread (threadpoolctl; scipy.fft
``workers=1``), best of ``--repeat``, and times mne-features on the same windows for the same
feature list: ``mne_features.feature_extraction.extract_features`` (n_jobs=1) with
``pow_freq_bands`` (absolute, with ratios), ``line_length``, ``spect_entropy``,
``hjorth_mobility``, ``hjorth_complexity``, ``variance``, ``kurtosis``, plus ``spect_edge_freq``
for basic_plus (relative powers and window-to-window changes are arithmetic on those), plus
``scipy.signal.coherence`` looped over windows and the 20 pairs for connectivity_light
(mne-features has no magnitude-squared coherence). Welch segments are the same (2-s, 50 %
overlap; mne-features uses Hamming, we use Hann). mne-features needs the windows as a
``[n_windows, C, w]`` array; building it is not timed. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.signal as ss  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from preictal.features.spectral import (  # noqa: E402
    DEFAULT_CHANNEL_PAIRS,
    FEATURE_SETS,
    compute_features,
    feature_names,
)

SF = 256.0
W_SEC, STEP_SEC = 10.0, 5.0
MNE_PSD = {"welch_n_fft": 512, "welch_n_per_seg": 512, "welch_n_overlap": 256}
MNE_BANDS = np.array([[0.5, 3.9], [4, 7.9], [8, 11.9], [12, 29.9], [30, 45]])


def realistic_block(seconds: float, n_channels: int = 18, sfreq: float = SF, seed: int = 0):
    """Band-limited (0.5-45 Hz) 1/f noise plus a 10 Hz alpha rhythm with a slow envelope and a
    little 20 Hz beta, float32 µV, [C, T]."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sfreq)
    f = np.fft.rfftfreq(n, 1 / sfreq)
    shape = ((f >= 0.5) & (f <= 45)) / np.maximum(f, 0.5)
    x = np.empty((n_channels, n), np.float32)
    t = np.arange(n) / sfreq
    for c in range(n_channels):
        spec = (rng.standard_normal(f.size) + 1j * rng.standard_normal(f.size)) * shape
        y = np.fft.irfft(spec, n)
        y *= 15.0 / y.std()
        env = 1 + 0.8 * np.sin(2 * np.pi * 0.01 * t + rng.uniform(0, 6))
        y += rng.uniform(3, 20) * env * np.sin(2 * np.pi * 10.0 * t)
        y += 3 * np.sin(2 * np.pi * 20.0 * t + rng.uniform(0, 6))
        x[c] = y
    return x


def best_of(fn, repeat: int) -> float:
    fn()  # warm up (plans, caches, JIT)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def mne_funcs(feature_set: str):
    funcs = [
        "pow_freq_bands",
        "line_length",
        "spect_entropy",
        "hjorth_mobility",
        "hjorth_complexity",
        "variance",
        "kurtosis",
    ]
    params = {
        "pow_freq_bands__freq_bands": MNE_BANDS,
        "pow_freq_bands__normalize": False,
        "pow_freq_bands__ratios": "all",
        "pow_freq_bands__psd_params": MNE_PSD,
        "spect_entropy__psd_params": MNE_PSD,
    }
    if feature_set != "basic":
        funcs.append("spect_edge_freq")
        params.update(
            {
                "spect_edge_freq__ref_freq": 45.0,
                "spect_edge_freq__edge": [0.95],
                "spect_edge_freq__psd_params": MNE_PSD,
            }
        )
    return funcs, params


def coherence_loop(epochs: np.ndarray) -> None:
    a = [p[0] for p in DEFAULT_CHANNEL_PAIRS]
    b = [p[1] for p in DEFAULT_CHANNEL_PAIRS]
    for ep in epochs:
        f, coh = ss.coherence(ep[a], ep[b], SF, nperseg=512)
        alpha = coh[:, (f >= 8) & (f < 12)].mean(-1)
        beta = coh[:, (f >= 12) & (f < 30)].mean(-1)
        del alpha, beta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3600.0)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--mne-repeat", type=int, default=1)
    ap.add_argument("--no-mne", action="store_true", help="time preictal only")
    args = ap.parse_args()

    x = realistic_block(args.seconds)
    w, step = round(W_SEC * SF), round(STEP_SEC * SF)
    n_win = (x.shape[1] - w) // step + 1
    print(
        f"block: {x.shape[0]} channels x {x.shape[1]} samples ({args.seconds:g} s at {SF:g} Hz), "
        f"{n_win} windows of {W_SEC:g} s every {STEP_SEC:g} s; 1 thread; "
        f"{platform.processor() or platform.machine()}, numpy {np.__version__}, scipy {scipy.__version__}"
    )
    rows = []
    with threadpool_limits(1):
        ours = {
            fs: best_of(lambda fs=fs: compute_features(x, SF, feature_set=fs), args.repeat)
            for fs in FEATURE_SETS
        }
        theirs: dict[str, float] = {}
        if not args.no_mne:
            from mne_features.feature_extraction import extract_features

            epochs = np.lib.stride_tricks.sliding_window_view(x, w, axis=-1)[:, ::step]
            epochs = np.ascontiguousarray(epochs.transpose(1, 0, 2), dtype=np.float64)
            for fs in FEATURE_SETS:
                funcs, params = mne_funcs(fs)

                def run(funcs=funcs, params=params):
                    extract_features(
                        epochs, SF, set(funcs), funcs_params=params, n_jobs=1, return_as_df=False
                    )

                t = best_of(run, args.mne_repeat)
                if fs == "connectivity_light":
                    t += best_of(lambda: coherence_loop(epochs), args.mne_repeat)
                theirs[fs] = t
    for fs in FEATURE_SETS:
        n_feat = len(feature_names(fs))
        if fs in theirs:
            rows.append(
                f"| {fs} | {n_feat} | {ours[fs]:.4f} | {theirs[fs]:.2f} | {theirs[fs] / ours[fs]:.0f}x |"
            )
        else:
            rows.append(f"| {fs} | {n_feat} | {ours[fs]:.4f} | - | - |")
    print()
    print("| feature set | columns | preictal (s) | mne-features (s) | speed-up |")
    print("| --- | --- | --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
