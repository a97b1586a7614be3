"""FusionNet: spectrogram, shapes, gradients, SpecAugment, memory format."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from preictal.models.fusion_net import FusionNet, log_spectrogram


def test_spectrogram_shape_and_values():
    torch.manual_seed(0)
    x = torch.randn(2, 18, 2560) * 20
    m = FusionNet()
    s = m.spectrogram(x)
    assert s.shape == (2, 18, 129, 41)  # n_fft 256 -> 129 bins; 1 + 2560 // 64 frames
    assert s.dtype == torch.float32
    # frame k is centred on sample 64 k: compare an interior frame with numpy
    k = 10
    seg = x[1, 3, 64 * k - 128 : 64 * k + 128].double().numpy()
    ref = np.log1p(np.abs(np.fft.rfft(seg * np.hanning(257)[:-1])))  # periodic Hann
    np.testing.assert_allclose(s[1, 3, :, k].numpy(), ref, rtol=1e-4, atol=1e-4)


def test_spectrogram_of_float16_input_is_float32():
    x = (torch.randn(1, 2, 512) * 20).half()
    s = log_spectrogram(x, torch.hann_window(256))
    assert s.dtype == torch.float32 and s.shape == (1, 2, 129, 9)


@pytest.mark.parametrize("n_features", [0, 68])
def test_forward_shapes(n_features):
    m = FusionNet(n_channels=18, n_features=n_features).eval()
    x = torch.randn(3, 18, 2560) * 20
    feats = torch.randn(3, n_features) if n_features else None
    out = m(x, feats)
    assert set(out) == {"cls_logit", "soft_pred"}
    assert out["cls_logit"].shape == (3,) and out["soft_pred"].shape == (3,)
    assert torch.all((out["soft_pred"] > 0) & (out["soft_pred"] < 1))
    if n_features:
        with pytest.raises(ValueError):
            m(x)


@pytest.mark.parametrize("n_blocks", [3, 4])
def test_blocks_configurable(n_blocks):
    m = FusionNet(n_channels=4, n_blocks=n_blocks, width=8, embed_dim=32)
    convs = [mod for mod in m.encoder if isinstance(mod, torch.nn.Conv2d)]
    assert len(convs) == n_blocks
    assert convs[-1].out_channels == 8 * 2 ** (n_blocks - 1)
    assert m.embed[0].out_features == 32
    assert m(torch.randn(2, 4, 512))["cls_logit"].shape == (2,)


def test_gradient_flows_to_every_parameter():
    torch.manual_seed(0)
    m = FusionNet(n_channels=4, n_features=5, width=8, dropout=0.0)
    out = m(torch.randn(4, 4, 1024) * 20, torch.randn(4, 5))
    loss = out["cls_logit"].pow(2).mean() + out["soft_pred"].mean()
    loss.backward()
    for name, p in m.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_spec_augment_masks_bands_and_only_in_training(monkeypatch):
    torch.manual_seed(0)
    m = FusionNet(n_channels=2, width=4, spec_augment=True, freq_mask=10, time_mask=4)
    s = m._spec_augment(torch.ones(8, 2, 129, 41))
    zero = s == 0
    assert zero.any()
    # masks are whole frequency rows or time columns, shared across channels
    assert torch.equal(zero[:, 0], zero[:, 1])
    for b in range(8):
        z = zero[b, 0]
        rows, cols = z.all(dim=1), z.all(dim=0)
        assert torch.equal(z, rows[:, None] | cols[None, :])
        assert rows.sum() < 10 and cols.sum() < 4

    calls = []
    monkeypatch.setattr(m, "_spec_augment", lambda s: calls.append(1) or s)
    m.eval()
    m(torch.randn(2, 2, 512))
    assert calls == []
    m.train()
    m(torch.randn(2, 2, 512))
    assert calls == [1]
    m.spec_augment = False
    m(torch.randn(2, 2, 512))
    assert calls == [1]


def test_channels_last_gives_the_same_output():
    torch.manual_seed(0)
    m = FusionNet(n_channels=4, width=8).eval()
    x = torch.randn(3, 4, 1024) * 20
    ref = m(x)["cls_logit"]
    m.to(memory_format=torch.channels_last)
    assert m.encoder[0].weight.is_contiguous(memory_format=torch.channels_last)
    out = m(x)["cls_logit"]
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-4)
