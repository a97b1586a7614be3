"""Per-window features: each feature against a direct computation on the same windows (scipy,
numpy, mne-features where the definitions match), shapes and names, chunking invariance, and the
NaN policy on synthetic artifacts. No timing here (see benchmarks/bench_features.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.signal as ss
import scipy.stats as st

from preictal.features.spectral import (
    BANDS,
    BASIC_FEATURES,
    CANONICAL_CHANNELS,
    DEFAULT_CHANNEL_PAIRS,
    FEATURE_SETS,
    PLUS_FEATURES,
    compute_channel_features,
    compute_features,
    feature_names,
)

SF = 256.0
W, STEP = 2560, 1280  # 10 s every 5 s at 256 Hz


def eeg_like(n_channels: int = 18, seconds: float = 120.0, sfreq: float = SF, seed: int = 0):
    """Band-limited (0.5-45 Hz) 1/f noise plus a waxing and waning 10 Hz alpha rhythm and some
    20 Hz beta: float32 µV, like the preprocessed blocks."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sfreq)
    f = np.fft.rfftfreq(n, 1 / sfreq)
    spec = rng.standard_normal((n_channels, f.size)) + 1j * rng.standard_normal(
        (n_channels, f.size)
    )
    spec *= ((f >= 0.5) & (f <= 45)) / np.maximum(f, 0.5)
    x = np.fft.irfft(spec, n)
    x *= 15.0 / x.std(axis=1, keepdims=True)
    t = np.arange(n) / sfreq
    gain = rng.uniform(2, 20, (n_channels, 1))
    envelope = 1 + 0.8 * np.sin(2 * np.pi * 0.05 * t + rng.uniform(0, 6, (n_channels, 1)))
    x += gain * envelope * np.sin(2 * np.pi * 10.0 * t)
    x += 3 * np.sin(2 * np.pi * 20.0 * t + rng.uniform(0, 6, (n_channels, 1)))
    return x.astype(np.float32)


def windows(x: np.ndarray, w: int = W, step: int = STEP) -> np.ndarray:
    """``[C, n_windows, w]`` float64 copies of the windows, for the references."""
    n = (x.shape[1] - w) // step + 1
    v = np.lib.stride_tricks.sliding_window_view(x.astype(np.float64), w, axis=-1)
    return v[:, : (n - 1) * step + 1 : step]


def band_masks(f: np.ndarray) -> dict[str, np.ndarray]:
    names = list(BANDS)
    return {
        b: (f >= lo) & ((f <= hi) if b == names[-1] else (f < hi)) for b, (lo, hi) in BANDS.items()
    }


def welch_ref(x, sfreq=SF, w=W, step=STEP, window="hann"):
    """scipy.signal.welch with the same segments: 2-s Hann, 50 % overlap, mean removed."""
    nperseg = min(round(2 * sfreq), w)
    return ss.welch(windows(x, w, step), sfreq, window=window, nperseg=nperseg)


@pytest.fixture(scope="module")
def sig():
    return eeg_like()


@pytest.fixture(scope="module")
def per(sig):
    return compute_channel_features(sig, SF, feature_set="connectivity_light")


# --- names and shapes -----------------------------------------------------------------------------


def test_feature_names_counts_and_order():
    basic = feature_names("basic")
    plus = feature_names("basic_plus")
    conn = feature_names("connectivity_light")
    assert len(basic) == 2 * len(BASIC_FEATURES) == 28
    assert len(plus) == 28 + 2 * len(PLUS_FEATURES) + 28 == 68
    assert len(conn) == 68 + 2 * len(DEFAULT_CHANNEL_PAIRS) == 108
    assert len(DEFAULT_CHANNEL_PAIRS) <= 20
    for names in (basic, plus, conn):
        assert len(set(names)) == len(names)
    assert basic[:2] == ["bp_delta_mean", "bp_delta_std"]
    assert "bp_alpha_mean" in basic and "bp_alpha_std" in basic
    assert plus[:28] == basic and conn[:68] == plus
    assert plus[28:40] == [f"{f}_{s}" for f in PLUS_FEATURES for s in ("mean", "std")]
    assert plus[40:] == [f"d_{c}" for c in basic]
    assert conn[68] == "coh_alpha_FP1-F7__FP2-F8"
    assert conn[88] == "coh_beta_FP1-F7__FP2-F8"


def test_default_pairs_are_distinct_and_share_no_electrode():
    assert len(set(map(frozenset, DEFAULT_CHANNEL_PAIRS))) == len(DEFAULT_CHANNEL_PAIRS)
    for a, b in DEFAULT_CHANNEL_PAIRS:
        ea = set(CANONICAL_CHANNELS[a].split("-"))
        eb = set(CANONICAL_CHANNELS[b].split("-"))
        assert not ea & eb


def test_canonical_channels_match_the_montage():
    montage = pytest.importorskip("preictal.signal.montage")
    assert tuple(montage.CANONICAL_CHANNELS) == CANONICAL_CHANNELS


def test_feature_names_errors_and_custom_pairs():
    with pytest.raises(ValueError):
        feature_names("nope")
    with pytest.raises(ValueError):
        feature_names("connectivity_light", n_channels=4)
    names = feature_names("connectivity_light", n_channels=4, channel_pairs=[(0, 1), (2, 3)])
    assert names[-4:] == [
        "coh_alpha_ch0__ch1",
        "coh_alpha_ch2__ch3",
        "coh_beta_ch0__ch1",
        "coh_beta_ch2__ch3",
    ]
    assert feature_names("basic", n_channels=4) == feature_names("basic")
    with pytest.raises(ValueError):
        feature_names("connectivity_light", n_channels=4, channel_pairs=[(0, 4)])


@pytest.mark.parametrize("feature_set", FEATURE_SETS)
def test_shapes_and_dtype(sig, feature_set):
    x = sig[:, : 61 * 256 + 100]  # 61.4 s: windows at 0, 5, ..., 50 s
    out = compute_features(x, SF, feature_set=feature_set)
    assert out.dtype == np.float32
    assert out.shape == (11, len(feature_names(feature_set)))
    assert np.isfinite(out).all()
    empty = compute_features(sig[:, : W - 1], SF, feature_set=feature_set)
    assert empty.shape == (0, len(feature_names(feature_set)))
    one = compute_features(sig[:, :W], SF, feature_set=feature_set)
    assert one.shape[0] == 1


def test_bad_arguments(sig):
    with pytest.raises(ValueError):
        compute_features(sig, SF, feature_set="nope")
    with pytest.raises(ValueError):
        compute_features(sig[0], SF)
    with pytest.raises(ValueError):
        compute_features(sig, SF, chunk_windows=0)
    with pytest.raises(ValueError):
        compute_features(sig[:4], SF, feature_set="connectivity_light")


# --- each feature against a direct computation ----------------------------------------------------


def test_band_powers_ratios_relative_vs_scipy_welch(sig, per):
    f, psd = welch_ref(sig)
    df = f[1] - f[0]
    p = {b: psd[..., m].sum(-1).T * df for b, m in band_masks(f).items()}  # µV², [n, C]
    for b in BANDS:
        np.testing.assert_allclose(per[f"bp_{b}"], np.log10(p[b] + 1e-6), atol=2e-6)
    eps = 1e-6
    ratios = {
        "ratio_theta_alpha": (p["theta"], p["alpha"]),
        "ratio_beta_alpha": (p["beta"], p["alpha"]),
        "ratio_slow_fast": (p["delta"] + p["theta"], p["alpha"] + p["beta"]),
    }
    for name, (a, b) in ratios.items():
        np.testing.assert_allclose(per[name], np.log10((a + eps) / (b + eps)), atol=2e-6)
    total = sum(p.values())
    keep = (f >= 0.5) & (f <= 45)
    np.testing.assert_allclose(total, psd[..., keep].sum(-1).T * df, rtol=1e-12)
    for b in BANDS:
        np.testing.assert_allclose(per[f"rbp_{b}"], p[b] / total, atol=2e-7)


def test_spectral_entropy_and_sef_vs_scipy_welch(sig, per):
    f, psd = welch_ref(sig)
    keep = (f >= 0.5) & (f <= 45)
    pk = psd[..., keep]
    prob = pk / pk.sum(-1, keepdims=True)
    ent = -(prob * np.log(prob)).sum(-1) / np.log(keep.sum())
    np.testing.assert_allclose(per["spec_entropy"], ent.T, atol=2e-6)
    cum = np.cumsum(pk, -1)
    sef = f[keep][(cum < 0.95 * cum[..., -1:]).sum(-1)].T
    # float32 spectra may put a threshold crossing one 0.5-Hz bin away, rarely
    assert np.abs(per["sef95"] - sef).max() <= 0.5
    assert (per["sef95"] != sef).mean() < 0.01


def test_time_domain_features_vs_numpy_scipy(sig, per):
    v = windows(sig)
    dx = np.diff(v, axis=-1)
    ddx = np.diff(dx, axis=-1)
    np.testing.assert_allclose(per["line_length"], np.abs(dx).mean(-1).T, rtol=2e-6)
    np.testing.assert_allclose(per["variance"], np.log10(v.var(-1, ddof=1) + 1e-6).T, atol=2e-6)
    np.testing.assert_allclose(per["kurtosis"], st.kurtosis(v, axis=-1).T, atol=2e-5)
    mob = np.sqrt(dx.var(-1) / v.var(-1))
    comp = np.sqrt(ddx.var(-1) / dx.var(-1)) / mob
    np.testing.assert_allclose(per["hjorth_mobility"], mob.T, rtol=2e-6)
    np.testing.assert_allclose(per["hjorth_complexity"], comp.T, rtol=2e-6)


def test_coherence_vs_scipy(sig, per):
    v = windows(sig)
    for i, (a, b) in enumerate(DEFAULT_CHANNEL_PAIRS):
        f, coh = ss.coherence(v[a], v[b], SF, nperseg=512)
        m = band_masks(f)
        np.testing.assert_allclose(per["coh_alpha"][:, i], coh[:, m["alpha"]].mean(-1), atol=2e-5)
        np.testing.assert_allclose(per["coh_beta"][:, i], coh[:, m["beta"]].mean(-1), atol=2e-5)


def test_columns_are_channel_mean_std_deltas_and_pairs(sig, per):
    out = compute_features(sig, SF, feature_set="connectivity_light")
    names = feature_names("connectivity_light")
    col = {n: out[:, i] for i, n in enumerate(names)}
    for f in (*BASIC_FEATURES, *PLUS_FEATURES):
        np.testing.assert_allclose(col[f"{f}_mean"], per[f].mean(1), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(col[f"{f}_std"], per[f].std(1), rtol=1e-5, atol=1e-6)
    for f in BASIC_FEATURES:
        for s in ("mean", "std"):
            d = col[f"d_{f}_{s}"]
            assert d[0] == 0
            np.testing.assert_allclose(d[1:], np.diff(col[f"{f}_{s}"]), rtol=1e-6, atol=1e-6)
    labels = CANONICAL_CHANNELS
    for i, (a, b) in enumerate(DEFAULT_CHANNEL_PAIRS):
        np.testing.assert_allclose(
            col[f"coh_alpha_{labels[a]}__{labels[b]}"], per["coh_alpha"][:, i], rtol=1e-6
        )
        np.testing.assert_allclose(
            col[f"coh_beta_{labels[a]}__{labels[b]}"], per["coh_beta"][:, i], rtol=1e-6
        )


@pytest.mark.parametrize(
    ("sfreq", "w_sec", "step_sec"),
    [
        (256.0, 4.0, 1.0),  # segments shared by 4 windows
        (256.0, 10.0, 2.5),  # window step not a multiple of the segment step
        (200.0, 10.0, 5.0),  # another rate: 400-sample segments
        (256.0, 10.0, 1001 / 256),  # gcd(w, step) = 1: windows reduced directly
        (256.0, 1.5, 0.5),  # window shorter than a 2-s segment: one segment per window
    ],
)
def test_other_geometries_vs_references(sfreq, w_sec, step_sec):
    x = eeg_like(n_channels=3, seconds=40, sfreq=sfreq, seed=3)
    w, step = round(w_sec * sfreq), round(step_sec * sfreq)
    per = compute_channel_features(
        x, sfreq, w_sec=w_sec, step_sec=step_sec, feature_set="basic_plus"
    )
    n = (x.shape[1] - w) // step + 1
    assert per["bp_alpha"].shape == (n, 3)
    f, psd = welch_ref(x, sfreq, w, step)
    df = f[1] - f[0]
    for b, m in band_masks(f).items():
        np.testing.assert_allclose(
            per[f"bp_{b}"], np.log10(psd[..., m].sum(-1).T * df + 1e-6), atol=2e-6
        )
    v = windows(x, w, step)
    np.testing.assert_allclose(per["kurtosis"], st.kurtosis(v, axis=-1).T, atol=2e-5)
    np.testing.assert_allclose(
        per["line_length"], np.abs(np.diff(v, axis=-1)).mean(-1).T, rtol=2e-6
    )
    dx = np.diff(v, axis=-1)
    mob = np.sqrt(dx.var(-1) / v.var(-1))
    np.testing.assert_allclose(per["hjorth_mobility"], mob.T, rtol=2e-6)
    comp = np.sqrt(np.diff(dx, axis=-1).var(-1) / dx.var(-1)) / mob
    np.testing.assert_allclose(per["hjorth_complexity"], comp.T, rtol=2e-6)


# --- mne-features, where the definitions match ----------------------------------------------------

MNE_PSD = {"welch_n_fft": 512, "welch_n_per_seg": 512, "welch_n_overlap": 256}
# mne-features selects bins lo <= f <= hi; these edges pick the same 0.5-Hz bins as BANDS.
MNE_BANDS = np.array([[0.5, 3.9], [4, 7.9], [8, 11.9], [12, 29.9], [30, 45]])


@pytest.fixture(scope="module")
def mne_ref(sig):
    """mne-features' univariate functions looped over the windows (mne-features 0.3.2)."""
    uni = pytest.importorskip("mne_features.univariate")
    utils = pytest.importorskip("mne_features.utils")
    x = sig[:6]
    out: dict[str, list] = {}
    for d in windows(x).transpose(1, 0, 2):
        psd, freqs = utils.power_spectrum(SF, d, psd_method="welch", **MNE_PSD)
        got = {
            "bp": uni.compute_pow_freq_bands(
                SF, d, freq_bands=MNE_BANDS, normalize=False, psd_params=MNE_PSD
            ).reshape(len(d), -1),
            "line_length": uni.compute_line_length(d),
            "hjorth_mobility": uni.compute_hjorth_mobility(d),
            "hjorth_complexity": uni.compute_hjorth_complexity(d),
            "variance": uni.compute_variance(d),
            "kurtosis": uni.compute_kurtosis(d),
            "sef95": uni.compute_spect_edge_freq(
                SF, d, ref_freq=45, edge=[0.95], psd_params=MNE_PSD
            ),
            "spec_entropy_mne": uni.compute_spect_entropy(SF, d, psd_params=MNE_PSD),
            "psd": psd[:, (freqs >= 0.5) & (freqs <= 45)],
        }
        for k, v in got.items():
            out.setdefault(k, []).append(v)
    ours = compute_channel_features(x, SF, feature_set="basic_plus", window="hamming")
    return {k: np.asarray(v) for k, v in out.items()}, ours


def test_vs_mne_features_band_powers(mne_ref):
    ref, ours = mne_ref
    df = SF / 512  # mne-features sums the PSD bins; we integrate them (times the bin width)
    for i, b in enumerate(BANDS):
        np.testing.assert_allclose(
            ours[f"bp_{b}"], np.log10(ref["bp"][..., i] * df + 1e-6), atol=2e-6
        )
    rel = ref["bp"] / ref["bp"].sum(-1, keepdims=True)  # relative to 0.5-45 Hz, not 0-128 Hz
    for i, b in enumerate(BANDS):
        np.testing.assert_allclose(ours[f"rbp_{b}"], rel[..., i], atol=2e-7)


def test_vs_mne_features_time_domain(mne_ref):
    ref, ours = mne_ref
    np.testing.assert_allclose(ours["line_length"], ref["line_length"], rtol=2e-6)
    np.testing.assert_allclose(ours["variance"], np.log10(ref["variance"] + 1e-6), atol=2e-6)
    # mne-features kurtosis is Pearson's (fisher=False); ours is excess kurtosis
    np.testing.assert_allclose(ours["kurtosis"], ref["kurtosis"] - 3, atol=2e-5)


def test_vs_mne_features_hjorth(sig):
    """mne-features prepends a 0 sample to the window before differencing (up to 4 % on mobility
    here, and about 30 % on complexity, which pads twice). With that 0 made part of our windows
    (non-overlapping windows ``[0, window]``), mobility matches; complexity does not, and is
    checked against numpy only."""
    uni = pytest.importorskip("mne_features.univariate")
    v = windows(sig[:6]).transpose(1, 0, 2)  # [n, C, w]
    n, C, w = v.shape
    padded = np.concatenate([np.concatenate([np.zeros((C, 1)), d], 1) for d in v], 1)
    ours = compute_channel_features(
        padded.astype(np.float32), SF, w_sec=(w + 1) / SF, step_sec=(w + 1) / SF
    )
    ref = np.array([uni.compute_hjorth_mobility(d) for d in v])
    np.testing.assert_allclose(ours["hjorth_mobility"], ref, rtol=2e-6)


def test_vs_mne_features_spectral_shape(mne_ref):
    ref, ours = mne_ref
    # SEF: mne-features accumulates from 0 Hz, and its DC bin holds the 0.5-Hz power that the
    # window leaks there; that lowers its edge a little. On its PSD over 0.5-45 Hz, our definition
    # gives our values (but for float32 ties).
    diff = ours["sef95"] - ref["sef95"]
    assert (diff >= 0).all() and diff.max() <= 2.5 and (diff == 0).mean() > 0.6
    psd = ref["psd"]
    cum = np.cumsum(psd, -1)
    freqs = np.arange(1, 91) * SF / 512
    sef = freqs[(cum < 0.95 * cum[..., -1:]).sum(-1)]
    assert np.abs(ours["sef95"] - sef).max() <= 0.5 and (ours["sef95"] != sef).mean() < 0.01
    # Entropy: mne-features takes log2 over 0-128 Hz, unnormalised; ours is normalised Shannon
    # entropy over 0.5-45 Hz. On mne-features' own PSD, our definition gives our values.
    p = psd / psd.sum(-1, keepdims=True)
    ent = -(p * np.log(p)).sum(-1) / np.log(p.shape[-1])
    np.testing.assert_allclose(ours["spec_entropy"], ent, atol=2e-6)
    assert st.spearmanr(ours["spec_entropy"].ravel(), ref["spec_entropy_mne"].ravel()).statistic > 0


# --- properties -----------------------------------------------------------------------------------


@pytest.mark.parametrize("feature_set", FEATURE_SETS)
def test_chunking_invariance_and_determinism(sig, feature_set):
    a = compute_features(sig, SF, feature_set=feature_set, chunk_windows=512)
    b = compute_features(sig, SF, feature_set=feature_set, chunk_windows=7)
    c = compute_features(sig, SF, feature_set=feature_set, chunk_windows=1)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(a, compute_features(sig, SF, feature_set=feature_set))


def test_layouts_and_dtypes_give_the_same_features(sig):
    a = compute_features(sig, SF, feature_set="basic_plus")
    time_major = np.ascontiguousarray(sig.T)  # the cache's [T, C] layout, viewed as [C, T]
    np.testing.assert_array_equal(a, compute_features(time_major.T, SF, feature_set="basic_plus"))
    np.testing.assert_array_equal(
        a, compute_features(sig.astype(np.float64), SF, feature_set="basic_plus")
    )
    # a block that starts later: its windows are the later windows
    b = compute_features(sig[:, 3 * STEP :], SF, feature_set="basic")
    np.testing.assert_array_equal(compute_features(sig, SF, feature_set="basic")[3:], b)


def test_pure_alpha_sine_puts_alpha_on_top():
    t = np.arange(60 * 256) / SF
    x = np.tile(20 * np.sin(2 * np.pi * 10 * t), (18, 1)).astype(np.float32)
    per = compute_channel_features(x, SF, feature_set="basic_plus")
    bp = np.stack([per[f"bp_{b}"] for b in BANDS], -1)
    assert (bp.argmax(-1) == list(BANDS).index("alpha")).all()
    assert (per["rbp_alpha"] > 0.99).all()
    # Hann leakage spreads 1/6, 2/3, 1/6 of the tone over 9.5, 10, 10.5 Hz: 95 % is at 10.5 Hz
    assert (per["sef95"] == 10.5).all()
    leak = np.array([1, 4, 1]) / 6
    np.testing.assert_allclose(
        per["spec_entropy"], -(leak * np.log(leak)).sum() / np.log(90), atol=1e-5
    )
    assert (per["ratio_theta_alpha"] < -3).all() and (per["ratio_beta_alpha"] < -3).all()
    # a sine's kurtosis is -1.5, its Hjorth complexity 1, its mobility 2 sin(pi f / fs)
    np.testing.assert_allclose(per["kurtosis"], -1.5, atol=1e-3)
    np.testing.assert_allclose(per["hjorth_complexity"], 1.0, atol=1e-3)
    np.testing.assert_allclose(per["hjorth_mobility"], 2 * np.sin(np.pi * 10 / SF), rtol=1e-3)
    out = compute_features(x, SF, feature_set="basic")
    col = dict(zip(feature_names("basic"), out.T, strict=True))
    assert np.allclose(col["bp_alpha_std"], 0, atol=1e-4)  # every channel the same


def test_beta_sine_moves_power_and_edge_up():
    t = np.arange(60 * 256) / SF
    x = np.tile(20 * np.sin(2 * np.pi * 20 * t), (18, 1)).astype(np.float32)
    per = compute_channel_features(x, SF, feature_set="basic_plus")
    assert (per["rbp_beta"] > 0.99).all()
    assert (per["ratio_beta_alpha"] > 3).all()
    assert (np.abs(per["sef95"] - 20) <= 0.5).all()


# --- NaN policy ----------------------------------------------------------------------------------


def artifacts(sig):
    """The signal with a zero-flat stretch, a constant-offset stretch, a NaN run, single NaNs, an
    inf, a huge step and a channel that is all zero."""
    x = sig.copy()
    x[:, 1000:4000] = 0.0
    x[2, 5000:9000] = 1234.5
    x[3, 10_000:10_700] = np.nan
    x[:, 12_345] = np.nan
    x[4, 13_000] = np.inf
    x[5, 15_000:] += 1e6
    x[6] = 0.0
    x[7, 20_000:21_000] = -np.inf
    return x


@pytest.mark.parametrize("feature_set", FEATURE_SETS)
def test_artifacts_give_finite_features(sig, feature_set):
    x = artifacts(sig)
    out = compute_features(x, SF, feature_set=feature_set)
    assert np.isfinite(out).all()
    # NaN and inf samples are replaced by 0 before computing: the same as cleaning by hand
    clean = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
    np.testing.assert_array_equal(out, compute_features(clean, SF, feature_set=feature_set))


def test_nan_only_touches_its_windows(sig):
    x = sig.copy()
    x[:, 20 * 256] = np.nan  # inside windows 3 (15-25 s) and 4 (20-30 s)
    a = compute_features(sig, SF, feature_set="basic")
    b = compute_features(x, SF, feature_set="basic", chunk_windows=2)
    same = np.ones(len(a), bool)
    same[[3, 4]] = False
    np.testing.assert_array_equal(a[same], b[same])
    assert np.isfinite(b).all()


@pytest.mark.parametrize("value", [0.0, 1234.5, np.nan])
def test_flat_block_values(value):
    x = np.full((18, 30 * 256), value, np.float32)
    per = compute_channel_features(x, SF, feature_set="connectivity_light")
    for name, v in per.items():
        assert np.isfinite(v).all(), name
    for b in BANDS:
        np.testing.assert_allclose(per[f"bp_{b}"], -6.0, atol=1e-3)
        assert (per[f"rbp_{b}"] == 0).all()
    for name in ("ratio_theta_alpha", "ratio_beta_alpha", "ratio_slow_fast"):
        np.testing.assert_allclose(per[name], 0.0, atol=1e-3)
    for name in ("spec_entropy", "sef95", "line_length", "hjorth_mobility", "hjorth_complexity",
                 "kurtosis", "coh_alpha", "coh_beta"):  # fmt: skip
        assert (per[name] == 0).all(), name
    np.testing.assert_allclose(per["variance"], -6.0, atol=1e-3)
    assert np.isfinite(compute_features(x, SF, feature_set="connectivity_light")).all()


def test_huge_values_stay_finite(sig):
    x = sig.copy()
    x[:, 8000:] += 1e6  # a huge step
    x[1, 3000] = 3e9  # a spike whose 4th power overflows float32
    x[2, 4000:4100] = -1e30
    for fs in FEATURE_SETS:
        out = compute_features(x, SF, feature_set=fs)
        assert np.isfinite(out).all()
    per = compute_channel_features(x, SF, feature_set="basic")
    assert (per["kurtosis"][:, 0] > -3).all()


def test_one_channel_and_custom_pairs(sig):
    out = compute_features(sig[:1], SF, feature_set="basic_plus")
    col = dict(zip(feature_names("basic_plus", 1), out.T, strict=True))
    assert (col["bp_alpha_std"] == 0).all()
    pairs = [(0, 1), (1, 2)]
    conn = compute_features(sig[:3], SF, feature_set="connectivity_light", channel_pairs=pairs)
    assert conn.shape[1] == len(feature_names("connectivity_light", 3, channel_pairs=pairs)) == 72
    full = compute_channel_features(sig, SF, feature_set="connectivity_light", channel_pairs=pairs)
    np.testing.assert_array_equal(conn[:, 68:70], full["coh_alpha"].astype(np.float32))


# --- Relative features (features.relative_min) ------------------------------------------------


def relative_reference(features, windows, minutes, min_windows):
    """Window by window: the features minus the median of the earlier good windows of the same
    segment that ended within ``minutes``; 0 without enough of them."""
    names = [c for c in features.columns if c != "window"]
    values = features[names].to_numpy(float)
    good = ~windows.bad.to_numpy()
    end, seg = windows.end_sec.to_numpy(), windows.segment.to_numpy()
    out = np.zeros_like(values)
    for i in range(len(values)):
        earlier = good & (seg == seg[i]) & (end < end[i]) & (end >= end[i] - minutes * 60)
        if earlier.sum() >= min_windows:
            out[i] = values[i] - np.median(values[earlier], axis=0)
    return out


def relative_case(seed=0, n=400):
    rng = np.random.default_rng(seed)
    start = np.arange(n) * 5.0 + np.where(np.arange(n) >= 250, 3000.0, 0.0)  # a gap, new segment
    windows = pd.DataFrame(
        {
            "window": np.arange(n),
            "end_sec": start + 10,
            "segment": (np.arange(n) >= 250).astype(int),
            "bad": rng.random(n) < 0.1,
        }
    )
    features = pd.DataFrame(
        {"window": np.arange(n), "a": rng.normal(size=n), "b": rng.gamma(2, size=n)}
    )
    return features, windows


def test_relative_features_match_the_window_by_window_reference():
    from preictal.features.relative import relative_features

    features, windows = relative_case()
    got = relative_features(features, windows, minutes=5, min_windows=12)
    want = relative_reference(features, windows, 5, 12)
    assert list(got.columns) == ["window", "a", "b"] and got.window.equals(features.window)
    np.testing.assert_allclose(got[["a", "b"]].to_numpy(), want, rtol=1e-6, atol=1e-6)
    assert (got.a.iloc[:13] == 0).all() and (got.a.iloc[250:263] == 0).all()  # no baseline yet
    assert (got.a.iloc[100:200] != 0).all()


def test_relative_features_are_causal_and_remove_a_patient_level():
    from preictal.features.relative import model_feature_table, relative_features

    features, windows = relative_case()
    base = relative_features(features, windows, minutes=60)
    future = features.copy()
    future.loc[200:, ["a", "b"]] += 100.0  # changing later windows leaves earlier ones alone
    np.testing.assert_array_equal(
        relative_features(future, windows, minutes=60).iloc[:200], base.iloc[:200]
    )
    shifted = features.assign(a=features.a + 7.0, b=features.b + 3.0)  # a patient's level
    np.testing.assert_allclose(
        relative_features(shifted, windows, minutes=60)[["a", "b"]], base[["a", "b"]], atol=1e-5
    )
    assert model_feature_table(features, windows, None) is features  # relative_min: null
    assert model_feature_table(features, windows, 60).equals(base)
    with pytest.raises(ValueError, match="not aligned"):
        relative_features(features.iloc[::-1], windows, minutes=60)
