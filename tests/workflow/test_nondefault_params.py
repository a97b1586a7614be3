"""The workflow end to end with non-default signal and label parameters: a 128 Hz cache, 20-s
windows every 10 s, and a Truong-2018-like SOP of 30 min with an SPH of 5 min. Every model trains
on every loso fold and is evaluated; FusionNet's input window is the configured window, exactly.
(About 3 minutes on 2 cores.)"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from preictal.io import read_parquet_metadata
from tests.workflow.test_workflow import snakemake

pytestmark = pytest.mark.workflow

CONFIG = {
    "synthetic": {
        "cases": ["chb01", "chb02", "chb03"],  # three patients: every loso fold trains
        "files_per_case": 3,
        "file_min": 40,
        "seizures_per_case": 2,
        "min_separation_min": 40,
        "lead_file_margin_min": None,
        "long_gap_min": [2, 5],
    },
    "preprocess": {"target_sfreq": 128},
    "windows": {"w_sec": 20, "step_sec": 10},
    "labels": {"preictal_min": 35, "gap_sec": 300, "lead_min": 10, "interictal_buffer_min": 10},
    "splits": {"modes": ["loso"]},
    "comparisons": {"split": "loso", "folds": ["chb01"]},
}
MODELS = ["logreg", "mlp", "xgboost", "fusion"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("nondefault")
    snakemake(workdir, "results/loso_summary.csv", config=CONFIG)
    return workdir


def test_every_model_trains_and_is_evaluated(run):
    results = pd.read_csv(run / "results/loso_results.csv")
    assert results.skipped.isna().all(), results[results.skipped.notna()]
    assert sorted(results.model.unique()) == sorted(MODELS)
    assert sorted(results.fold.unique()) == ["chb01", "chb02", "chb03"]
    summary = pd.read_csv(run / "results/loso_summary.csv")
    assert (summary.n_folds_scored == 3).all()
    manifest = json.loads((run / "results/folds/loso/chb01/fusion/manifest.json").read_text())
    assert manifest["machine"]["cpu"] and manifest["machine"]["torch_cpu_capability"]


def test_windows_and_labels_follow_the_config(run):
    windows = pd.read_parquet(run / "results/cache/chb01/windows.parquet")
    np.testing.assert_allclose(windows.end_sec - windows.start_sec, 20.0)
    same_block = windows.block.to_numpy()[1:] == windows.block.to_numpy()[:-1]
    np.testing.assert_allclose(np.diff(windows.start_sec.to_numpy())[same_block], 10.0)
    manifest = json.loads((run / "results/cache/chb01/manifest.json").read_text())
    assert manifest["preprocess"]["target_sfreq"] == 128
    labels = pd.read_parquet(run / "results/labels/chb01.parquet")
    ahead = labels.y_tte[labels.y_cls == 1]
    assert ahead.min() >= 300 and ahead.max() <= 35 * 60  # SPH 5 min, SPH + SOP 35 min
    assert read_parquet_metadata(run / "results/labels/chb01.parquet")["labels"]["gap_sec"] == 300


@pytest.mark.parametrize("fold", ["chb01", "chb02", "chb03"])
def test_fusion_sees_exactly_the_window(run, fold):
    """The checkpoint records the cache rate and the window length FusionNet was fed (20 s at
    128 Hz = 2560 samples, not 10 s at 256 Hz read from a 128 Hz signal), and the restored net
    turns a window of that length into one-second, 1-Hz spectrogram frames."""
    from preictal.models.fusion.net import FusionNet

    ckpt = torch.load(run / f"results/folds/loso/{fold}/fusion/model.pt", weights_only=True)
    assert ckpt["sfreq"] == 128 and ckpt["window_samples"] == 20 * 128
    net = FusionNet(n_features=ckpt["n_features"], sfreq=ckpt["sfreq"], **ckpt["net"])
    net.load_state_dict(ckpt["state_dict"])
    spec = net.spectrogram(torch.zeros(1, 18, ckpt["window_samples"]))
    assert spec.shape == (1, 18, 48, 1 + ckpt["window_samples"] // (128 // 4))
    assert net.dft_basis.shape == (2 * 48, 128)  # n_fft = one second at 128 Hz
