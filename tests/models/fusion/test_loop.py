"""Losses, the window dataset, and the training loop (tiny planted data, CPU, 1 thread)."""

from __future__ import annotations

import csv
import math
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch.utils.data import DataLoader

from preictal.models.fusion.data import Augment, BlockShuffleSampler, WindowDataset
from preictal.models.fusion.loop import TrainParams, predict, train_fold
from preictal.models.fusion.losses import fusion_loss, pos_weight_from, sample_weights
from preictal.models.fusion.net import FusionNet
from tests.cache.test_store import _mapped_rss_kb

FS = 256
C = 4  # channels in the tiny data
W = 512  # 2 s windows: fast, and still 9 STFT frames


def planted(tmp_path, name, n, *, seed, planted_effect=True, labels=None, w=W, n_cases=2):
    """``n`` non-overlapping windows over ``n_cases`` float16 signals; preictal windows (half,
    alternating in blocks of 3) carry an extra 25 Hz rhythm when ``planted_effect``; ``labels``
    overrides the labels (the signal keeps its planted rhythm where the first labels said so)."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) // 3) % 2
    per_case = math.ceil(n / n_cases)
    t = np.arange(w) / FS
    paths, case, start = [], np.arange(n) // per_case, (np.arange(n) % per_case) * w
    for c in range(n_cases):
        sig = rng.normal(0, 10, (C, per_case * w)).astype(np.float32)
        for j in range(per_case):
            i = c * per_case + j
            if i < n and planted_effect and y[i] == 1:
                phase = rng.uniform(0, 2 * np.pi, (C, 1))
                sig[:, j * w : (j + 1) * w] += 4 * np.sin(2 * np.pi * 25 * t + phase)
        p = tmp_path / f"{name}_{c}.npy"
        np.save(p, sig.astype(np.float16))
        paths.append(str(p))
    y_out = y if labels is None else np.asarray(labels)
    tte = np.where(y_out == 1, rng.uniform(0, 600, n), -1.0)
    return WindowDataset(
        paths,
        case,
        start,
        y_out,
        y_soft=np.where(y_out == 1, np.exp(-tte / 120), 0.0),
        y_tte=tte,
        window_samples=w,
        preictal_min=10,
        seed=seed,
    )


def tiny_model(seed=0):
    torch.manual_seed(seed)
    return FusionNet(n_channels=C, width=8, embed_dim=32, hidden_dim=32, dropout=0.1)


def fast_params(**kw):
    base = dict(
        epochs=2,
        min_windows_per_epoch=0,
        batch_size=16,
        lr=3e-3,
        patience=10,
        perf_every_n_steps=0,
    )
    base.update(kw)
    return TrainParams(**base)


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# -- losses ----------------------------------------------------------------------------------------


def test_pos_weight_from_counts():
    assert pos_weight_from([1, 0, 0, 0, -1]) == 3.0
    assert pos_weight_from([1, 1, 0, 0, 0, -1, -1]) == 1.5
    assert pos_weight_from([0, 0, -1]) == 1.0  # one class: neutral


def test_sample_weights_by_hand():
    # P = 600 s: w = 2 - t/600 for preictal, t clipped to [0, 600]; 1 otherwise
    y = [1, 1, 1, 0, 1, -1]
    tte = [0.0, 300.0, 600.0, 50.0, 900.0, -1.0]
    w = sample_weights(y, tte, preictal_min=10)
    np.testing.assert_allclose(w, [2.0, 1.5, 1.0, 1.0, 1.0, 1.0])
    w5 = sample_weights([1, 1], [-5.0, 150.0], preictal_min=5)  # P = 300
    np.testing.assert_allclose(w5, [2.0, 1.5])


def test_bce_with_pos_weight_weights_and_soft_term_by_hand():
    out = {"cls_logit": torch.tensor([0.0, 2.0]), "soft_pred": torch.tensor([0.2, 0.9])}
    y, y_soft, w = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0]), torch.tensor([1.0, 2.0])
    l_pos = 3 * math.log(2)  # pos_weight * -log(sigmoid(0))
    l_neg = math.log(1 + math.exp(2))  # -log(1 - sigmoid(2))
    expected_cls = (1 * l_pos + 2 * l_neg) / 2
    total, parts = fusion_loss(out, y, y_soft, w, pos_weight=3.0, lambda_soft=0.5)
    assert parts["cls"] == pytest.approx(expected_cls, rel=1e-6)
    assert parts["soft"] == pytest.approx((0.2**2 + 0.1**2) / 2, rel=1e-6)
    assert float(total) == pytest.approx(expected_cls + 0.5 * 0.025, rel=1e-6)
    total0, _ = fusion_loss(out, y, y_soft, None, pos_weight=1.0)
    assert float(total0) == pytest.approx((math.log(2) + l_neg) / 2, rel=1e-6)


def test_focal_loss_by_hand():
    out = {"cls_logit": torch.tensor([0.0, 2.0]), "soft_pred": torch.zeros(2)}
    y = torch.tensor([1.0, 0.0])
    p2 = 1 / (1 + math.exp(-2))
    l_pos = 0.25 * (1 - 0.5) ** 2 * math.log(2)
    l_neg = 0.75 * p2**2 * math.log(1 + math.exp(2))
    total, _ = fusion_loss(
        out, y, torch.zeros(2), None, loss="focal", focal_gamma=2.0, focal_alpha=0.25
    )
    assert float(total) == pytest.approx((l_pos + l_neg) / 2, rel=1e-6)
    # gamma 0, alpha 0.5: half the plain cross-entropy
    total, _ = fusion_loss(
        out, y, torch.zeros(2), None, loss="focal", focal_gamma=0.0, focal_alpha=0.5
    )
    assert float(total) == pytest.approx(0.5 * (math.log(2) + math.log(1 + math.exp(2))) / 2)


# -- dataset ---------------------------------------------------------------------------------------


def test_dataset_items_lazy_memmap_and_pickle(tmp_path):
    ds = planted(tmp_path, "d", 12, seed=1)
    assert ds._signals is None
    item = ds[7]
    assert isinstance(ds._signals[0], np.memmap)
    sig = np.load(ds.signal_paths[ds.case[7]])
    np.testing.assert_array_equal(
        item["x"].numpy(), sig[:, ds.start_sample[7] : ds.start_sample[7] + W].astype(np.float32)
    )
    assert item["x"].dtype == torch.float32 and item["x"].shape == (C, W)
    assert float(item["y"]) == float(ds.y_cls[7] == 1)
    assert float(item["w"]) == pytest.approx(float(ds.weights[7]))
    assert item["feats"].shape == (0,)
    blob = pickle.dumps(ds)
    assert len(blob) < 20_000  # no signal data in the pickle
    clone = pickle.loads(blob)
    assert clone._signals is None
    assert torch.equal(clone[7]["x"], item["x"])


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="Linux /proc only")
def test_dataset_drops_read_pages_every_release_every_windows(tmp_path, monkeypatch):
    """A fold over the whole twin reads ~30 GB of cache: what a process has read is released
    every RELEASE_EVERY windows (the job's memory stays bounded) and the items are unchanged."""
    from preictal.models.fusion import data

    ds = planted(tmp_path, "big", 12_000, seed=5, n_cases=4)  # 4 files of 4 x 1.5 M float16
    expected = [ds[i]["x"] for i in (0, 1499, 11_999)]

    def resident_kb():
        return sum(_mapped_rss_kb(p) for p in ds.signal_paths)

    monkeypatch.setattr(data, "RELEASE_EVERY", 10**9)
    for i in range(len(ds)):
        ds[i]
    held = resident_kb()
    assert held > 40_000  # without releases every page read (48 MB) stays resident
    ds.release_pages()
    assert resident_kb() == 0
    monkeypatch.setattr(data, "RELEASE_EVERY", 100)
    for i in range(len(ds)):
        ds[i]
    # What stays is what was read since the last release: 100 windows of the last file, rounded
    # up to the kernel's mapping unit (page-cache folios of up to 2 MB per channel row).
    assert resident_kb() < held / 4
    assert all(torch.equal(ds[i]["x"], x) for i, x in zip((0, 1499, 11_999), expected, strict=True))


def test_dataloader_two_workers_deterministic_augmentation(tmp_path):
    ds = planted(tmp_path, "d", 16, seed=2)
    ds.augment = Augment(noise_std=0.1, shift_max=20, scale_range=(0.8, 1.2), channel_dropout=0.2)
    ds.set_epoch(3)

    def run(nw):
        loader = DataLoader(ds, batch_size=4, num_workers=nw, shuffle=False)
        return torch.cat([b["x"] for b in loader]), torch.cat([b["index"] for b in loader])

    x2, idx2 = run(2)
    x0, idx0 = run(0)
    assert torch.equal(idx2, torch.arange(16))
    assert torch.equal(x2, x0)
    clean = torch.stack([ds.without_augment()[i]["x"] for i in range(16)])
    assert not torch.equal(x0, clean)
    ds.set_epoch(4)
    assert not torch.equal(ds[0]["x"], x0[0])


def test_each_augmentation(tmp_path):
    base = planted(tmp_path, "d", 4, seed=3)
    clean = base[1]["x"]

    def with_aug(**kw):
        d = base.without_augment()
        d.augment = Augment(**kw)
        return d[1]["x"]

    shifted = with_aug(shift_max=50)
    assert any(torch.equal(shifted, torch.roll(clean, k, dims=1)) for k in range(-50, 51) if k)
    scaled = with_aug(scale_range=(0.5, 0.6))
    ratio = scaled / torch.where(clean == 0, torch.ones_like(clean), clean)
    assert 0.5 <= float(ratio[clean != 0].median()) <= 0.6
    dropped = with_aug(channel_dropout=0.99)
    assert (dropped.abs().sum(dim=1) == 0).sum() >= 1
    noisy = with_aug(noise_std=0.5)
    assert 0.3 < float((noisy - clean).std() / clean.std()) < 0.7
    moved = with_aug(shift_max=100, shift_mode="window")
    assert moved.shape == clean.shape and not torch.equal(moved, clean)
    assert Augment().active is False and base.augment is None


def test_block_shuffle_sampler():
    s = BlockShuffleSampler(50, block_size=5, seed=1)
    a = list(s)
    assert sorted(a) == list(range(50)) and a != list(range(50))
    assert list(s) == a  # same epoch, same order
    for i in range(0, 50, 5):  # every block stays together
        assert sorted(a[i : i + 5]) == list(range(a[i] // 5 * 5, a[i] // 5 * 5 + 5))
    s.set_epoch(1)
    assert list(s) != a


def test_block_shuffle_sampler_with_a_minimum_epoch_length():
    s = BlockShuffleSampler(50, block_size=5, seed=1, length=120)
    a = list(s)
    assert len(s) == len(a) == 120
    assert a[:50] == list(BlockShuffleSampler(50, block_size=5, seed=1))  # the first pass as before
    assert sorted(a[50:100]) == list(range(50)) and a[50:100] != a[:50]  # a fresh second pass
    assert len(set(a[100:])) == 20
    assert len(BlockShuffleSampler(50, length=10)) == 50  # never shorter than one pass


# -- training loop ---------------------------------------------------------------------------------


@pytest.fixture
def tiny(tmp_path):
    return planted(tmp_path, "tr", 64, seed=10), planted(tmp_path, "va", 24, seed=11)


def test_same_seed_identical_predictions(tmp_path, tiny):
    train, val = tiny
    train.augment = Augment(noise_std=0.05, shift_max=16)
    preds = []
    for run in ("a", "b"):
        m = tiny_model()
        train_fold(m, train, val, tmp_path / run, fast_params(), device="cpu")
        preds.append(predict(m, val, batch_size=32, device="cpu"))
    assert preds[0].shape == (len(val),) and preds[0].dtype == np.float32
    np.testing.assert_array_equal(preds[0], preds[1])
    m = tiny_model(seed=5)
    train_fold(m, train, val, tmp_path / "c", fast_params(seed=5), device="cpu")
    assert not np.array_equal(predict(m, val, 32, "cpu"), preds[0])


def test_resume_after_interruption_matches_uninterrupted_run(tmp_path, tiny):
    train, val = tiny
    full = train_fold(tiny_model(), train, val, tmp_path / "full", fast_params(epochs=3), "cpu")
    assert full["epochs_run"] == 3 and full["resumed_from"] is None

    out = tmp_path / "cut"
    first = train_fold(tiny_model(), train, val, out, fast_params(epochs=3, stop_after_epochs=1))
    assert first["interrupted"] and len(read_rows(out / "train_curves.csv")) == 1
    assert torch.load(out / "last.pt", weights_only=True)["epoch"] == 0
    second = train_fold(tiny_model(seed=99), train, val, out, fast_params(epochs=3), "cpu")
    assert second["resumed_from"] == 0 and second["epochs_run"] == 2
    rows = read_rows(out / "train_curves.csv")
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert list(rows[0]) == [
        "epoch",
        "train_loss",
        "val_loss",
        "val_auroc",
        "val_auprc",
        "val_sens_at_fah",
        "lr",
        "seconds",
    ]

    a = torch.load(tmp_path / "full" / "last.pt", weights_only=True)
    b = torch.load(out / "last.pt", weights_only=True)
    assert a["model"].keys() == b["model"].keys()
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    full_rows = read_rows(tmp_path / "full" / "train_curves.csv")
    assert [r["val_auroc"] for r in full_rows] == [r["val_auroc"] for r in rows]
    # a finished run is not trained again
    again = train_fold(tiny_model(), train, val, out, fast_params(epochs=3), "cpu")
    assert again["epochs_run"] == 0 and len(read_rows(out / "train_curves.csv")) == 3


def test_checkpoints_and_perf_log(tmp_path, tiny):
    train, val = tiny
    out = tmp_path / "run"
    res = train_fold(tiny_model(), train, val, out, fast_params(epochs=1, perf_every_n_steps=1))
    last = torch.load(out / "last.pt", weights_only=True)
    best = torch.load(out / "best_by_auroc.pt", weights_only=True)
    assert {"model", "optimizer", "scheduler", "scaler", "epoch", "rng"} <= set(last)
    assert best["epoch"] == 0 and math.isclose(best["val_auroc"], res["best_val_auroc"])
    assert not list(out.glob("*.tmp"))
    perf = read_rows(out / "perf.csv")
    assert len(perf) == len(train) // 16  # one row per step (drop_last)
    for col in ("data_ms", "h2d_ms", "fwd_ms", "bwd_ms", "step_ms", "ram_mb", "vram_mb"):
        assert all(float(r[col]) >= 0 for r in perf), col
    assert float(perf[0]["ram_mb"]) > 10
    assert res["n_pos"] + res["n_neg"] == len(train) and res["pos_weight"] == pytest.approx(
        res["n_neg"] / res["n_pos"]
    )


class OOMOverFour(torch.nn.Module):
    """Raises the CUDA out-of-memory error for batches over 4 windows."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x, feats=None):
        if x.shape[0] > 4:
            raise torch.OutOfMemoryError("fake OOM")
        return self.inner(x, feats)


def test_oom_halves_the_micro_batch(tmp_path, tiny):
    train, val = tiny
    m = OOMOverFour(tiny_model())
    res = train_fold(m, train, val, tmp_path / "oom", fast_params(epochs=1, eval_batch_size=4))
    assert res["micro_batch"] == 4 and res["grad_accum_effective"] == 4
    assert len(read_rows(tmp_path / "oom" / "train_curves.csv")) == 1


def test_single_class_validation_is_nan_safe(tmp_path, tiny):
    train, _ = tiny
    val = planted(tmp_path, "neg", 12, seed=12, labels=np.zeros(12, int))
    res = train_fold(tiny_model(), train, val, tmp_path / "one", fast_params(epochs=2, patience=5))
    rows = read_rows(tmp_path / "one" / "train_curves.csv")
    assert len(rows) == 2 and all(math.isnan(float(r["val_auroc"])) for r in rows)
    assert math.isfinite(float(rows[0]["val_loss"]))
    assert res["best_epoch"] == 0 and (tmp_path / "one" / "best_by_auroc.pt").exists()


def test_learns_planted_25hz_rhythm(tmp_path):
    train = planted(tmp_path, "tr", 192, seed=20)
    val = planted(tmp_path, "va", 48, seed=21)
    m = tiny_model()
    res = train_fold(m, train, val, tmp_path / "learn", fast_params(epochs=5))
    assert res["best_val_auroc"] > 0.9
    # predict() in dataset order reproduces the best epoch's AUROC (the best weights are restored)
    auroc = roc_auc_score(val.y_cls, predict(m, val, 64, "cpu"))
    assert auroc == pytest.approx(res["best_val_auroc"], abs=1e-6)


def test_negative_control_labels_independent_of_signal(tmp_path):
    # the signal carries the planted rhythm, but labels are drawn independently of it
    rng = np.random.default_rng(30)
    n_val = 96
    train = planted(tmp_path, "tr", 192, seed=30, labels=rng.integers(0, 2, 192))
    y_val = rng.permutation(np.repeat([0, 1], n_val // 2))
    val = planted(tmp_path, "va", n_val, seed=31, labels=y_val)
    m = tiny_model()
    train_fold(m, train, val, tmp_path / "null", fast_params(epochs=5, restore_best=False))
    p = predict(m, val, 64, "cpu")

    auroc = roc_auc_score(y_val, p)
    # null sd of the AUROC (Mann-Whitney): sqrt((n1 + n0 + 1) / (12 n1 n0)) = 0.059 for 48/48;
    # 4 sd = 0.24
    n1 = n0 = n_val // 2
    tol = 4 * math.sqrt((n1 + n0 + 1) / (12 * n1 * n0))
    assert abs(auroc - 0.5) < tol


def test_best_by_fah_and_excluded_validation_windows(tmp_path):
    """With excluded windows (label -1) in the validation set, loss and AUROC are those of the
    labelled windows alone; best_by_fah.pt holds the epoch the alarm metric liked best (ties go
    to the better AUROC), and the metric sees every validation window in order."""
    train = planted(tmp_path, "tr", 96, seed=1)
    labels = (np.arange(60) // 3) % 2
    with_excluded = labels.copy()
    with_excluded[::5] = -1
    val_all = planted(tmp_path, "va", 60, seed=2, labels=with_excluded)
    keep = with_excluded >= 0
    val_labelled = WindowDataset(
        val_all.signal_paths,
        val_all.case[keep],
        val_all.start_sample[keep],
        val_all.y_cls[keep],
        y_soft=val_all.y_soft[keep],
        weights=val_all.weights[keep],
        window_samples=W,
    )
    seen = []

    def metric(p):  # a stand-in for sensitivity at FAH: prefers the second epoch
        seen.append(len(p))
        return [0.2, 0.6, 0.6][len(seen) - 1]

    params = fast_params(epochs=3)
    a = train_fold(tiny_model(), train, val_all, tmp_path / "a", params, val_alarm_metric=metric)
    b = train_fold(tiny_model(), train, val_labelled, tmp_path / "b", params)
    assert seen == [60, 60, 60]
    rows_a = read_rows(tmp_path / "a/train_curves.csv")
    rows_b = read_rows(tmp_path / "b/train_curves.csv")
    for ra, rb in zip(rows_a, rows_b, strict=True):
        assert float(ra["val_auroc"]) == pytest.approx(float(rb["val_auroc"]), abs=1e-6)
        assert float(ra["val_loss"]) == pytest.approx(float(rb["val_loss"]), rel=1e-5)
        assert math.isnan(float(rb["val_sens_at_fah"]))
    best = torch.load(tmp_path / "a/best_by_fah.pt", weights_only=True)
    aurocs = [float(r["val_auroc"]) for r in rows_a]
    assert best["epoch"] == (1 if aurocs[1] >= aurocs[2] else 2)
    assert best["val_sens_at_fah"] == 0.6 and a["best_val_sens_at_fah"] == 0.6
    assert not (tmp_path / "b/best_by_fah.pt").exists()
    assert math.isnan(b["best_val_sens_at_fah"]) and b["val_n_pos"] == a["val_n_pos"]


def test_early_stopping_on_the_validation_alarm_metric(tmp_path):
    """``early_stopping: fah`` stops after ``patience`` epochs without a better sensitivity at
    the FAH target, whatever the AUROC does; it needs the metric."""
    train = planted(tmp_path, "tr", 64, seed=1)
    val = planted(tmp_path, "va", 32, seed=2)
    sens = iter([0.5, 0.4, 0.3, 0.9, 0.9])  # worse after the first epoch (ties: by AUROC)
    params = fast_params(epochs=5, patience=2, early_stopping="fah")
    out = train_fold(
        tiny_model(), train, val, tmp_path / "a", params, val_alarm_metric=lambda p: next(sens)
    )
    assert out["stopped_early"] and out["epochs_run"] == 3
    assert out["best_val_sens_at_fah"] == 0.5
    with pytest.raises(ValueError, match="needs the validation alarm metric"):
        train_fold(tiny_model(), train, val, tmp_path / "b", params)


def test_run_key_changes_with_every_training_input(tmp_path):
    """A resumable FusionNet run is keyed on its configuration, seed, code, window and inputs: a
    checkpoint trained on other labels, other features (e.g. features.relative_min), by other
    code (a fixed bug) or on a rewritten signal or reference store is never resumed."""
    import os

    import pandas as pd

    from preictal.models.fusion.fit import (
        RUN_INPUT_COLUMNS,
        FusionParams,
        FusionWindow,
        _clear_stale_run,
        run_key,
    )

    rng = np.random.default_rng(0)
    table = pd.DataFrame({c: rng.integers(0, 2, 50) for c in RUN_INPUT_COLUMNS})
    X = rng.normal(size=(50, 4)).astype(np.float32)
    store = tmp_path / "signal.npy"
    np.save(store, np.zeros((2, 100), np.float16))
    inputs = {"window": FusionWindow(256, 2560), "stores": [store], "code": "abc"}
    key = run_key(FusionParams(), table, X, 1, **inputs)
    assert run_key(FusionParams(), table.copy(), X.copy(), 1, **inputs) == key
    assert run_key(FusionParams(), table, X, 2, **inputs) != key
    assert run_key(FusionParams(), table.assign(y_cls=1 - table.y_cls), X, 1, **inputs) != key
    assert run_key(FusionParams(), table, X - np.median(X, axis=0), 1, **inputs) != key
    assert run_key(FusionParams(interictal_ratio=3), table, X, 1, **inputs) != key
    assert run_key(FusionParams(), table, X, 1, **{**inputs, "code": "abd"}) != key
    assert (
        run_key(FusionParams(), table, X, 1, **{**inputs, "window": FusionWindow(256, 1280)}) != key
    )
    np.save(store, np.ones((2, 100), np.float16))  # rewritten, e.g. by a preprocessing change
    os.utime(store, ns=(0, 10**18))
    assert run_key(FusionParams(), table, X, 1, **inputs) != key
    # The run folder keeps a checkpoint only under the key it was trained under.
    run = tmp_path / "run"
    _clear_stale_run(run, key)
    (run / "last.pt").write_bytes(b"checkpoint")
    _clear_stale_run(run, key)
    assert (run / "last.pt").exists()
    _clear_stale_run(run, run_key(FusionParams(), table, X, 1, **{**inputs, "code": "abd"}))
    assert not (run / "last.pt").exists()


def test_window_shift_stays_in_the_window_s_file_and_nan_samples_read_as_zero(tmp_path):
    """``shift_mode: window`` moves a training window inside its file's span only (never into
    the next file, which may belong to another part), and NaN samples (dropouts) reach the
    network as zeros, item by item and batched."""
    path = tmp_path / "s.npy"
    n = 2000  # channel 0 holds each sample's index (exact in float16 below 2048)
    sig = np.zeros((C, n), np.float16)
    sig[0] = np.arange(n)
    sig[1, 700:720] = np.nan
    np.save(path, sig)
    starts = np.array([0, 200, 400, 1000, 1200])  # two files: windows from 0-400 and 1000-1200
    lo, hi = np.array([0, 0, 0, 1000, 1000]), np.array([400, 400, 400, 1200, 1200])
    ds = WindowDataset(
        [str(path)],
        np.zeros(5, np.int64),
        starts,
        np.zeros(5, np.int64),
        window_samples=W,
        augment=Augment(shift_max=500, shift_mode="window"),
        shift_bounds=(lo, hi),
    )
    moved = set()
    for epoch in range(30):
        ds.set_epoch(epoch)
        for i in range(5):
            first = int(ds[i]["x"][0, 0])
            assert lo[i] <= first <= hi[i], (i, first)
            moved.add(first != starts[i])
    assert moved == {True, False}
    plain = WindowDataset(
        [str(path)],
        np.zeros(3, np.int64),
        np.array([650, 680, 900]),
        np.zeros(3, np.int64),
        window_samples=W,
    )
    items = [plain[i]["x"] for i in range(3)]
    assert all(torch.isfinite(x).all() for x in items)
    assert torch.equal(plain.__getitems__([0, 1, 2])["x"], torch.stack(items))
    assert float(items[0][1, 700 - 650]) == 0.0


def test_batched_reads_equal_the_stacked_items(tmp_path):
    """``WindowDataset.__getitems__`` (one read per run of overlapping windows) gives exactly
    ``default_collate`` of the items, with features, references, two cases, shuffled and
    non-overlapping indices; the loaders use it through ``collate``."""
    from torch.utils.data import DataLoader, default_collate

    from preictal.models.fusion.data import collate

    rng = np.random.default_rng(5)
    paths, refs = [], []
    for k in range(2):
        paths.append(str(tmp_path / f"s{k}.npy"))
        np.save(paths[-1], (rng.standard_normal((C, 40 * W)) * 20).astype(np.float16))
        refs.append(str(tmp_path / f"r{k}.npy"))
        np.save(refs[-1], rng.standard_normal((30, C, 48)).astype(np.float16))
    n = 30
    case = rng.integers(0, 2, n)
    start = rng.integers(0, 39 * W, n)
    start[:10] = np.arange(10) * (W // 2)  # a run of overlapping windows in one case
    case[:10] = 0
    ds = WindowDataset(
        paths,
        case,
        start,
        rng.integers(-1, 2, n),
        window_samples=W,
        y_soft=rng.random(n),
        weights=rng.random(n),
        features=rng.standard_normal((n, 4)),
        reference_paths=refs,
        reference_rows=rng.integers(0, 30, n),
    )
    for indices in (list(range(10)), rng.permutation(n).tolist(), [3]):
        batched = ds.__getitems__(indices)
        stacked = default_collate([ds[i] for i in indices])
        assert batched.keys() == stacked.keys()
        for key in stacked:
            assert batched[key].dtype == stacked[key].dtype, key
            assert torch.equal(batched[key], stacked[key]), key
    loaded = next(iter(DataLoader(ds, batch_size=n, collate_fn=collate)))
    assert torch.equal(loaded["x"], default_collate([ds[i] for i in range(n)])["x"])


def test_retain_freed_memory_is_a_glibc_setting_that_changes_no_number(tmp_path):
    """FusionNet's jobs keep freed memory on the heap (a speed setting, docs/PERFORMANCE.md):
    it applies on glibc and predictions are bit-equal with it."""
    import platform

    from preictal.models.fusion.loop import retain_freed_memory

    ds = planted(tmp_path, "va", 32, seed=3)
    model = tiny_model()
    before = predict(model, ds, 16, "cpu")
    applied = retain_freed_memory()
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert applied
    np.testing.assert_array_equal(predict(model, ds, 16, "cpu"), before)


def test_checkpoint_fah_without_a_scored_validation_seizure_fails_before_training(
    tmp_path, tmp_path_factory
):
    """``fusion.checkpoint: fah`` picks the epoch by the validation sensitivity: a fold whose
    validation part scores no seizure fails at once, with the reason, not after training."""
    from preictal.models.fusion.fit import AlarmContext, FusionParams, FusionTrainer, FusionWindow
    from tests.models.test_causality import CASE, LABELS, SETTINGS, case_pair

    data = case_pair(tmp_path_factory, "256Hz_w10_s5", "rhythm")["orig"]
    sfreq, wp = SETTINGS["256Hz_w10_s5"]
    trainer = FusionTrainer(
        params=FusionParams(checkpoint="fah", sequence=None, net={"n_blocks": 1, "width": 4}),
        window=FusionWindow.of(sfreq, wp.w_sec),
        label_params=LABELS,
        signal_paths={CASE: data["signal_path"]},
        out_dir=tmp_path / "run",
        alarm_context=AlarmContext(
            seizures=data["ledger"].iloc[:0], files=data["files"], label_params=LABELS
        ),
        reference_paths={CASE: data["reference_path"]},
        device="cpu",
    )
    with pytest.raises(ValueError, match="no validation seizure is scored"):
        trainer.fit(data["split"], data["cases"], seed=1)
    assert not (tmp_path / "run" / "last.pt").exists()
