"""FusionNet: a small CNN on the log-magnitude spectrogram of a window, fused with a feature MLP.

Input: a window ``x [B, C, T]`` (µV, any float dtype; float16 from the cache is fine) and,
optionally, the window's feature vector ``feats [B, F]``. The spectrogram is computed in torch
(``torch.stft``: n_fft 256, hop 64, Hann window of 256), so it runs wherever the model runs, and
always in float32 (autocast is switched off around it). ``log(1 + |STFT|)`` gives
``[B, C, 129, 1 + T // 64]``; the EEG channels are the CNN's input planes.

Encoder: an input BatchNorm2d over the channels, then ``n_blocks`` blocks of
Conv2d(3x3) -> BatchNorm2d -> ReLU -> MaxPool2d(2), widths ``width * 2**i``, global average
pooling and a linear layer to ``embed_dim`` (E1). Feature branch (when ``n_features > 0``):
BatchNorm1d -> Linear -> ReLU -> Linear -> ReLU to ``feat_dim`` (E2). Head: concat -> Linear ->
ReLU -> Dropout -> Linear to two outputs: the class logit and the soft-target logit.

``forward`` returns ``{"cls_logit": [B], "soft_pred": sigmoid [B]}``. SpecAugment (one frequency
and one time mask per sample) applies only in training mode and only when enabled.
``model.to(memory_format=torch.channels_last)`` is honoured: the spectrogram is made
channels-last when the first conv's weight is.
"""

from __future__ import annotations

import torch
from torch import nn

N_FFT = 256
HOP = 64


def log_spectrogram(x: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """``log(1 + |STFT(x)|)`` of ``x [B, C, T]``: ``[B, C, N_FFT // 2 + 1, 1 + T // HOP]``,
    float32, on ``x``'s device."""
    b, c, t = x.shape
    z = torch.stft(
        x.reshape(b * c, t).float(),
        n_fft=N_FFT,
        hop_length=HOP,
        win_length=N_FFT,
        window=window,
        center=True,
        pad_mode="reflect",
        return_complex=True,
    )
    return torch.log1p(z.abs()).reshape(b, c, z.shape[-2], z.shape[-1])


class FusionNet(nn.Module):
    def __init__(
        self,
        n_channels: int = 18,
        n_features: int = 0,
        *,
        n_blocks: int = 3,
        width: int = 16,
        embed_dim: int = 128,
        feat_dim: int = 64,
        hidden_dim: int = 64,
        dropout: float = 0.2,
        spec_augment: bool = False,
        freq_mask: int = 16,
        time_mask: int = 8,
    ) -> None:
        super().__init__()
        if n_blocks < 1:
            raise ValueError("FusionNet: n_blocks must be >= 1")
        self.n_channels, self.n_features = n_channels, n_features
        self.spec_augment, self.freq_mask, self.time_mask = spec_augment, freq_mask, time_mask
        self.register_buffer("window", torch.hann_window(N_FFT), persistent=False)
        self.input_norm = nn.BatchNorm2d(n_channels)
        blocks: list[nn.Module] = []
        c_in = n_channels
        for i in range(n_blocks):
            c_out = width * 2**i
            blocks += [
                nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2, ceil_mode=True),
            ]
            c_in = c_out
        self.encoder = nn.Sequential(*blocks)
        self.embed = nn.Sequential(nn.Linear(c_in, embed_dim), nn.ReLU(inplace=True))
        if n_features > 0:
            self.feat_mlp = nn.Sequential(
                nn.BatchNorm1d(n_features),
                nn.Linear(n_features, feat_dim),
                nn.ReLU(inplace=True),
                nn.Linear(feat_dim, feat_dim),
                nn.ReLU(inplace=True),
            )
            fused = embed_dim + feat_dim
        else:
            self.feat_mlp = None
            fused = embed_dim
        self.head = nn.Sequential(
            nn.Linear(fused, hidden_dim),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden_dim, 2),
        )

    def spectrogram(self, x: torch.Tensor) -> torch.Tensor:
        """The log-magnitude spectrogram ``[B, C, 129, T']`` of ``x [B, C, T]`` (float32)."""
        with torch.autocast(device_type=x.device.type, enabled=False):
            return log_spectrogram(x, self.window)

    def _spec_augment(self, s: torch.Tensor) -> torch.Tensor:
        """One frequency mask (width < freq_mask bins) and one time mask (< time_mask frames) per
        sample, shared across channels; drawn from torch's global generator."""
        b, _, nf, nt = s.shape
        dev = s.device

        def band(n: int, max_w: int) -> torch.Tensor:
            w = torch.randint(0, max(1, min(max_w, n)), (b, 1), device=dev)
            lo = (torch.rand(b, 1, device=dev) * (n - w + 1).float()).long()
            k = torch.arange(n, device=dev)[None, :]
            return (k >= lo) & (k < lo + w)  # [B, n]

        keep = ~(band(nf, self.freq_mask)[:, :, None] | band(nt, self.time_mask)[:, None, :])
        return s * keep[:, None, :, :].to(s.dtype)

    def forward(
        self, x: torch.Tensor, feats: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        s = self.spectrogram(x)
        if self.training and self.spec_augment:
            s = self._spec_augment(s)
        s = self.input_norm(s)
        if self.encoder[0].weight.is_contiguous(memory_format=torch.channels_last):
            s = s.contiguous(memory_format=torch.channels_last)
        h = self.encoder(s).mean(dim=(2, 3))
        e = self.embed(h)
        if self.feat_mlp is not None:
            if feats is None:
                raise ValueError("FusionNet: n_features > 0 but no feats given")
            e = torch.cat([e, self.feat_mlp(feats.float())], dim=1)
        out = self.head(e)
        cls_logit, soft_logit = out[:, 0], out[:, 1]
        return {"cls_logit": cls_logit, "soft_pred": torch.sigmoid(soft_logit)}
