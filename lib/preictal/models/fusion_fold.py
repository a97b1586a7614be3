"""FusionNet on one fold: windows from the memory-mapped cache plus the standardised features,
trained on the training part (early stopping on the validation part), scoring every validation
and test window. The training loop itself is :mod:`preictal.train.loop`."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from preictal.models.baseline import BaselineParams, Standardiser, training_rows
from preictal.splits import SplitSkipped, fold_table

log = logging.getLogger(__name__)

STALE_RUN_FILES = ("last.pt", "best_by_auroc.pt", "train_curves.csv", "perf.csv")


@dataclass(frozen=True)
class FusionParams:
    use_features: bool = True
    interictal_ratio: float = 4.0
    seed: int = 20261125
    net: dict = field(default_factory=lambda: {"n_blocks": 3, "width": 16, "dropout": 0.2})
    train: dict = field(default_factory=lambda: {"epochs": 4, "batch_size": 64, "patience": 2})
    augment: dict = field(default_factory=dict)


def fit_fusion_fold(
    split: pd.DataFrame,
    cases: dict[str, dict[str, pd.DataFrame]],
    signal_paths: dict[str, str],
    out_dir: str | Path,
    params: FusionParams,
    *,
    seed: int,
    threads: int = 1,
    device: str = "auto",
) -> tuple[dict, pd.DataFrame]:
    """Returns (model checkpoint dict, predictions of validation and test windows)."""
    import torch

    from preictal.models.fusion_net import FusionNet
    from preictal.train.data import Augment, WindowDataset
    from preictal.train.loop import TrainParams, predict, train_fold

    out_dir = Path(out_dir)
    table, X = fold_table(split, cases)
    order = list(cases)
    table["case_index"] = table.case.map({c: i for i, c in enumerate(order)}).to_numpy()
    paths = [signal_paths[c] for c in order]
    train = np.flatnonzero(table.part.to_numpy() == "train")
    rng = np.random.default_rng(seed)
    sub = BaselineParams(interictal_ratio=params.interictal_ratio)
    pick = train[
        training_rows(table.y_cls.to_numpy()[train], table.bad.to_numpy()[train], sub, rng)
    ]
    val = np.flatnonzero((table.part.to_numpy() == "val") & table.y_cls.isin([0, 1]).to_numpy())
    y_pick = table.y_cls.to_numpy()[pick]
    if len(np.unique(y_pick)) < 2:
        raise SplitSkipped(
            f"the training part has {int((y_pick == 1).sum())} preictal and "
            f"{int((y_pick == 0).sum())} interictal windows: one class only"
        )
    std = Standardiser.fit(X[pick])
    feats = std(X).astype(np.float32) if params.use_features else None

    def dataset(rows, augment=None):
        return WindowDataset(
            paths,
            table.case_index.to_numpy()[rows],
            table.start_sample.to_numpy()[rows],
            table.y_cls.to_numpy()[rows],
            y_soft=table.y_soft.to_numpy()[rows],
            y_tte=table.y_tte.to_numpy()[rows],
            features=None if feats is None else feats[rows],
            augment=augment,
            seed=seed % 2**31,
        )

    tp = TrainParams(**{**params.train, "seed": seed % 2**31})
    net = FusionNet(n_features=X.shape[1] if params.use_features else 0, **params.net)
    _clear_stale_run(out_dir, run_key(params, split, seed))
    summary = train_fold(
        net,
        dataset(pick, Augment(**params.augment) if params.augment else None),
        dataset(val),
        out_dir,
        tp,
        device=device,
        threads=threads,
    )
    scored = np.flatnonzero(table.part.isin(["val", "test"]).to_numpy())
    scores = predict(net, dataset(scored), device=device).astype(np.float64)
    preds = (
        table.iloc[scored]
        .drop(columns=["case_index", "start_sample", "y_soft"])
        .reset_index(drop=True)
    )
    clipped = np.clip(scores, 1e-7, 1 - 1e-7)
    preds["logit"] = np.log(clipped / (1 - clipped))
    preds["score"] = scores
    checkpoint = {
        "state_dict": {k: v.detach().cpu() for k, v in net.state_dict().items()},
        "net": dict(params.net),
        "n_features": int(X.shape[1]) if params.use_features else 0,
        "feature_mean": torch.tensor(std.mean, dtype=torch.float32),
        "feature_scale": torch.tensor(std.scale, dtype=torch.float32),
    }
    info = {
        **{k: v for k, v in summary.items() if isinstance(v, int | float | str | type(None))},
        "n_train_windows": len(pick),
        "n_pos": int((y_pick == 1).sum()),
        "n_neg": int((y_pick == 0).sum()),
    }
    return {"checkpoint": checkpoint, "info": info}, preds


def run_key(params: FusionParams, split: pd.DataFrame, seed: int) -> str:
    """What a resumable run depends on: a checkpoint of another configuration is never resumed."""
    h = hashlib.sha256(json.dumps(asdict(params), sort_keys=True).encode())
    h.update(str(seed).encode())
    h.update(pd.util.hash_pandas_object(split, index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def _clear_stale_run(out_dir: Path, key: str) -> None:
    """Keep an interrupted run's checkpoint only if it belongs to this configuration."""
    out_dir.mkdir(parents=True, exist_ok=True)
    key_file = out_dir / "run_key.txt"
    if key_file.is_file() and key_file.read_text().strip() == key:
        return
    for name in STALE_RUN_FILES:
        (out_dir / name).unlink(missing_ok=True)
    key_file.write_text(key + "\n")
