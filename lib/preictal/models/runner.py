"""One fold of one model, at the edges: read the split, fit with the model kind's trainer, score
the validation and test windows, write model, predictions and manifest (or why it was skipped).

Each model kind brings a trainer (:class:`preictal.models.baseline.BaselineTrainer`,
:class:`preictal.models.fusion.fit.FusionTrainer`); nothing here branches on a model's name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from preictal.io import machine_info, software_versions, write_json, write_parquet
from preictal.splits import SplitSkipped, rotating_seed


@dataclass
class Fitted:
    """A trained model: what its trainer saves, the training facts for the manifest (at least
    ``n_train_windows``, ``n_pos``, ``n_neg``), and its validation and test predictions."""

    model: Any
    info: dict
    predictions: pd.DataFrame
    training: dict | None = None  # extra training record for the manifest (FusionNet's curves)


class Trainer(Protocol):
    name: str
    params: Any  # a dataclass: recorded in the manifest, and its ``seed`` seeds the fold

    def fit(self, split: pd.DataFrame, tables: dict, seed: int) -> Fitted: ...

    def save(self, model: Any, path: str | Path) -> None: ...


def run_train_model(
    trainer: Trainer,
    mode: str,
    fold: str,
    split_path: str | Path,
    split_manifest: Mapping,
    tables: dict[str, dict[str, pd.DataFrame]],
    *,
    data_source: dict,
    out_model: str | Path,
    out_predictions: str | Path,
    out_manifest: str | Path,
) -> dict:
    """Train one model on one fold, score its validation and test windows, or record why the
    fold was skipped."""
    manifest = {
        "model": trainer.name,
        "split": mode,
        "fold": fold,
        "data_source": data_source,
        "params": asdict(trainer.params),
        "split_manifest": dict(split_manifest),
        "versions": software_versions(),
        "machine": machine_info(),
    }
    meta = {"data_source": data_source, "model": trainer.name, "split": mode, "fold": fold}
    skipped = split_manifest.get("skipped")
    if not skipped:
        split = pd.read_parquet(split_path)
        seed = rotating_seed(trainer.params.seed, f"{mode}/{fold}")
        try:
            fitted = trainer.fit(split, tables, seed)
        except SplitSkipped as exc:
            skipped = f"{mode}/{fold}: {exc}"
    if skipped:
        manifest["skipped"] = skipped
        write_json(out_manifest, manifest)
        empty = pd.DataFrame(columns=["case", "window", "part", "y_cls", "score", "logit"])
        write_parquet(out_predictions, empty, metadata={**meta, "skipped": skipped})
        trainer.save({"skipped": skipped}, out_model)
        return manifest
    preds = fitted.predictions
    test_cases = set(preds.case[preds.part == "test"])
    train_cases = set(split.case[split.part == "train"])
    if mode == "loso" and test_cases & train_cases:
        raise AssertionError(f"{mode}/{fold}: a training case was scored as test")
    trainer.save(fitted.model, out_model)
    write_parquet(out_predictions, preds, metadata=meta)
    info = fitted.info
    manifest.update(
        seed=seed,
        n_train_windows=info["n_train_windows"],
        n_pos_train=info["n_pos"],
        n_neg_train=info["n_neg"],
        pos_weight=info["n_neg"] / info["n_pos"],
        n_scored={p: int((preds.part == p).sum()) for p in ("val", "test")},
        training=fitted.training,
        skipped=None,
    )
    write_json(out_manifest, manifest)
    return manifest
