"""FusionNet's patient-relative spectrogram: the per-window spectra against torch.stft, the causal
reference, and the network's use of it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from preictal.models.fusion.reference import (
    spectral_reference,
    window_log_spectra,
    write_spectral_reference,
)

SFREQ, W = 256, 2560


def stft_reference_spectrum(signal: np.ndarray, start: int) -> np.ndarray:
    """torch.stft's log1p magnitude, first 48 bins, over the frames fully inside the window."""
    x = torch.from_numpy(np.nan_to_num(signal[:, start : start + W].astype(np.float32)))
    z = torch.stft(
        x, n_fft=SFREQ, hop_length=SFREQ // 4, window=torch.hann_window(SFREQ), center=False,
        return_complex=True,
    )  # fmt: skip
    return torch.log1p(z.abs()[:, :48]).mean(dim=-1).numpy()


def test_window_spectra_equal_torch_stft_for_any_start():
    rng = np.random.default_rng(0)
    signal = rng.normal(0, 20, (5, 40 * SFREQ)).astype(np.float16)
    signal[2, 5000:5100] = np.nan  # non-finite samples count as 0
    # Two hop grids (a block boundary that is not a multiple of the hop) in one chunk.
    starts = np.array([0, 1280, 2560, 3840 + 17, 5120 + 17, 40 * SFREQ - W])
    spectra = window_log_spectra(signal, starts, W, SFREQ)
    assert spectra.shape == (6, 5, 48) and spectra.dtype == np.float32
    for row, start in enumerate(starts):
        np.testing.assert_allclose(spectra[row], stft_reference_spectrum(signal, start), atol=1e-5)


def windows_frame(n: int, step_sec: float = 5.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "window": np.arange(n),
            "start_sample": np.arange(n) * int(step_sec * SFREQ),
            "end_sec": np.arange(n) * step_sec + 10.0,
            "segment": 0,
            "bad": False,
        }
    )


def test_reference_is_the_median_of_earlier_windows_and_never_looks_ahead():
    rng = np.random.default_rng(1)
    n, minutes = 60, 2.0  # 2 min of 5-s steps: 24 earlier windows
    spectra = rng.normal(size=(n, 3, 4)).astype(np.float32)
    windows = windows_frame(n)
    windows.loc[30, "bad"] = True
    ref = spectral_reference(spectra, windows, minutes, min_windows=12)
    assert ref.dtype == np.float16
    # Too few earlier windows: the window's own spectrum.
    np.testing.assert_allclose(ref[:12], spectra[:12], atol=2e-3)
    # Later: the median of the good windows that ended in the previous 2 minutes.
    for i in (12, 40, 59):
        end = windows.end_sec[i]
        earlier = (windows.end_sec >= end - 120) & (windows.end_sec < end) & ~windows.bad
        np.testing.assert_allclose(ref[i], np.median(spectra[earlier], axis=0), atol=5e-3)
    # Changing the spectra from window 40 on changes no reference before it.
    changed = spectra.copy()
    changed[40:] += 5.0
    ref2 = spectral_reference(changed, windows, minutes, min_windows=12)
    np.testing.assert_array_equal(ref2[:41], ref[:41])
    assert (ref2[41:] != ref[41:]).any(axis=(1, 2)).all()


def test_reference_store_is_written_for_the_window_table(tmp_path):
    rng = np.random.default_rng(2)
    signal_path = tmp_path / "signal.npy"
    np.save(signal_path, rng.normal(0, 10, (4, 120 * SFREQ)).astype(np.float16))
    windows = windows_frame(23)
    out = tmp_path / "spectral_reference.npy"
    ref = write_spectral_reference(
        str(signal_path), windows, str(out), sfreq=SFREQ, window_samples=W, minutes=1.0
    )
    np.testing.assert_array_equal(np.load(out), ref)
    assert ref.shape == (23, 4, 48)
    with pytest.raises(ValueError, match="not numbered"):
        write_spectral_reference(
            str(signal_path), windows.iloc[1:], str(out), sfreq=SFREQ, window_samples=W, minutes=1
        )


def test_network_takes_its_spectrogram_relative_to_the_reference():
    from preictal.models.fusion.net import FusionNet

    torch.manual_seed(0)
    net = FusionNet(n_channels=3, n_features=0, n_blocks=3, width=4).eval()
    x = torch.randn(2, 3, W) * 10
    reference = torch.randn(2, 3, 48)
    # A patient whose spectrum sits higher by a constant: relative to a reference that sits
    # higher by the same constant, the network sees the same input.
    shifted = net.spectrogram(x) + 1.5
    with torch.no_grad():
        direct = net.head(
            net.embed(
                net.encoder(net.input_norm(shifted - (reference + 1.5)[..., None])).mean(dim=(2, 3))
            )
        )
        via_forward = net(x, None, reference)["cls_logit"]
    np.testing.assert_allclose(direct[:, 0].numpy(), via_forward.numpy(), atol=1e-5)


def test_feature_branch_alone_ignores_the_signal():
    from preictal.models.fusion.net import FusionNet

    net = FusionNet(n_channels=3, n_features=5, use_spectrogram=False).eval()
    assert net.encoder is None and not any("encoder" in k for k in net.state_dict())
    feats = torch.randn(4, 5)
    out = net(torch.zeros(4, 0), feats)["cls_logit"]
    assert out.shape == (4,)
    with pytest.raises(ValueError, match="needs features"):
        FusionNet(n_channels=3, n_features=0, use_spectrogram=False)


def test_context_is_the_trailing_mean_of_the_timeline_and_never_looks_ahead():
    from preictal.models.fusion.fit import feature_input

    rng = np.random.default_rng(3)
    n = 40
    table = pd.DataFrame(
        {
            "case": ["chb01"] * 20 + ["chb02"] * 20,
            "segment": [0] * 10 + [1] * 10 + [0] * 20,
            "end_sec": np.concatenate([np.arange(20) * 5.0 + 10, np.arange(20) * 5.0 + 10]),
            "bad": False,
        }
    )
    feats = rng.normal(size=(n, 3))
    out = feature_input(feats, table, context_min=0.25)  # the window and the 2 before it
    assert out.shape == (n, 6) and out.dtype == np.float32
    np.testing.assert_allclose(out[:, :3], feats, rtol=1e-6)
    np.testing.assert_allclose(out[5, 3:], feats[3:6].mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(out[10, 3:], feats[10], rtol=1e-5)  # a new segment starts
    np.testing.assert_allclose(out[21, 3:], feats[20:22].mean(axis=0), rtol=1e-5)  # a new case
    changed = feats.copy()
    changed[8:] += 10.0
    np.testing.assert_array_equal(feature_input(changed, table, 0.25)[:8], out[:8])
    assert feature_input(feats, table, None).shape == (n, 3)
    # An artefact (bad) window stays out of the context of the windows after it; a window whose
    # last minutes hold only bad windows gets the training mean, 0.
    artefact = feats.copy()
    artefact[4] = 1e6
    with_bad = feature_input(artefact, table.assign(bad=table.index.isin([4, 25])), 0.25)
    np.testing.assert_allclose(with_bad[5, 3:], feats[[3, 5]].mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(with_bad[6, 3:], feats[[5, 6]].mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(with_bad[4, :3], artefact[4])  # its own features are kept
    lone = feature_input(feats, table.assign(bad=table.index == 20), 0.25)
    np.testing.assert_array_equal(lone[20, 3:], 0.0)
