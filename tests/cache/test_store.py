"""The per-case cache: montage ledger, re-derivation, float16, windows as views, bad flags."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from preictal.cache.store import PreprocessParams, build_case_cache, preprocess, to_float16
from preictal.cache.windows import (
    WindowParams,
    bad_windows,
    block_window_stats,
    window_index,
    window_view,
)
from preictal.features.table import build_feature_table
from preictal.signal.montage import CANONICAL_CHANNELS
from preictal.synthetic.dataset import write_edf
from preictal.synthetic.params import ArtifactRates, PatientProfile, PreictalEffect
from preictal.synthetic.plan import STANDARD_MONTAGE
from preictal.synthetic.signals import synthesize_recording

SF = 256.0
REFERENTIAL = ("F7-CS2", "T7-CS2", "P7-CS2", "-", "FP1-CS2", "F3-CS2", "C3-CS2", "P3-CS2", "O1-CS2", "-",
               "FZ-CS2", "CZ-CS2", "PZ-CS2", "-", "FP2-CS2", "F4-CS2", "C4-CS2", "P4-CS2", "O2-CS2", "-",
               "F8-CS2", "T8-CS2", "P8-CS2")  # fmt: skip


def synth(labels, seconds, seed=0, artifacts=None):
    data, events = synthesize_recording(
        labels=labels,
        duration_sec=seconds,
        sfreq=SF,
        profile=PatientProfile.from_seed(7),
        effect=PreictalEffect(effect_size=0.0),
        seizures=[],
        artifacts=artifacts or ArtifactRates.none(),
        rng=np.random.default_rng(seed),
    )
    return data, events


def test_float16_round_trip_is_below_0_1_uv_and_never_overflows():
    data, _ = synth(STANDARD_MONTAGE[:18], 120, artifacts=ArtifactRates())
    x = preprocess(data, SF, PreprocessParams())
    x16, clipped = to_float16(x)
    err = x16.astype(np.float32) - x
    assert np.sqrt(np.mean(err**2)) < 0.1
    assert clipped == 0
    huge = np.array([[1e6, -1e6, 70000.0, 12.5]], dtype=np.float32)
    y16, clipped = to_float16(huge)
    assert np.isfinite(y16).all() and clipped == 3
    assert y16[0, 3] == np.float16(12.5)


@pytest.fixture(scope="module")
def case_cache(tmp_path_factory):
    """Three files: bipolar, referential (re-derived), and one with too few channels."""
    root = tmp_path_factory.mktemp("cache")
    edf_dir = root / "edf"
    edf_dir.mkdir()
    bip, _ = synth(STANDARD_MONTAGE, 60, seed=1)
    ref, _ = synth(REFERENTIAL, 60, seed=1)  # same seed: same electrode potentials
    write_edf(edf_dir / "chb99_01.edf", bip, STANDARD_MONTAGE, SF, start_sec=36000)
    write_edf(edf_dir / "chb99_02.edf", ref, REFERENTIAL, SF, start_sec=36070)
    write_edf(edf_dir / "chb99_03.edf", bip[:4], STANDARD_MONTAGE[:4], SF, start_sec=36140)
    files = pd.DataFrame(
        {
            "file": [f"chb99_0{k}.edf" for k in (1, 2, 3, 4)],
            "start_sec": [36000.0, 36070.0, 36140.0, 36210.0],
            "segment": [0, 0, 0, 0],
        }
    )
    out = root / "cache"
    manifest = build_case_cache(
        "chb99", files, edf_dir, out, PreprocessParams(), data_source={"kind": "test"}
    )
    return out, manifest, bip


def test_cache_layout_and_manifest(case_cache):
    out, manifest, _ = case_cache
    signal = np.load(out / "signal.npy", mmap_mode="r")
    assert signal.dtype == np.float16 and signal.shape == (18, 2 * 60 * 256)
    assert manifest["channels"] == list(CANONICAL_CHANNELS)
    assert manifest["data_source"] == {"kind": "test"} and manifest["n_excluded_files"] == 2
    assert json.loads((out / "manifest.json").read_text())["signal"]["shape"] == [18, 30720]
    blocks = pd.read_parquet(out / "blocks.parquet")
    assert blocks.file.tolist() == ["chb99_01.edf", "chb99_02.edf"]
    assert blocks.offset.tolist() == [0, 15360] and blocks.n_samples.tolist() == [15360, 15360]
    assert blocks.start_sec.tolist() == [36000.0, 36070.0]


def test_montage_ledger_explains_every_file(case_cache):
    out, _, _ = case_cache
    ledger = pd.read_parquet(out / "montage.parquet").set_index("file")
    assert not ledger.loc["chb99_01.edf", "excluded"]
    assert ledger.loc["chb99_01.edf", "dropped"] == "P7-T7,T7-FT9,FT9-FT10,FT10-T8,T8-P8"
    assert ledger.loc["chb99_02.edf", "montage"] == "referential"
    assert "FP1-F7=FP1-CS2-F7-CS2" in ledger.loc["chb99_02.edf", "derived"]
    assert ledger.loc["chb99_03.edf", "excluded"]
    assert "P3-O1" in ledger.loc["chb99_03.edf", "reason"]
    assert ledger.loc["chb99_04.edf", "reason"] == "EDF not on disk"


def test_referential_file_is_rederived_to_the_same_bipolar_signal(case_cache):
    out, _, _ = case_cache
    signal = np.load(out / "signal.npy", mmap_mode="r").astype(np.float32)
    bipolar, rederived = signal[:, :15360], signal[:, 15360:]
    # Same potentials, re-derived after 16-bit EDF quantisation (0.1 uV steps): nearly equal.
    rms = np.sqrt(np.mean((bipolar - rederived) ** 2, axis=1))
    assert rms.max() < 0.2, rms
    assert np.sqrt(np.mean(bipolar**2)) > 10


def test_windows_are_views_and_counted_per_block(case_cache):
    out, _, _ = case_cache
    signal = np.load(out / "signal.npy", mmap_mode="r")
    blocks = pd.read_parquet(out / "blocks.parquet")
    idx = window_index(blocks, SF, WindowParams())
    assert len(idx) == 2 * ((60 - 10) // 5 + 1)
    assert idx.start_sample.tolist()[:2] == [0, 1280] and idx.start_sample.iloc[11] == 15360
    assert idx.end_sec.iloc[-1] == 36070 + 60
    view = window_view(signal, int(idx.start_sample.iloc[3]), 2560)
    assert view.shape == (18, 2560) and np.shares_memory(view, signal)
    feats = build_feature_table(
        str(out / "signal.npy"), blocks, SF, w_sec=10, step_sec=5, feature_set="basic"
    )
    assert len(feats) == len(idx) and np.isfinite(feats.drop(columns="window").to_numpy()).all()


def one_block(n_samples: int) -> pd.DataFrame:
    """The block table of a signal that is one file from time 0."""
    return pd.DataFrame(
        {"file": ["f"], "offset": [0], "n_samples": [n_samples], "start_sec": [0.0], "segment": [0]}
    )


def test_bad_window_flags():
    x = np.random.default_rng(0).normal(0, 20, (18, 256 * 60)).astype(np.float32)
    x[3, 256 * 12 : 256 * 13] = 0.0  # a flat channel for one second
    x[5, 256 * 31] = 900.0  # a pop
    x[0, 256 * 47] = np.nan
    blocks = one_block(x.shape[1])
    flags = bad_windows(x, blocks, SF, WindowParams(flat_uv_thresh=1.0))
    starts = np.arange(len(flags)) * 5
    covers = lambda t: (starts <= t) & (starts + 10 > t)  # noqa: E731
    assert flags.bad_flat.tolist() == (covers(12) & covers(12.99)).tolist()
    assert flags.bad_amp.tolist() == covers(31).tolist()
    assert flags.bad_nan.tolist() == covers(47).tolist()
    assert flags.bad.sum() == (flags.bad_flat | flags.bad_amp | flags.bad_nan).sum() > 0
    # The chunked extrema agree with a direct computation per window.
    stats = block_window_stats(np.nan_to_num(x), 2560, 1280, SF)
    direct = [np.ptp(np.nan_to_num(x)[:, s * 256 : s * 256 + 2560], axis=1).max() for s in starts]
    np.testing.assert_allclose(stats["ptp_max"], direct, rtol=1e-6)
    odd = block_window_stats(np.nan_to_num(x), 2560, 1000, SF)  # step does not divide the window
    direct = [
        np.ptp(np.nan_to_num(x)[:, s : s + 2560], axis=1).max()
        for s in range(0, x.shape[1] - 2559, 1000)
    ]
    np.testing.assert_allclose(odd["ptp_max"], direct, rtol=1e-6)
    x0 = np.nan_to_num(x)  # NaN samples count as 0 in the extrema (and flag the window)
    flat = [
        np.ptp(x0[:, s * 256 : s * 256 + 2560].reshape(18, 10, 256), axis=2).min() for s in starts
    ]
    np.testing.assert_allclose(stats["flat_min"], flat, rtol=1e-6)


def test_raw_dropouts_are_found_before_filtering_and_mark_windows():
    from preictal.cache.store import flat_runs
    from preictal.cache.windows import overlaps_intervals

    x = np.random.default_rng(1).normal(0, 20, (3, 256 * 30)).astype(np.float32)
    x[1, 256 * 10 : 256 * 13] = 0.0  # 3 s dropout on one channel
    x[:, 256 * 20 : 256 * 20 + 64] = 5.0  # 0.25 s: shorter than the 0.5 s minimum
    runs = flat_runs(x, 256, 0.5)
    assert runs == [(256 * 10, 256 * 13)]
    starts = np.arange(0, 256 * 20 + 1, 1280)
    hit = overlaps_intervals(
        starts, starts + 2560, pd.DataFrame({"start_sample": [2560], "end_sample": [3328]})
    )
    assert hit.tolist() == [False, True, True, False, False]


def test_streamed_pieces_equal_whole_file_processing(tmp_path, monkeypatch):
    """Preprocessing in pieces with filter margins, and window statistics and features in pieces
    of windows, give what processing everything at once gives."""
    import preictal.cache.store as cache
    import preictal.cache.windows as windows
    from preictal.features.spectral import compute_features
    from preictal.signal.montage import plan_montage

    data, _ = synth(STANDARD_MONTAGE, 150, seed=4, artifacts=ArtifactRates())
    edf = tmp_path / "chb98_01.edf"
    write_edf(edf, data, STANDARD_MONTAGE, SF)
    files = pd.DataFrame({"file": ["chb98_01.edf"], "start_sec": [0.0], "segment": [0]})
    from preictal.chbmit.edf import read_edf_header

    whole_raw, _ = cache.read_canonical(edf, plan_montage(read_edf_header(edf).labels))
    whole = cache.preprocess(whole_raw, SF, PreprocessParams())
    monkeypatch.setattr(cache, "CHUNK_SEC", 20.0)  # 8 pieces of 20 s, margins of ~14 s
    build_case_cache("chb98", files, tmp_path, tmp_path / "c", PreprocessParams(), data_source={})
    cached = np.load(tmp_path / "c" / "signal.npy").astype(np.float32)
    np.testing.assert_allclose(cached, whole, atol=0.25)  # float16 steps of <= 0.25 uV
    assert np.abs(cached - whole.astype(np.float16).astype(np.float32)).max() <= 0.25

    blocks = pd.read_parquet(tmp_path / "c" / "blocks.parquet")
    signal_path = str(tmp_path / "c" / "signal.npy")
    full = build_feature_table(
        signal_path, blocks, SF, w_sec=10, step_sec=5, feature_set="basic_plus"
    )
    flags = bad_windows(np.load(signal_path), blocks, SF, WindowParams())
    monkeypatch.setattr(windows, "WINDOWS_PER_PIECE", 4)
    pieces = build_feature_table(
        signal_path, blocks, SF, w_sec=10, step_sec=5, feature_set="basic_plus"
    )
    np.testing.assert_array_equal(pieces.to_numpy(), full.to_numpy())
    direct = compute_features(np.load(signal_path).astype(np.float32), SF, feature_set="basic_plus")
    np.testing.assert_array_equal(full.drop(columns="window").to_numpy(), direct)
    pd.testing.assert_frame_equal(
        bad_windows(np.load(signal_path), blocks, SF, WindowParams()), flags
    )


@pytest.mark.parametrize("seed", range(5))
def test_flat_runs_equal_a_sample_by_sample_scan(seed):
    from preictal.cache.store import flat_runs

    rng = np.random.default_rng(seed)
    x = rng.normal(0, 20, (4, 5000)).astype(np.float32)
    for _ in range(8):  # constant stretches of random length, some adjacent or overlapping
        c, a, n = rng.integers(4), rng.integers(0, 4900), rng.integers(1, 300)
        x[c, a : a + n] = rng.normal()
    min_len = 128
    expected = []
    for row in x:
        a = 0
        for b in range(1, len(row) + 1):
            if b == len(row) or row[b] != row[a]:
                if b - a >= min_len:
                    expected.append((a, b))
                a = b
    from preictal.cache.store import merge_spans

    assert flat_runs(x, 256, 0.5) == merge_spans(expected)


def test_float16_extrema_equal_the_float32_path():
    x = np.random.default_rng(5).normal(0, 80, (18, 256 * 40)).astype(np.float16)
    x[2, 3000:3300] = 0.0
    x[4, 5000] = -0.0
    x[6, 6000] = np.inf
    x[7, 7000] = -np.inf
    x[8, 100] = np.float16(-65504)
    fast = block_window_stats(x, 2560, 1280, SF)
    slow = block_window_stats(x.astype(np.float32), 2560, 1280, SF)
    for key in fast:
        np.testing.assert_array_equal(fast[key], slow[key], err_msg=key)
    x[9, 9000] = np.nan  # NaN falls back to the float path with NaN read as 0
    fast = block_window_stats(x, 2560, 1280, SF)
    slow = block_window_stats(x.astype(np.float32), 2560, 1280, SF)
    for key in fast:
        np.testing.assert_array_equal(fast[key], slow[key], err_msg=key)
    assert fast["has_nan"].tolist() == [False] * 6 + [True]  # NaN at 35.2 s: the last window only


def test_other_sampling_rates_are_resampled_and_the_cache_is_deterministic(tmp_path):
    from preictal.io import sha256_file

    data, _ = synth(STANDARD_MONTAGE, 40, seed=6)
    edf_dir = tmp_path / "edf"
    edf_dir.mkdir()
    write_edf(edf_dir / "chb97_01.edf", data[:, ::2], STANDARD_MONTAGE, 128)  # 128 Hz
    files = pd.DataFrame({"file": ["chb97_01.edf"], "start_sec": [0.0], "segment": [0]})
    hashes = []
    for run in ("a", "b"):
        build_case_cache(
            "chb97", files, edf_dir, tmp_path / run, PreprocessParams(), data_source={}
        )
        hashes.append(sha256_file(tmp_path / run / "signal.npy"))
    signal = np.load(tmp_path / "a" / "signal.npy")
    assert signal.shape == (18, 40 * 256)
    assert pd.read_parquet(tmp_path / "a" / "montage.parquet").sfreq_hz.tolist() == [128.0]
    assert hashes[0] == hashes[1]
    # Alpha (below both Nyquist rates) survives the 128 -> 256 Hz round trip.
    assert np.sqrt(np.mean(signal.astype(np.float32) ** 2)) > 10


def test_a_one_second_dropout_is_flat_at_any_rate():
    """The flatness check looks at one second of the cache whatever its rate: at 128 Hz with 20-s
    windows every 10 s, a 1-s dropout flags the windows that hold it (with a chunk of 256 samples,
    as once hard-coded for 256 Hz, it would span 2 s and miss the dropout)."""
    sf = 128
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((18, 60 * sf)) * 20).astype(np.float16)
    x[:, 25 * sf : 26 * sf] = 0  # one second flat, from 25 s
    blocks = one_block(x.shape[1])
    flags = bad_windows(x, blocks, sf, WindowParams(w_sec=20, step_sec=10))
    starts = np.arange(len(flags)) * 10
    holds = (starts <= 25) & (starts + 20 >= 26)
    assert holds.any() and (~holds).any()
    assert flags.bad_flat.tolist() == holds.tolist()


def _mapped_rss_kb(path) -> int:
    """Resident kB of this process's mappings of `path` (/proc/self/smaps)."""
    total, inside = 0, False
    for line in open("/proc/self/smaps"):
        if "-" in line.split(" ", 1)[0] and ":" not in line.split(" ", 1)[0]:
            inside = line.rstrip().endswith(str(path))
        elif inside and line.startswith("Rss:"):
            total += int(line.split()[1])
    return total


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="Linux /proc only")
def test_release_mapped_pages_drops_read_pages_and_keeps_the_data(tmp_path):
    """Read block by block, a memory-mapped cache is not held resident (a 150-h case would be
    about 5 GB); the values read before and after are the same."""
    from preictal.cache.windows import release_mapped_pages

    path = tmp_path / "signal.npy"
    data = np.random.default_rng(0).standard_normal((18, 1_000_000)).astype(np.float16)  # 36 MB
    np.save(path, data)
    signal = np.load(path, mmap_mode="r")
    before = float(np.asarray(signal, dtype=np.float32).sum())
    assert _mapped_rss_kb(path) > 30_000
    release_mapped_pages(signal)
    assert _mapped_rss_kb(path) < 1_000
    assert float(np.asarray(signal, dtype=np.float32).sum()) == before
    release_mapped_pages(data)  # an array in memory: nothing to do
