"""EDF signal reader (vs MNE and edfio) and the preprocessing filters (vs their design, scipy's
sosfiltfilt, MNE).  No timing here: see benchmarks/bench_filters.py."""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pytest
import scipy.fft
import scipy.signal

from preictal.chbmit.edf import EdfError
from preictal.signal import edf_read
from preictal.signal.edf_read import read_edf_signals
from preictal.signal.filters import (
    KERNEL_TAIL_TOL,
    bandpass_notch,
    design_response,
    design_sos,
    notch_frequencies,
    resample,
    zero_phase_kernel,
)
from preictal.synthetic.dataset import PHYSICAL_RANGE_UV, write_edf

FS = 256.0
F32_EPS = float(np.finfo(np.float32).eps)
LABELS = ["FP1-F7", "T8-P8", "-", "T8-P8", "CZ-PZ"]  # a duplicate and a dummy, as in CHB-MIT


def _edfio_write(path, signals, record_sec=1.0):
    import edfio

    edf = edfio.Edf(
        signals,
        recording=edfio.Recording(startdate=dt.date(2001, 1, 1)),
        starttime=dt.time(10, 0, 0),
        data_record_duration=record_sec,
    )
    edf.write(path)


def _mne_uv(path):
    import mne

    raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
    return raw.get_data() * 1e6


def _eeg(seconds: float, n_ch: int = 4, seed: int = 0) -> np.ndarray:
    """Realistic synthetic EEG (µV, float32) plus 60/120 Hz mains and a DC offset."""
    from preictal.synthetic.params import ArtifactRates, PatientProfile, PreictalEffect
    from preictal.synthetic.plan import STANDARD_MONTAGE
    from preictal.synthetic.signals import synthesize_recording

    x, _ = synthesize_recording(
        labels=STANDARD_MONTAGE[:n_ch],
        duration_sec=seconds,
        sfreq=FS,
        profile=PatientProfile.from_seed(seed),
        effect=PreictalEffect(),
        seizures=[],
        artifacts=ArtifactRates(),
        rng=np.random.default_rng(seed),
    )
    t = np.arange(x.shape[1]) / FS
    mains = 15 * np.sin(2 * np.pi * 60 * t + 0.3) + 4 * np.sin(2 * np.pi * 120 * t)
    return (x + mains + 150.0).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# EDF reader
# ---------------------------------------------------------------------------------------------


def test_read_matches_mne_and_edfio(tmp_path):
    import edfio

    rng = np.random.default_rng(1)
    data = rng.normal(0, 200, (len(LABELS), 37 * 256)).astype(np.float32)
    data[0, :100] = 5000  # clipped at the physical range
    path = tmp_path / "chb99_01.edf"
    write_edf(path, data, LABELS, FS, start_sec=3600)
    x, sfreq, header = read_edf_signals(path)
    assert x.dtype == np.float32 and x.shape == (5, 37 * 256) and sfreq == FS
    assert header.labels == tuple(LABELS)
    assert (
        header.digital_min == (-32768,) * 5 and header.physical_max == (PHYSICAL_RANGE_UV[1],) * 5
    )
    ref = _mne_uv(path)
    # One float32 rounding of the float64 value MNE computes.
    np.testing.assert_allclose(x, ref, rtol=F32_EPS, atol=0)
    # 16-bit round trip: half a digital step, after clipping to the physical range.
    np.testing.assert_allclose(x, np.clip(data, *PHYSICAL_RANGE_UV), atol=0.06)
    x64, _, _ = read_edf_signals(path, dtype=np.float64)
    np.testing.assert_allclose(x64, ref, rtol=1e-12, atol=1e-9)
    ed = edfio.read_edf(path)
    np.testing.assert_allclose(x64, np.stack([s.data for s in ed.signals]), rtol=1e-12, atol=1e-9)
    sub, _, _ = read_edf_signals(path, [3, 0, -1, 0])
    np.testing.assert_array_equal(sub, x[[3, 0, 4, 0]])


def test_read_calibration_units_and_chunks(tmp_path, monkeypatch, caplog):
    import edfio

    rng = np.random.default_rng(2)
    n = 61 * 200  # 61 records: not a multiple of the chunk used below
    sigs = [
        # asymmetric ranges: offsets matter
        edfio.EdfSignal(rng.uniform(-400, 700, n), 200, label="A", physical_dimension="uV",
                        physical_range=(-500, 800), digital_range=(-2048, 2047)),
        edfio.EdfSignal(rng.uniform(-0.3, 0.3, n), 200, label="B", physical_dimension="mV",
                        physical_range=(-0.4, 0.5), digital_range=(-32768, 32767)),
        edfio.EdfSignal(rng.uniform(-3e-4, 3e-4, n), 200, label="C", physical_dimension="V",
                        physical_range=(-5e-4, 5e-4), digital_range=(0, 65535 // 2)),
    ]  # fmt: skip
    path = tmp_path / "cal.edf"
    _edfio_write(path, sigs)
    ref = _mne_uv(path)
    x, sfreq, _ = read_edf_signals(path)
    assert sfreq == 200
    np.testing.assert_allclose(x, ref, rtol=F32_EPS, atol=0)
    np.testing.assert_allclose(x[1], edfio.read_edf(path).signals[1].data * 1e3, rtol=1e-6)
    # Small chunks: the same values, and the memory beyond the output stays at one chunk.
    import tracemalloc

    monkeypatch.setattr(edf_read, "_CHUNK_BYTES", 7 * 3 * 200 * 2)
    tracemalloc.start()
    x2, _, _ = read_edf_signals(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    np.testing.assert_array_equal(x2, x)
    assert peak < x2.nbytes + 64 * 1024
    # An unknown unit is read as µV, with a warning.
    sigs[0] = edfio.EdfSignal(np.zeros(n), 200, label="A", physical_dimension="degC",
                              physical_range=(-1, 1))  # fmt: skip
    _edfio_write(path, sigs)
    with caplog.at_level(logging.WARNING, logger="preictal.signal.edf_read"):
        x3, _, _ = read_edf_signals(path, [0, 1])
    assert "'degC'" in caplog.text and "microvolts" in caplog.text and "cal.edf" in caplog.text
    np.testing.assert_allclose(x3[1], x[1])


def test_read_rates_and_errors(tmp_path):
    import edfio

    path = tmp_path / "chb99_02.edf"
    sigs = [
        edfio.EdfSignal(np.zeros(20 * 256), 256, label="FP1-F7", physical_range=(-1, 1)),
        edfio.EdfSignal(np.ones(20 * 128), 128, label="ECG", physical_range=(-2, 2)),
        edfio.EdfSignal(np.zeros(20 * 256), 256, label="F7-T7", physical_range=(-1, 1)),
    ]
    _edfio_write(path, sigs)
    with pytest.raises(EdfError, match=r"chb99_02.edf: selected channels have different"):
        read_edf_signals(path)
    x, sfreq, _ = read_edf_signals(path, [0, 2])
    assert x.shape == (2, 20 * 256) and sfreq == 256
    x, sfreq, _ = read_edf_signals(path, [1])
    assert sfreq == 128 and np.allclose(x, 1.0, atol=1e-4)
    with pytest.raises(IndexError):
        read_edf_signals(path, [3])

    raw = path.read_bytes()
    path.write_bytes(raw[:-10])
    with pytest.raises(EdfError, match=r"chb99_02.edf: truncated EDF"):
        read_edf_signals(path)
    path.write_bytes(b"garbage" + raw[7:])
    with pytest.raises(EdfError, match=r"chb99_02.edf"):
        read_edf_signals(path)


def test_read_chbmit_shaped_file_matches_mne(tmp_path):
    """A CHB-MIT-shaped file (23 channels, T8-P8 twice) from the synthetic generator."""
    from preictal.synthetic.params import ArtifactRates, PatientProfile, PreictalEffect
    from preictal.synthetic.plan import STANDARD_MONTAGE
    from preictal.synthetic.signals import synthesize_recording

    data, _ = synthesize_recording(
        labels=STANDARD_MONTAGE,
        duration_sec=600,
        sfreq=256,
        profile=PatientProfile.from_seed(3),
        effect=PreictalEffect(),
        seizures=[(300.0, 340.0)],
        artifacts=ArtifactRates(),
        rng=np.random.default_rng(3),
    )
    path = tmp_path / "chb01_01.edf"
    write_edf(path, data, STANDARD_MONTAGE, 256)
    x, _, header = read_edf_signals(path)
    ref = _mne_uv(path)
    assert x.shape == ref.shape == (23, header.n_records * 256)
    np.testing.assert_allclose(x, ref, rtol=F32_EPS, atol=0)


# ---------------------------------------------------------------------------------------------
# Filter design
# ---------------------------------------------------------------------------------------------


def test_design():
    assert notch_frequencies(256, 60) == (60.0, 120.0)
    assert notch_frequencies(256, 60, False) == (60.0,)
    assert notch_frequencies(240, 60) == (60.0,)  # 120 Hz is Nyquist: left out
    assert notch_frequencies(256, None) == ()
    r = design_response([0.0, 0.5, 2, 10, 20, 45, 60, 120], FS)
    assert r[0] < 1e-20 and r[6] < 1e-20 and r[7] < 1e-20
    cutoffs = design_response([0.5, 45.0], FS, notch_hz=None)
    np.testing.assert_allclose(cutoffs, 0.5, rtol=1e-6)  # -6 dB cut-offs
    np.testing.assert_allclose(r[2:5], 1.0, atol=2e-3)
    # The notch's -6 dB width is f0 / notch_q.
    np.testing.assert_allclose(
        design_response([59.0, 61.0], FS, l_freq=None, h_freq=None), 0.5, atol=0.02
    )
    assert design_sos(FS).shape == (2 + 2 + 2, 6)  # 2 + 2 Butterworth sections, 2 notches
    assert np.allclose(design_response([3.0, 70.0], FS, l_freq=None, h_freq=None, notch_hz=None), 1)
    for bad in (dict(l_freq=50, h_freq=40), dict(h_freq=128), dict(l_freq=0), dict(notch_hz=130)):
        with pytest.raises(ValueError):
            design_sos(FS, **bad)


def test_kernel_spectrum_is_the_design():
    k = zero_phase_kernel(FS)
    n = 1 << 17
    half = k.size // 2
    circ = np.zeros(n)
    circ[: half + 1] = k[half:]
    circ[-half:] = k[:half]
    spec = scipy.fft.rfft(circ)
    f = scipy.fft.rfftfreq(n, 1 / FS)
    assert np.abs(spec.imag).max() < 1e-12  # symmetric: zero phase
    assert np.abs(spec.real - design_response(f, FS)).max() <= KERNEL_TAIL_TOL


# ---------------------------------------------------------------------------------------------
# Filtering
# ---------------------------------------------------------------------------------------------


def _db(v):
    """Amplitude gain in dB (|H|^2 is the zero-phase filter's amplitude gain)."""
    return 20 * np.log10(np.maximum(np.abs(v), 1e-30))


def test_impulse_response_matches_design_and_is_zero_phase():
    n = 1 << 16
    x = np.zeros((1, n), np.float32)
    x[0, n // 2] = 1.0
    y = bandpass_notch(x, FS)[0].astype(np.float64)
    half = zero_phase_kernel(FS).size // 2
    # Symmetric about the impulse, peaked there: zero phase, no delay.
    np.testing.assert_allclose(y[n // 2 + 1 :][:half], y[n // 2 - 1 :: -1][:half], atol=1e-8)
    assert np.argmax(y) == n // 2
    spec = scipy.fft.rfft(np.roll(y, -n // 2))
    f = scipy.fft.rfftfreq(n, 1 / FS)
    want = design_response(f, FS)
    assert np.abs(spec.imag).max() < 1e-6
    passband = (f >= 1) & (f <= 40)
    assert np.abs(_db(spec.real[passband]) - _db(want[passband])).max() < 0.1
    assert np.abs(spec.real - want).max() < 1e-6  # also in the stopbands
    m = np.abs(spec.real)
    assert _db(m[f <= 0.1]).max() < -80  # high-pass stopband
    assert _db(m[f >= 80]).max() < -60  # low-pass stopband
    assert _db(m[np.abs(f - 60) <= 0.02]).max() < -60  # notch
    assert _db(m[np.abs(f - 120) <= 0.02]).max() < -60


@pytest.mark.parametrize("freq", [1.0, 2.0, 10.0, 30.0, 40.0, 60.0, 120.0])
def test_sinusoid_gain(freq):
    t = np.arange(int(120 * FS)) / FS
    x = np.sin(2 * np.pi * freq * t + 0.7).astype(np.float32)
    y = bandpass_notch(x, FS)  # 1-D input
    mid = slice(int(30 * FS), int(90 * FS))
    # Least-squares amplitude and phase of the output at ``freq``.
    basis = np.stack(
        [np.sin(2 * np.pi * freq * t[mid] + 0.7), np.cos(2 * np.pi * freq * t[mid] + 0.7)]
    )
    a, b = np.linalg.lstsq(basis.T, y[mid].astype(np.float64), rcond=None)[0]
    gain = float(design_response([freq], FS)[0])
    if gain > 1e-3:
        assert abs(_db(a) - _db(gain)) < 0.01  # amplitude gain |H|^2
        assert abs(b) < 1e-5  # no phase shift
    else:
        assert np.hypot(a, b) < 1e-3  # >= 60 dB down


def test_white_noise_transfer_function():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, int(600 * FS))).astype(np.float32)
    y = bandpass_notch(x, FS)
    f, pxy = scipy.signal.csd(x, y, fs=FS, nperseg=4096)
    _, pxx = scipy.signal.welch(x, fs=FS, nperseg=4096)
    h = (pxy / pxx).mean(axis=0)
    band = (f >= 1) & (f <= 40)
    assert np.abs(_db(h.real[band]) - _db(design_response(f[band], FS))).max() < 0.1
    assert np.abs(np.angle(h[band])).max() < 1e-3
    # Cross-correlation of input and output peaks at lag 0.
    lags = scipy.signal.correlation_lags(4096, 4096)
    cc = scipy.signal.correlate(y[0, 8192:12288], x[0, 8192:12288])
    assert lags[np.argmax(cc)] == 0


def test_matches_sosfiltfilt_in_the_interior():
    x = _eeg(120)
    y = bandpass_notch(x, FS)
    ref = scipy.signal.sosfiltfilt(design_sos(FS), x.astype(np.float64), axis=-1)
    # Edges differ by design (reflection vs odd extension); both settle within ~10 s.
    mid = slice(int(15 * FS), -int(15 * FS))
    rms = ref[:, mid].std()
    # float32 FFTs and a kernel truncated at 1e-7: the error is ~1e-6 of the RMS.
    assert np.abs(y[:, mid] - ref[:, mid]).max() < 2e-5 * rms
    y64 = bandpass_notch(x.astype(np.float64), FS)
    assert y64.dtype == np.float64
    assert np.abs(y64[:, mid] - ref[:, mid]).max() < 1e-6 * rms
    # Other designs too: band-pass only, low-pass only (DC passes), notch only.
    for params in (
        dict(notch_hz=None),
        dict(l_freq=None, h_freq=30.0),
        dict(l_freq=None, h_freq=None),
    ):
        y = bandpass_notch(x, FS, **params)
        ref = scipy.signal.sosfiltfilt(design_sos(FS, **params), x.astype(np.float64), axis=-1)
        assert np.abs(y[:, mid] - ref[:, mid]).max() < 2e-5 * ref[:, mid].std()


def test_close_to_mne_in_the_passband():
    """MNE's default is an FIR (Hamming, firwin) with its passband up to 45 Hz and a 11.25 Hz
    transition band, while this design is Butterworth |H|^2 (-6 dB at 0.5 and 45 Hz).  Both are
    within 0.03 dB of unity in 2-20 Hz, so there the outputs must agree to 1 % RMS; across
    1-40 Hz they differ by the designs (up to ~3 dB at 40 Hz), which design_response documents."""
    import mne

    x = _eeg(180, n_ch=3)
    info = mne.create_info(3, FS, "eeg")
    raw = mne.io.RawArray(x.astype(np.float64) * 1e-6, info, verbose="error")
    raw.filter(0.5, 45.0, verbose="error").notch_filter([60.0, 120.0], verbose="error")
    ref = raw.get_data() * 1e6
    y = bandpass_notch(x, FS)
    f = scipy.fft.rfftfreq(x.shape[1], 1 / FS)
    assert np.abs(_db(design_response(f[(f >= 2) & (f <= 20)], FS))).max() < 0.03

    def band(v, lo, hi):
        spec = scipy.fft.rfft(v, axis=-1)
        spec[:, (f < lo) | (f > hi)] = 0
        return scipy.fft.irfft(spec, n=v.shape[1], axis=-1)[:, int(20 * FS) : -int(20 * FS)]

    a, b = band(y.astype(np.float64), 2, 20), band(ref, 2, 20)
    assert np.sqrt(np.mean((a - b) ** 2)) < 0.01 * b.std()
    # Mains and drift removed by both.
    for v in (y, ref):
        spec = np.abs(scipy.fft.rfft(v, axis=-1))
        assert spec[:, np.abs(f - 60) < 0.05].max() < 1e-3 * spec.max()


def test_vectorised_equals_channel_by_channel_and_deterministic():
    x = _eeg(60, n_ch=5)
    y = bandpass_notch(x, FS)
    for c in range(x.shape[0]):
        np.testing.assert_array_equal(y[c], bandpass_notch(x[c], FS))
    np.testing.assert_array_equal(y, bandpass_notch(x, FS))
    np.testing.assert_array_equal(y, bandpass_notch(x, FS, workers=2))
    assert y.dtype == np.float32 and y.shape == x.shape
    np.testing.assert_array_equal(x, _eeg(60, n_ch=5))  # input untouched


def test_artifacts_stay_confined_and_bounded():
    x = _eeg(120, n_ch=3)
    k = zero_phase_kernel(FS)
    half = k.size // 2
    z = x.copy()
    a, b = int(50 * FS), int(60 * FS)
    z[0, a:] += 3000.0  # amplifier step
    z[1, a:b] = 0.0  # flat drop-out
    z[2, a:b] = 3276.7  # clipped plateau
    yx, yz = bandpass_notch(x, FS), bandpass_notch(z, FS)
    assert np.isfinite(yz).all()
    assert np.abs(yz).max() <= np.abs(k).sum() * np.abs(z).max()
    # An FIR: changes reach one kernel half-length around them (beyond it: float32 rounding of
    # FFT blocks that hold the 3000 µV artifact, ~1e-7 of it).
    np.testing.assert_allclose(yz[1:, : a - half], yx[1:, : a - half], atol=1e-3)
    np.testing.assert_allclose(yz[1:, b + half :], yx[1:, b + half :], atol=1e-3)
    np.testing.assert_allclose(yz[0, : a - half], yx[0, : a - half], atol=1e-3)
    assert (
        np.abs(yz[1:, a - half // 4 : b + half // 4] - yx[1:, a - half // 4 : b + half // 4]).max()
        > 10
    )
    # A step's response decays to nothing a kernel half-length after it.
    assert np.abs(yz[0, a + half :] - yx[0, a + half :]).max() < 1e-3
    flat = bandpass_notch(np.zeros((2, 5000), np.float32) + [[0.0], [1000.0]], FS)
    assert np.all(flat[0] == 0) and np.abs(flat[1]).max() < 1e-3


def test_nan_samples_are_bridged_reported_and_kept(caplog):
    x = _eeg(90, n_ch=3)
    half = zero_phase_kernel(FS).size // 2
    a, b = int(40 * FS), int(41 * FS)
    z = x.copy()
    z[0, a:b] = np.nan
    z[1, 100] = np.inf
    z[2] = np.nan
    with caplog.at_level(logging.WARNING, logger="preictal.signal.filters"):
        y = bandpass_notch(z, FS)
    assert "non-finite samples in 3 of 3 channels" in caplog.text
    assert np.isnan(y[0, a:b]).all() and np.isfinite(np.delete(y[0], np.s_[a:b])).all()
    assert np.isnan(y[1, 100]) and np.isfinite(np.delete(y[1], 100)).all()
    assert np.isnan(y[2]).all()
    # The bridge only changes the output within a kernel half-length of the gap.
    bridged = x[0].copy()
    bridged[a:b] = np.interp(np.arange(a, b), [a - 1, b], [x[0, a - 1], x[0, b]])
    ref = bandpass_notch(bridged, FS)
    ref[a:b] = np.nan
    np.testing.assert_allclose(y[0], ref, atol=1e-4)
    np.testing.assert_allclose(y[0, : a - half], bandpass_notch(x[0], FS)[: a - half], atol=1e-4)
    # The finite channel is unaffected by its neighbours' NaNs.
    filled = bandpass_notch(z, FS, keep_nan=False)
    assert np.isfinite(filled[:2]).all() and np.all(filled[2] == 0)
    np.testing.assert_array_equal(filled[0], bandpass_notch(bridged, FS))


@pytest.mark.parametrize("n", [0, 1, 2, 7, 300, 5000])
def test_short_signals(n):
    x = np.random.default_rng(n).normal(size=(2, n)).astype(np.float32) + 10
    y = bandpass_notch(x, FS)
    assert y.shape == (2, n) and np.isfinite(y).all()


# ---------------------------------------------------------------------------------------------
# Resampling
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fs_out, up, down", [(128.0, 1, 2), (100.0, 25, 64), (512.0, 2, 1)])
def test_resample_matches_scipy(fs_out, up, down):
    x = _eeg(20, n_ch=2)
    y = resample(x, FS, fs_out)
    ref = scipy.signal.resample_poly(x, up, down, axis=-1)
    assert y.dtype == np.float32 and y.shape == (2, -(-x.shape[1] * up // down))
    np.testing.assert_array_equal(y, ref)
    np.testing.assert_array_equal(resample(x.T, FS, fs_out, axis=0), ref.T)


def test_resample_edge_cases():
    x = np.ones((1, 10), np.float32)
    assert resample(x, FS, FS) is x
    with pytest.raises(ValueError):
        resample(x, FS, 256 * np.pi)
    with pytest.raises(ValueError):
        resample(x, 0, FS)
