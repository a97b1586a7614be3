"""Fixtures of the evaluation-figure tests: the frames of :mod:`tests.plots.evaluation_data`, and
the same laid out as files the way the workflow writes them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from preictal.plots.evaluation import FIGURES
from tests.plots.evaluation_data import (
    FOLDS,
    MODELS,
    SKIPPED,
    alarms_of,
    files_of,
    ledger_of,
    predictions,
    results_table,
    seizures_of,
    train_curve,
    val_curve,
)


@pytest.fixture
def frames():
    rng = np.random.default_rng(3)
    return {
        "results": results_table(),
        "curves": {f: val_curve(i) for i, f in enumerate(FOLDS)} | {SKIPPED: pd.DataFrame()},
        "predictions": {f: predictions(f, rng) for f in FOLDS},
        "train": {f: train_curve(i) for i, f in enumerate(FOLDS)} | {SKIPPED: pd.DataFrame()},
    }


@pytest.fixture
def workflow_files(tmp_path, frames):
    """The files the driver reads, laid out as the workflow writes them (skipped fold: empty)."""
    r = tmp_path / "results"
    (r / "tables").mkdir(parents=True)
    results = r / "loso_results.csv"
    frames["results"].to_csv(results, index=False)
    paths = {
        "results": str(results),
        "curves": {},
        "seizures": {},
        "alarms": {},
        "predictions": {},
        "train_curves": {},
        "files": [],
        "ledgers": [],
    }
    for fold in (*FOLDS, SKIPPED):
        trained = fold != SKIPPED
        for model in MODELS:
            d = r / f"eval/loso/{fold}/{model}"
            d.mkdir(parents=True)
            p = d / "test_seizures.parquet"
            (seizures_of(fold, model) if trained else pd.DataFrame()).to_parquet(p)
            paths["seizures"][(fold, model)] = str(p)
        d = r / f"eval/loso/{fold}/logreg"
        (frames["curves"][fold]).to_csv(d / "val_curve.csv", index=False)
        paths["curves"][fold] = str(d / "val_curve.csv")
        (alarms_of(fold) if trained else pd.DataFrame()).to_parquet(d / "test_alarms.parquet")
        paths["alarms"][fold] = str(d / "test_alarms.parquet")
        f = r / f"folds/loso/{fold}/logreg"
        f.mkdir(parents=True)
        (frames["predictions"][fold] if trained else pd.DataFrame()).to_parquet(
            f / "predictions.parquet"
        )
        paths["predictions"][fold] = str(f / "predictions.parquet")
        t = r / f"folds/loso/{fold}/fusion"
        t.mkdir(parents=True)
        frames["train"][fold].to_csv(t / "train_curves.csv", index=False)
        paths["train_curves"][fold] = str(t / "train_curves.csv")
        (r / f"folds/loso/{fold}/split.json").write_text(
            '{"counts": {"train": {"n_pos": 20, "n_neg": 80}}, "skipped": null}'
            if trained
            else '{"skipped": "fewer than 3 lead seizures"}'
        )
    paths["split_manifests"] = {
        fold: str(r / f"folds/loso/{fold}/split.json") for fold in (*FOLDS, SKIPPED)
    }
    for case in (*FOLDS, SKIPPED):
        (r / f"index/{case}").mkdir(parents=True)
        files_of(case).to_parquet(r / f"index/{case}/files.parquet")
        (r / "labels").mkdir(exist_ok=True)
        ledger_of(case).to_parquet(r / f"labels/{case}_seizures.parquet")
        paths["files"].append(str(r / f"index/{case}/files.parquet"))
        paths["ledgers"].append(str(r / f"labels/{case}_seizures.parquet"))
    outputs = {name: str(tmp_path / "figures" / f"{name}.png") for name in FIGURES}
    return paths, outputs
