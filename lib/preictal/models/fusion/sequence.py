"""Context over minutes (``fusion.sequence``): a causal GRU over the embeddings of a window and the
windows before it, trained after FusionNet on the same fold.

Two stages, so that scoring a window costs one FusionNet pass per window, not one per window of
its history: FusionNet is trained as usual; its embeddings (the fusion head's hidden layer, frozen)
are computed for the windows the histories need; then a small GRU reads, for every window, the
embeddings of the ``windows - 1`` windows before it and its own, oldest first, and its last state
gives the window's logit. A history stays on the window's timeline (case and recording segment)
and in its part of the split (training, validation, test), so it never reads a later window nor
another part's, and each step is a window step back in time: where no window ended there (the
start of a timeline, a gap between files), the step is zeros marked absent. Each step also says whether its window is bad (artefact), since bad windows are scored but
never trained on.

Trained on the same training windows as FusionNet (preictal ones and the subsampled interictal
ones) with BCE and ``pos_weight = #neg / #pos``, early-stopped on the validation windows' AUROC,
the best epoch kept; seeded, so the same fold gives the same scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import roc_auc_score
from torch import nn


@dataclass(frozen=True)
class SequenceParams:
    windows: int = 60  # the window and the windows - 1 before it (60 = 5 min at a 5-s step)
    hidden: int = 32  # GRU state size
    epochs: int = 20
    patience: int = 4  # epochs without a better validation AUROC before stopping
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-4
    dropout: float = 0.2  # on the embeddings, in training

    def __post_init__(self) -> None:
        if self.windows < 2:
            raise ValueError(f"fusion.sequence.windows: at least 2, not {self.windows}")
        if min(self.hidden, self.epochs, self.patience, self.batch_size) < 1:
            raise ValueError("fusion.sequence: hidden, epochs, patience and batch_size >= 1")


def history_index(table: pd.DataFrame, n: int) -> np.ndarray:
    """``[len(table), n]`` row positions of each window's history, oldest first: at step ``k`` the
    window of its timeline (``case`` and ``segment``) and ``part`` that ended ``n - 1 - k`` window
    steps before it (the nearest within half a step), the window itself last; -1 where no window
    ended there. So a history covers the same minutes whatever the recording holds: a gap of a few
    seconds between files leaves a step or two absent, one of an hour all of them, and a window
    before a gap never poses as a recent one. The step is the table's own (the median spacing of
    consecutive window ends). Rows may come in any order."""
    group = pd.MultiIndex.from_frame(table[["case", "segment", "part"]].astype(str)).factorize()[0]
    end = table.end_sec.to_numpy(float)
    order = np.lexsort((end, group))
    g_sorted, end_sorted = group[order], end[order]
    same_group = g_sorted[1:] == g_sorted[:-1]
    if np.any(same_group & (np.diff(end_sorted) <= 0)):
        raise ValueError("history_index: two windows of one timeline end at the same time")
    step = float(np.median(np.diff(end_sorted)[same_group])) if same_group.any() else 1.0
    out = np.full((len(table), n), -1, dtype=np.int64)
    out[:, -1] = np.arange(len(table))
    bounds = np.r_[0, np.flatnonzero(~same_group) + 1, len(order)]
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        rows, ends = order[lo:hi], end_sorted[lo:hi]
        for lag in range(1, min(n, hi - lo)):
            target = ends - lag * step
            later = np.clip(np.searchsorted(ends, target), 0, len(ends) - 1)
            earlier = np.maximum(later - 1, 0)
            pick = np.where(
                np.abs(ends[later] - target) <= np.abs(ends[earlier] - target), later, earlier
            )
            # Within half a step; and strictly earlier (a later window is never read).
            found = (np.abs(ends[pick] - target) <= step / 2) & (ends[pick] < ends)
            out[rows[found], n - 1 - lag] = rows[pick[found]]
    return out


class SequenceHead(nn.Module):
    """GRU over ``[B, n, d + 2]`` steps (embedding, present, bad) -> logit ``[B]``."""

    def __init__(self, embedding_dim: int, hidden: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.gru = nn.GRU(embedding_dim + 2, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 1)

    def forward(self, steps: torch.Tensor) -> torch.Tensor:
        emb, flags = steps[..., :-2], steps[..., -2:]
        h, _ = self.gru(torch.cat([self.dropout(emb), flags], dim=-1))
        return self.out(h[:, -1]).squeeze(-1)


@dataclass
class SequenceInputs:
    """The standardised embeddings of the rows some history needs (zeros elsewhere), the bad
    flags and the history index of every row."""

    embeddings: np.ndarray  # [n_rows, d] float32
    bad: np.ndarray  # [n_rows] bool
    history: np.ndarray  # [n_rows, windows]

    def steps(self, rows: np.ndarray) -> torch.Tensor:
        """``[len(rows), windows, d + 2]``: each step's embedding, present flag and bad flag."""
        h = self.history[rows]
        present = h >= 0
        safe = np.where(present, h, 0)
        emb = self.embeddings[safe] * present[..., None]
        flags = np.stack([present, self.bad[safe] & present], axis=-1).astype(np.float32)
        return torch.from_numpy(np.concatenate([emb, flags], axis=-1))


def assert_histories_stay_in_their_part(table: pd.DataFrame, history: np.ndarray) -> None:
    """The split, asserted: no history reads a window of another part (a test window's context
    never comes from training or validation, a training window's never from test) or a window
    that ends later than the one it scores."""
    rows = np.repeat(np.arange(len(history)), history.shape[1])
    read = history.ravel()
    rows, read = rows[read >= 0], read[read >= 0]
    part = table.part.astype(str).to_numpy()
    crossed = np.flatnonzero(part[rows] != part[read])
    if crossed.size:
        i = rows[crossed[0]]
        raise AssertionError(f"window {i} ({part[i]}) reads {part[read[crossed[0]]]} windows")
    end = table.end_sec.to_numpy(float)
    if np.any(end[read] > end[rows]):
        raise AssertionError("a window's history holds a later window")


def needed_rows(history: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """The rows whose embeddings the histories of ``targets`` read."""
    h = history[targets].ravel()
    return np.unique(h[h >= 0])


def _scores(model: SequenceHead, inputs: SequenceInputs, rows: np.ndarray, batch: int):
    model.eval()
    with torch.no_grad():
        out = [model(inputs.steps(rows[i : i + batch])) for i in range(0, len(rows), batch)]
    return torch.cat(out).numpy() if out else np.zeros(0, np.float32)


def fit_sequence(
    inputs: SequenceInputs,
    y: np.ndarray,
    train_rows: np.ndarray,
    val_rows: np.ndarray,
    params: SequenceParams,
    seed: int,
) -> tuple[SequenceHead, list[dict]]:
    """Train the GRU on ``train_rows`` (labels ``y`` 0/1), early-stopping on the AUROC of
    ``val_rows`` (labelled validation windows); returns the best epoch's model and one dict per
    epoch (epoch, train_loss, val_auroc)."""
    if set(np.unique(y[train_rows])) != {0, 1}:
        raise ValueError("fit_sequence: the training windows need both classes")
    torch.manual_seed(seed)
    model = SequenceHead(inputs.embeddings.shape[1], params.hidden, params.dropout)
    opt = torch.optim.AdamW(model.parameters(), lr=params.lr, weight_decay=params.weight_decay)
    y_train = y[train_rows].astype(np.float32)
    pos_weight = torch.tensor((y_train == 0).sum() / (y_train == 1).sum())
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    y_val = y[val_rows]
    two_classes = len(np.unique(y_val)) == 2
    best, best_auroc, stale, curves = None, -np.inf, 0, []
    for epoch in range(1, params.epochs + 1):
        model.train()
        order = np.random.default_rng([seed, epoch]).permutation(train_rows)
        total = 0.0
        for i in range(0, len(order), params.batch_size):
            rows = order[i : i + params.batch_size]
            loss = loss_fn(model(inputs.steps(rows)), torch.from_numpy(y[rows].astype(np.float32)))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(rows)
        auroc = (
            float(roc_auc_score(y_val, _scores(model, inputs, val_rows, 1024)))
            if two_classes
            else float("nan")
        )
        curves.append({"epoch": epoch, "train_loss": total / len(order), "val_auroc": auroc})
        # NaN (one validation class) never improves; the first epoch is kept regardless.
        if best is None or auroc > best_auroc:
            best = {k: v.detach().clone() for k, v in model.state_dict().items()}
            best_auroc, stale = (auroc if auroc == auroc else -np.inf), 0
        else:
            stale += 1
            if stale >= params.patience:
                break
    model.load_state_dict(best)
    return model, curves


def score_sequence(model: SequenceHead, inputs: SequenceInputs, rows: np.ndarray) -> np.ndarray:
    """Probabilities of ``rows`` (float64)."""
    logit = _scores(model, inputs, rows, 1024).astype(np.float64)
    return 1.0 / (1.0 + np.exp(-logit))
