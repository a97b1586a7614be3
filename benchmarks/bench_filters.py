"""Throughput of the preprocessing filter and the EDF reader, single-threaded (not a test).

    .venv/bin/python benchmarks/bench_filters.py [--seconds 3600] [--channels 18] [--repeats 5]

Times, on a realistic synthetic recording (the dataset generator's EEG model plus 60/120 Hz mains
and a DC offset):

* ``preictal.signal.filters.bandpass_notch`` (warm: design cached; and cold: first call),
* ``scipy.signal.sosfiltfilt`` with the same design (it runs channel by channel),
* MNE ``raw.filter(0.5, 45)`` + ``raw.notch_filter([60, 120])`` (its default FIR filters),

and ``preictal.signal.edf_read.read_edf_signals`` against ``mne.io.read_raw_edf(preload=True)``
on a 23-channel EDF of the same length written with ``write_edf`` into a temporary directory
(warm page cache for both).  Each time is the best of ``--repeats`` runs.  Prints a markdown table.
The target for the filter is <= 0.12 s for 18 channels x 1 hour at 256 Hz on one core.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.signal
from threadpoolctl import threadpool_limits

import preictal.signal.filters as filters
from preictal.signal.edf_read import read_edf_signals
from preictal.synthetic.dataset import write_edf
from preictal.synthetic.params import ArtifactRates, PatientProfile, PreictalEffect
from preictal.synthetic.plan import STANDARD_MONTAGE
from preictal.synthetic.signals import synthesize_recording

SFREQ = 256.0
TARGET_SEC = 0.12  # filter, 18 channels x 1 h, one core


def best_of(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def recording(seconds: float, n_ch: int, seed: int = 0) -> np.ndarray:
    labels = [STANDARD_MONTAGE[i % len(STANDARD_MONTAGE)] for i in range(n_ch)]
    x, _ = synthesize_recording(
        labels=labels,
        duration_sec=seconds,
        sfreq=SFREQ,
        profile=PatientProfile.from_seed(seed),
        effect=PreictalEffect(),
        seizures=[],
        artifacts=ArtifactRates(),
        rng=np.random.default_rng(seed),
    )
    t = np.arange(x.shape[1]) / SFREQ
    x += (15 * np.sin(2 * np.pi * 60 * t) + 4 * np.sin(2 * np.pi * 120 * t)).astype(np.float32)
    x += 150.0
    return x.astype(np.float32, copy=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3600.0)
    ap.add_argument("--channels", type=int, default=18)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--skip-mne", action="store_true", help="leave out the (slow) MNE timings")
    args = ap.parse_args(argv)

    import mne

    mne.set_log_level("ERROR")
    rows: list[tuple[str, float, float]] = []  # (what, seconds, seconds / ours)
    with threadpool_limits(limits=1):
        x = recording(args.seconds, args.channels)
        shape = f"{x.shape[0]} ch x {x.shape[1]} samples ({args.seconds / 3600:g} h, float32)"

        filters._kernel.cache_clear()
        filters._block_response.cache_clear()
        t0 = time.perf_counter()
        y = filters.bandpass_notch(x, SFREQ)
        cold = time.perf_counter() - t0
        ours = best_of(lambda: filters.bandpass_notch(x, SFREQ), args.repeats)
        rows.append(("preictal bandpass_notch (warm)", ours, 1.0))
        rows.append(("preictal bandpass_notch (cold: + design)", cold, cold / ours))

        sos = filters.design_sos(SFREQ)
        ref = None

        def sff():
            nonlocal ref
            ref = scipy.signal.sosfiltfilt(sos, x, axis=-1)

        t = best_of(sff, max(1, args.repeats // 2))
        rows.append(("scipy sosfiltfilt, same design (float32)", t, t / ours))
        mid = slice(int(15 * SFREQ), -int(15 * SFREQ))
        sff_err = np.abs(y[:, mid] - ref[:, mid]).max() / ref[:, mid].std()

        if not args.skip_mne:
            info = mne.create_info(x.shape[0], SFREQ, "eeg")
            base = mne.io.RawArray(x.astype(np.float64) * 1e-6, info)

            def mne_filter():
                raw = base.copy()
                raw.filter(0.5, 45.0, n_jobs=1)
                raw.notch_filter([60.0, 120.0], n_jobs=1)

            t = best_of(mne_filter, max(1, args.repeats // 2))
            t_copy = best_of(base.copy, max(1, args.repeats // 2))
            t -= t_copy
            rows.append(("MNE raw.filter(0.5, 45) + notch_filter([60, 120])", t, t / ours))

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench.edf"
            labels = list(STANDARD_MONTAGE)
            write_edf(path, recording(args.seconds, len(labels), seed=1), labels, SFREQ)
            size_mb = path.stat().st_size / 2**20
            read_edf_signals(path)  # page cache
            t_read = best_of(lambda: read_edf_signals(path), args.repeats)
            rows.append((f"preictal read_edf_signals ({size_mb:.0f} MiB EDF, 23 ch)", t_read, 1.0))
            if not args.skip_mne:
                t = best_of(
                    lambda: mne.io.read_raw_edf(path, preload=True).get_data(),
                    max(1, args.repeats // 2),
                )
                rows.append(("MNE read_raw_edf(preload=True).get_data()", t, t / t_read))

    print(f"Machine: {platform.processor() or platform.machine()}, Python {sys.version.split()[0]}")
    print(f"Signal: {shape}; one thread (threadpoolctl, scipy.fft workers=1)\n")
    print("| step | seconds | x preictal |")
    print("|---|---:|---:|")
    for what, sec, ratio in rows:
        print(f"| {what} | {sec:.3f} | {ratio:.1f} |")
    print(f"\nmax |ours - sosfiltfilt| beyond 15 s of the edges: {sff_err:.1e} x RMS")
    if args.channels == 18 and args.seconds == 3600:
        verdict = "meets" if ours <= TARGET_SEC else "MISSES"
        print(f"filter target {TARGET_SEC} s: {verdict} ({ours:.3f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
