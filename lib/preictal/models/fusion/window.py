"""FusionNet's input window and its jobs' threads, derived from the config at parse time (no
torch here, so that the Snakefile can check a config cheaply)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

SFREQ = 256  # the cache's default rate (Hz): STFT n_fft 256, hop 64
N_FREQS = 48  # spectrogram bins kept by default: 0-47 Hz (one-second frames: 1 Hz per bin)


def check_input(sfreq: float, w_sec: float, n_freqs: int = N_FREQS) -> tuple[int, int]:
    """``(sfreq, window samples)`` of a cache rate and window length FusionNet can take, or a
    ValueError that names the config keys: the rate must be a whole number of Hz (one-second STFT
    frames, 1 Hz bins) whose Nyquist frequency covers the kept bins, and the window a whole number
    of samples longer than half a frame."""
    if float(sfreq) != int(sfreq):
        raise ValueError(
            f"preprocess.target_sfreq {sfreq}: FusionNet needs a whole number of Hz "
            f"(its STFT frames are one second long, 1 Hz per bin)"
        )
    fs = int(sfreq)
    if fs // 2 + 1 < n_freqs:
        raise ValueError(
            f"preprocess.target_sfreq {fs}: FusionNet keeps {n_freqs} one-Hz bins (0-{n_freqs - 1}"
            f" Hz), above the Nyquist frequency {fs / 2} Hz; use at least {2 * (n_freqs - 1)} Hz"
        )
    samples = w_sec * fs
    if abs(samples - round(samples)) > 1e-9:
        raise ValueError(
            f"windows.w_sec {w_sec} x preprocess.target_sfreq {fs} = {samples} samples: "
            f"FusionNet's window must be a whole number of samples"
        )
    if round(samples) <= fs // 2:
        raise ValueError(
            f"windows.w_sec {w_sec}: FusionNet's window must be longer than half a second "
            f"(its STFT frame is one second)"
        )
    return fs, round(samples)


@dataclass(frozen=True)
class FusionWindow:
    """The network's input window: the cache's sampling rate and the window length in samples
    (``windows.w_sec * preprocess.target_sfreq``), so that the net sees exactly the window the
    labels and features describe."""

    sfreq: int
    samples: int

    @classmethod
    def of(cls, sfreq: float, w_sec: float) -> FusionWindow:
        return cls(*check_input(sfreq, w_sec))


def fusion_job_threads(train: Mapping) -> int:
    """Threads a FusionNet job claims: its main process and each DataLoader worker
    (``fusion.train.num_workers``), so that Snakemake does not run more of them than cores."""
    return 1 + int(train.get("num_workers", 0))


def fusion_torch_threads(job_threads: int, train: Mapping) -> int:
    """The main process's share of a FusionNet job's threads (Snakemake may have scaled the job
    down to the cores there are): what the loader workers leave, at least one."""
    return max(1, int(job_threads) - int(train.get("num_workers", 0)))
