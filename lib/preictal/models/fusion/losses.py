"""Losses for FusionNet: class loss (BCE with pos_weight, or focal) + lambda_soft * MSE on y_soft,
with per-sample weights that favour preictal windows close to onset.

All class losses are per-sample losses ``l_i`` reduced as ``mean_i(w_i * l_i)`` (the
``weight=`` semantics of :func:`torch.nn.functional.binary_cross_entropy_with_logits`).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def pos_weight_from(y) -> float:
    """``#neg / #pos`` of the labels ``y`` (1 preictal, 0 interictal; other values ignored).
    1.0 when either class is absent, so that a degenerate fold still trains."""
    y = np.asarray(y)
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    if n_pos == 0 or n_neg == 0:
        return 1.0
    return n_neg / n_pos


def sample_weights(y_cls, y_tte, preictal_min: float) -> np.ndarray:
    """``w = 1 + (1 - t / P)`` for preictal windows, ``t = clip(y_tte, 0, P)``,
    ``P = preictal_min * 60`` s; 1 for every other window. float32, in [1, 2]."""
    y = np.asarray(y_cls)
    horizon = float(preictal_min) * 60.0
    if horizon <= 0:
        raise ValueError("sample_weights: preictal_min must be positive")
    t = np.clip(np.asarray(y_tte, dtype=np.float64), 0.0, horizon)
    w = np.where(y == 1, 2.0 - t / horizon, 1.0)
    return w.astype(np.float32)


def bce_per_sample(logit: torch.Tensor, y: torch.Tensor, pos_weight: float = 1.0) -> torch.Tensor:
    """``-(pw * y * log(sigmoid(z)) + (1 - y) * log(1 - sigmoid(z)))``, per sample."""
    pw = torch.as_tensor(pos_weight, dtype=logit.dtype, device=logit.device)
    return F.binary_cross_entropy_with_logits(logit, y, pos_weight=pw, reduction="none")


def focal_per_sample(
    logit: torch.Tensor, y: torch.Tensor, gamma: float = 2.0, alpha: float = 0.5
) -> torch.Tensor:
    """Focal loss (Lin et al. 2017), per sample:
    ``-alpha * y * (1 - p)**gamma * log(p) - (1 - alpha) * (1 - y) * p**gamma * log(1 - p)``."""
    p = torch.sigmoid(logit)
    ce = F.binary_cross_entropy_with_logits(logit, y, reduction="none")  # -log p_t
    p_t = y * p + (1 - y) * (1 - p)
    a_t = y * alpha + (1 - y) * (1 - alpha)
    return a_t * (1 - p_t).pow(gamma) * ce


def fusion_loss(
    out: dict[str, torch.Tensor],
    y: torch.Tensor,
    y_soft: torch.Tensor,
    w: torch.Tensor | None = None,
    *,
    loss: str = "bce",
    pos_weight: float = 1.0,
    focal_gamma: float = 2.0,
    focal_alpha: float = 0.5,
    lambda_soft: float = 0.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """``mean(w * class_loss) + lambda_soft * mean((soft_pred - y_soft)**2)``, computed in
    float32. Returns the total and its parts (floats, for logging)."""
    logit = out["cls_logit"].float()
    y = y.float()
    if loss == "bce":
        per = bce_per_sample(logit, y, pos_weight)
    elif loss == "focal":
        per = focal_per_sample(logit, y, focal_gamma, focal_alpha)
    else:
        raise ValueError(f"fusion_loss: unknown loss {loss!r} (bce or focal)")
    cls = (per * w.float()).mean() if w is not None else per.mean()
    total = cls
    soft = torch.zeros((), device=logit.device)
    if lambda_soft:
        soft = F.mse_loss(out["soft_pred"].float(), y_soft.float())
        total = total + lambda_soft * soft
    return total, {"cls": float(cls.detach()), "soft": float(soft.detach())}
