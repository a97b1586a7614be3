"""FusionNet: spectrogram, shapes, gradients, SpecAugment, memory format."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from preictal.models.fusion.net import (
    N_FREQS,
    FusionNet,
    dft_basis,
    log_spectrogram,
    stft_magnitude,
)


def torch_stft_magnitude(x: torch.Tensor, n_freqs: int) -> torch.Tensor:
    """The reference: ``|torch.stft|`` with the model's framing, first ``n_freqs`` bins."""
    b, c, t = x.shape
    z = torch.stft(
        x.reshape(b * c, t).double(),
        n_fft=256,
        hop_length=64,
        win_length=256,
        window=torch.hann_window(256, dtype=torch.float64),
        center=True,
        pad_mode="reflect",
        return_complex=True,
    ).abs()
    return z.reshape(b, c, 129, -1)[:, :, :n_freqs].float()


def test_spectrogram_shape_and_values():
    torch.manual_seed(0)
    x = torch.randn(2, 18, 2560) * 20
    m = FusionNet()
    s = m.spectrogram(x)
    assert N_FREQS == 48
    assert s.shape == (2, 18, 48, 41)  # bins 0-47 of n_fft 256; 1 + 2560 // 64 frames
    assert s.dtype == torch.float32
    # frame k is centred on sample 64 k: compare an interior frame with numpy
    k = 10
    seg = x[1, 3, 64 * k - 128 : 64 * k + 128].double().numpy()
    ref = np.log1p(np.abs(np.fft.rfft(seg * np.hanning(257)[:-1])))[:48]  # periodic Hann
    np.testing.assert_allclose(s[1, 3, :, k].numpy(), ref, rtol=1e-4, atol=1e-4)


def test_spectrogram_of_float16_input_is_float32():
    x = (torch.randn(1, 2, 512) * 20).half()
    s = log_spectrogram(x, dft_basis())
    assert s.dtype == torch.float32 and s.shape == (1, 2, 48, 9)


@pytest.mark.parametrize("method", ["conv", "matmul", "auto"])
@pytest.mark.parametrize("n_freqs", [48, 129])
@pytest.mark.parametrize("t", [2560, 1000])
def test_stft_magnitude_matches_torch_stft(method, n_freqs, t):
    torch.manual_seed(1)
    x = torch.randn(3, 5, t) * 20
    x[0, 0] += 200 * torch.sin(2 * torch.pi * 10 * torch.arange(t) / 256)  # a 10 Hz line
    ref = torch_stft_magnitude(x, n_freqs)
    mag = stft_magnitude(x, dft_basis(n_freqs), method)
    assert mag.shape == (3, 5, n_freqs, 1 + t // 64) and mag.dtype == torch.float32
    # float32 rounding of a 256-term sum: tight relative to the largest magnitude
    torch.testing.assert_close(mag, ref, rtol=1e-4, atol=1e-5 * float(ref.max()))
    torch.testing.assert_close(
        log_spectrogram(x, dft_basis(n_freqs), method), torch.log1p(ref), rtol=0, atol=1e-4
    )
    assert int(mag[0, 0, :, 5:-5].mean(dim=1).argmax()) == 10


def test_dft_basis_and_bad_arguments():
    b = dft_basis(48)
    assert b.shape == (96, 256) and b.dtype == torch.float32
    # bin 0: the window itself (real), no imaginary part
    torch.testing.assert_close(b[0], torch.hann_window(256))
    assert float(b[48].abs().max()) < 1e-7
    for n in (0, 130):
        with pytest.raises(ValueError):
            dft_basis(n)
    with pytest.raises(ValueError):
        stft_magnitude(torch.randn(1, 1, 512), b, "fft")


def test_n_freqs_and_basis_buffer():
    m = FusionNet(n_channels=2, width=4, n_freqs=129)
    assert m.spectrogram(torch.randn(1, 2, 512)).shape == (1, 2, 129, 9)
    # a buffer, so .to(device) moves it; not persistent, so checkpoints do not carry it
    assert "dft_basis" in dict(m.named_buffers())
    assert "dft_basis" not in m.state_dict()
    m.to(torch.float64)  # the basis follows; the spectrogram stays float32
    assert m.spectrogram(torch.randn(1, 2, 512)).dtype == torch.float32


def test_spectrogram_is_float32_under_bf16_autocast():
    torch.manual_seed(0)
    m = FusionNet(n_channels=2, width=4).eval()
    x = torch.randn(2, 2, 1024) * 20
    with torch.autocast("cpu", dtype=torch.bfloat16):
        s = m.spectrogram(x)
        out = m(x)["cls_logit"]
    assert s.dtype == torch.float32
    torch.testing.assert_close(s, m.spectrogram(x))
    assert torch.isfinite(out).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu():
    torch.manual_seed(0)
    m = FusionNet(n_channels=4, width=8).eval()
    x = torch.randn(3, 4, 2560) * 20
    ref_s, ref = m.spectrogram(x), m(x)["cls_logit"]
    m.to("cuda")
    assert m.dft_basis.device.type == "cuda"
    s = m.spectrogram(x.cuda())
    torch.testing.assert_close(s.cpu(), ref_s, rtol=0, atol=1e-4)
    # the encoder may run its convolutions in TF32 on CUDA (the spectrogram does not)
    torch.testing.assert_close(m(x.cuda())["cls_logit"].cpu(), ref, rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("n_features", [0, 68])
def test_forward_shapes(n_features):
    m = FusionNet(n_channels=18, n_features=n_features).eval()
    x = torch.randn(3, 18, 2560) * 20
    feats = torch.randn(3, n_features) if n_features else None
    out = m(x, feats)
    assert set(out) == {"cls_logit", "soft_pred", "embedding"}
    assert out["cls_logit"].shape == (3,) and out["soft_pred"].shape == (3,)
    # The embedding is the head's hidden layer: the logits are a linear map of it (eval mode).
    assert out["embedding"].shape == (3, m.head[0].out_features)
    torch.testing.assert_close(m.head[3](out["embedding"])[:, 0], out["cls_logit"])
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
