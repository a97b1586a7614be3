"""FusionNet: a small CNN on the log-magnitude spectrogram of a window, fused with a feature MLP.

Input: a window ``x [B, C, T]`` (µV, any float dtype; float16 from the cache is fine) and,
optionally, the window's feature vector ``feats [B, F]``. ``T`` is the window's own length,
``windows.w_sec * preprocess.target_sfreq`` samples (:func:`preictal.models.fusion.window.check_input`). The spectrogram is the
magnitude of ``torch.stft(x, n_fft=sfreq, hop_length=sfreq // 4, window=hann_window(sfreq),
center=True, pad_mode="reflect")``: one-second frames, so bin ``k`` is ``k`` Hz at any whole-Hz
sampling rate (256 Hz: n_fft 256, hop 64; frame ``j`` centred on sample ``hop j``,
``1 + T // hop`` frames), but only its first ``n_freqs`` frequency bins: by default 48, bins 0-47,
0-47 Hz. The cache is band-passed 0.5-45 Hz, so the bins above hold only what the filter lets
through past its edge. ``log(1 + |STFT(x)|)`` gives ``[B, C, n_freqs, 1 + T // hop]``, always in
float32 (autocast is switched off around it). The EEG channels are the CNN's input planes.

How it is computed: the reflect-padded signal (all channels folded into the batch) times a fixed
Hann-windowed DFT basis of the kept bins (a non-persistent buffer, so ``.to(device)`` moves it and
checkpoints do not carry it: cosine rows, then sine rows), then ``sqrt(re² + im²)``. No complex
tensors. On CPU the product is a strided ``conv1d`` (oneDNN); elsewhere a ``matmul`` of the
unfolded frames, so cuDNN's TF32 convolution setting never reaches it. It matches
``torch.stft``'s bins to float32 rounding (``tests/models/fusion/test_net.py``).

Change of numerics (no compatibility kept): before, the model took all 129 bins (``torch.stft``
+ complex ``abs``). ``n_freqs=129`` gives those bins again. Parameter shapes do not depend on
``n_freqs`` (the encoder pools globally), so an old checkpoint would load, but it was trained on
129 bins and does not fit the 48-bin default. Dropping the bins above 47 Hz is what made inference
about 3x faster (docs/PERFORMANCE.md); the DFT product alone, at 129 bins, is no faster than
``torch.stft``.

Encoder: an input BatchNorm2d over the channels, then ``n_blocks`` blocks of
Conv2d(3x3) -> BatchNorm2d -> ReLU -> MaxPool2d(2), widths ``width * 2**i``, global average
pooling and a linear layer to ``embed_dim`` (E1). Feature branch (when ``n_features > 0``):
BatchNorm1d -> Linear -> ReLU -> Linear -> ReLU to ``feat_dim`` (E2). Head: concat -> Linear ->
ReLU -> Dropout -> Linear to two outputs: the class logit and the soft-target logit.

Patient-relative input (``fusion.spectrogram: relative``): ``forward(x, feats, reference)``
subtracts the window's reference spectrum ``[B, C, n_freqs]`` (its patient's recent past,
:mod:`preictal.models.fusion.reference`) from every frame before the input BatchNorm. With
``use_spectrogram=False`` the network is the feature branch and the head alone (the ablation).

``forward`` returns ``{"cls_logit": [B], "soft_pred": sigmoid [B]}``. SpecAugment (one frequency
and one time mask per sample) applies only in training mode and only when enabled.
``model.to(memory_format=torch.channels_last)`` is honoured: the spectrogram is made
channels-last when the first conv's weight is.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from preictal.models.fusion.window import N_FREQS, SFREQ

N_FFT = SFREQ


def dft_basis(n_freqs: int = N_FREQS, n_fft: int = N_FFT) -> torch.Tensor:
    """The Hann-windowed real DFT basis of the first ``n_freqs`` bins, ``[2 n_freqs, n_fft]``
    float32: rows ``w[n] cos(2 pi k n / N)`` then ``-w[n] sin(2 pi k n / N)`` (the real and
    imaginary parts of ``torch.stft``'s bin ``k``), computed in float64. ``w`` is the periodic
    Hann window of ``torch.hann_window(n_fft)``."""
    if not 1 <= n_freqs <= n_fft // 2 + 1:
        raise ValueError(f"n_freqs must be in 1..{n_fft // 2 + 1}, not {n_freqs}")
    n = torch.arange(n_fft, dtype=torch.float64)
    k = torch.arange(n_freqs, dtype=torch.float64)
    # k n mod N keeps the angle in [0, 2 pi) exactly, so the basis is accurate to float64 rounding
    ang = (2 * math.pi / n_fft) * torch.remainder(torch.outer(k, n), n_fft)
    w = torch.hann_window(n_fft, dtype=torch.float64)
    return torch.cat([torch.cos(ang) * w, -torch.sin(ang) * w]).float()


def stft_magnitude(x: torch.Tensor, basis: torch.Tensor, method: str = "auto") -> torch.Tensor:
    """``|STFT(x)|`` of ``x [B, C, T]`` for the bins of ``basis`` (see :func:`dft_basis`):
    ``[B, C, n_freqs, 1 + T // hop]``, float32, on ``x``'s device, with ``hop = n_fft // 4``
    (``n_fft`` is the basis's width). Same framing as ``torch.stft(center=True,
    pad_mode="reflect")`` (needs ``T > n_fft // 2``). ``method``:
    ``"conv"`` (``conv1d``, fast on CPU), ``"matmul"`` (unfolded frames times the basis; never
    TF32 unless the float32 matmul precision allows it) or ``"auto"`` (conv on CPU, else
    matmul)."""
    b, c, t = x.shape
    nf, n_fft = basis.shape[0] // 2, basis.shape[1]
    hop = n_fft // 4
    if method == "auto":
        method = "conv" if x.device.type == "cpu" else "matmul"
    xp = F.pad(x.reshape(b * c, 1, t).float(), (n_fft // 2, n_fft // 2), mode="reflect")
    basis = basis.to(device=x.device, dtype=torch.float32)
    if method == "conv":
        z = F.conv1d(xp, basis[:, None, :], stride=hop)  # [BC, 2K, T']
    elif method == "matmul":
        frames = xp[:, 0].unfold(-1, n_fft, hop)  # [BC, T', n_fft], a view
        z = torch.matmul(basis, frames.transpose(1, 2))  # [BC, 2K, T']
    else:
        raise ValueError(f"stft_magnitude: unknown method {method!r}")
    re, im = z[:, :nf], z[:, nf:]
    return torch.sqrt(re * re + im * im).reshape(b, c, nf, z.shape[-1])


def log_spectrogram(x: torch.Tensor, basis: torch.Tensor, method: str = "auto") -> torch.Tensor:
    """``log(1 + |STFT(x)|)`` of ``x [B, C, T]``: ``[B, C, n_freqs, 1 + T // hop]``, float32, on
    ``x``'s device (see :func:`stft_magnitude`)."""
    return torch.log1p(stft_magnitude(x, basis, method))


class FusionNet(nn.Module):
    def __init__(
        self,
        n_channels: int = 18,
        n_features: int = 0,
        *,
        sfreq: int = SFREQ,
        n_freqs: int = N_FREQS,
        n_blocks: int = 3,
        width: int = 16,
        embed_dim: int = 128,
        feat_dim: int = 64,
        hidden_dim: int = 64,
        dropout: float = 0.2,
        spec_augment: bool = False,
        freq_mask: int = 16,
        time_mask: int = 8,
        use_spectrogram: bool = True,
    ) -> None:
        super().__init__()
        if n_blocks < 1:
            raise ValueError("FusionNet: n_blocks must be >= 1")
        if not use_spectrogram and n_features < 1:
            raise ValueError("FusionNet: without the spectrogram branch it needs features")
        self.use_spectrogram = use_spectrogram
        self.n_channels, self.n_features, self.n_freqs = n_channels, n_features, n_freqs
        self.spec_augment, self.freq_mask, self.time_mask = spec_augment, freq_mask, time_mask
        self.sfreq = int(sfreq)
        self.register_buffer("dft_basis", dft_basis(n_freqs, self.sfreq), persistent=False)
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
        if not use_spectrogram:  # the feature branch alone (the ablation's baseline)
            self.input_norm = self.encoder = self.embed = None
            embed_dim = 0
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
        """The log-magnitude spectrogram ``[B, C, n_freqs, 1 + T // hop]`` of ``x [B, C, T]``
        (float32)."""
        with torch.autocast(device_type=x.device.type, enabled=False):
            return log_spectrogram(x, self.dft_basis)

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

    def embed_spectrogram(
        self, x: torch.Tensor, reference: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The spectrogram branch's embedding ``[B, embed_dim]`` of ``x [B, C, T]``; with a
        ``reference [B, C, n_freqs]`` (the patient's recent spectrum, :mod:`.reference`) the
        spectrogram is taken relative to it, frame by frame."""
        s = self.spectrogram(x)
        if reference is not None:
            s = s - reference.float()[..., None]
        if self.training and self.spec_augment:
            s = self._spec_augment(s)
        s = self.input_norm(s)
        if self.encoder[0].weight.is_contiguous(memory_format=torch.channels_last):
            s = s.contiguous(memory_format=torch.channels_last)
        return self.embed(self.encoder(s).mean(dim=(2, 3)))

    def forward(
        self,
        x: torch.Tensor,
        feats: torch.Tensor | None = None,
        reference: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        parts = [self.embed_spectrogram(x, reference)] if self.use_spectrogram else []
        if self.feat_mlp is not None:
            if feats is None:
                raise ValueError("FusionNet: n_features > 0 but no feats given")
            parts.append(self.feat_mlp(feats.float()))
        fused = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
        # The head's hidden layer is the window's embedding (fusion.sequence reads it).
        embedding = self.head[1](self.head[0](fused))
        out = self.head[3](self.head[2](embedding))
        cls_logit, soft_logit = out[:, 0], out[:, 1]
        return {
            "cls_logit": cls_logit,
            "soft_pred": torch.sigmoid(soft_logit),
            "embedding": embedding,
        }
