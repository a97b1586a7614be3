"""Causality of every model: changing the signal strictly after a window's end never changes that
window's risk score, relative features and FusionNet's relative spectrogram included (the general
guard against look-ahead).

One synthetic case of four files (one cache block each, one lead seizure each) is cut into
train / validation / test by the real within-patient split. Everything downstream of the cache is
built with the workflow's own code (window table and bad flags, ``basic_plus`` features, labels,
seizure ledger, split, causal relative features) and each model is trained and scores the
validation and test windows. The cached signal is then changed from time ``T`` on (a point in the
middle of the test file, on a window end) and everything is rebuilt and retrained with the same
seed. Training and validation windows end before ``T``, so the model must come out identical
(checked); every test window that ends at or before ``T`` must keep exactly its score, and the
windows after ``T`` must change (the perturbation is real).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from preictal.cache.windows import WindowParams, build_window_table
from preictal.features.relative import model_feature_table
from preictal.features.table import build_feature_table
from preictal.labels import LabelParams, label_windows, seizure_ledger
from preictal.models.fusion.reference import write_spectral_reference
from preictal.splits import SplitParams, build_split, fold_table, rotating_seed

CASE, PATIENT = "chb90", "chb90"
N_CH = 18
FILE_SEC = 480.0  # each file (cache block) is 8 minutes long
FILE_GAP_SEC = 60.0  # unrecorded time between files, same segment
ONSET_IN_FILE, SEIZURE_SEC = 300.0, 20.0
T_IN_TEST_FILE = 260.0  # the perturbation starts here: a window end in both settings, mid-block
RELATIVE_MIN = 3.0  # features relative to the causal median of the previous 3 minutes
FEATURE_SET = "basic_plus"  # the workflow default; its d_* columns look one window back
# Small label periods so that 8-minute files hold preictal and interictal windows.
LABELS = LabelParams(
    preictal_min=2.0, gap_sec=10.0, postictal_min=1.0, interictal_buffer_min=3.0, lead_min=3.0
)
SETTINGS = {
    "256Hz_w10_s5": (256, WindowParams(w_sec=10, step_sec=5)),  # the workflow default
    "128Hz_w20_s10": (128, WindowParams(w_sec=20, step_sec=10)),
}
MODELS = ("logreg", "mlp", "xgboost", "fusion")
FLOAT_ATOL = 1e-9  # scores are float64 probabilities; a real change is far larger


def file_starts() -> np.ndarray:
    return np.arange(4) * (FILE_SEC + FILE_GAP_SEC)


def synth_signal(sfreq: int, seed: int = 0) -> np.ndarray:
    """``[18, 4 * FILE_SEC * sfreq]`` float16 EEG-like signal (µV): 1/f-ish background, an alpha
    rhythm, a 20 Hz rhythm ramping up over the 2 minutes before each onset, a 4 Hz seizure."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    n = int(FILE_SEC * sfreq)
    t = np.arange(n) / sfreq
    files = []
    for _ in range(4):
        x = lfilter([1.0], [1.0, -0.9], rng.normal(0, 6, (N_CH, n)), axis=1)
        x += 8 * np.sin(2 * np.pi * 10 * t + rng.uniform(0, 2 * np.pi, (N_CH, 1)))
        ramp = np.clip((t - (ONSET_IN_FILE - 120)) / 120, 0, 1) * (t < ONSET_IN_FILE)
        x += 15 * ramp * np.sin(2 * np.pi * 20 * t + rng.uniform(0, 2 * np.pi, (N_CH, 1)))
        ictal = (t >= ONSET_IN_FILE) & (t < ONSET_IN_FILE + SEIZURE_SEC)
        x += 60 * ictal * np.sin(2 * np.pi * 4 * t)
        files.append(x)
    return np.concatenate(files, axis=1).astype(np.float16)


def perturb(signal: np.ndarray, k0: int, kind: str, sfreq: int) -> np.ndarray:
    """A copy of ``signal`` changed from sample ``k0`` on (the samples before stay bit-equal)."""
    out = signal.copy()
    tail = out[:, k0:].astype(np.float32)
    if kind == "rhythm":  # louder, with a strong 7 Hz rhythm: every feature moves
        t = np.arange(tail.shape[1]) / sfreq
        tail = 2.5 * tail + 40 * np.sin(2 * np.pi * 7 * t)
    elif kind == "nan":  # a dropout (NaN) on some channels and a flat run: the NaN policy path
        tail[:4] = np.nan
        tail[4:8] = 0.0
        tail[8:] *= 3.0
    else:
        raise ValueError(kind)
    out[:, k0:] = tail.astype(np.float16)
    assert np.array_equal(out[:, :k0].view(np.int16), signal[:, :k0].view(np.int16))
    return out


def tables_of(root, sfreq: int, wp: WindowParams, signal: np.ndarray) -> dict:
    """Cache files, window table, features, labels, ledger and split of the case, as the
    workflow's cache / windows / features / labels / split rules build them."""
    root.mkdir(parents=True)
    signal_path = str(root / "signal.npy")
    np.save(signal_path, signal)
    n = int(FILE_SEC * sfreq)
    starts = file_starts()
    names = [f"{CASE}_{k + 1:02d}.edf" for k in range(4)]
    blocks = pd.DataFrame(
        {
            "file": names,
            "offset": np.arange(4) * n,
            "n_samples": n,
            "start_sec": starts,
            "segment": 0,
        }
    )
    files = pd.DataFrame(
        {
            "case": CASE,
            "file": names,
            "start_sec": starts,
            "end_sec": starts + FILE_SEC,
            "segment": 0,
        }
    )
    seizures = pd.DataFrame(
        {
            "case": CASE,
            "patient": PATIENT,
            "file": names,
            "seizure_in_file": 0,
            "onset_sec": starts + ONSET_IN_FILE,
            "end_sec": starts + ONSET_IN_FILE + SEIZURE_SEC,
            "segment": 0,
        }
    )
    windows = build_window_table(signal_path, blocks, sfreq, wp)
    features = build_feature_table(
        signal_path, blocks, sfreq, w_sec=wp.w_sec, step_sec=wp.step_sec, feature_set=FEATURE_SET
    )
    labels = label_windows(windows, seizures, LABELS)
    labels.insert(0, "window", windows.window.to_numpy())
    ledger = seizure_ledger(files, seizures, labels, LABELS)
    split, manifest = build_split(
        "within",
        PATIENT,
        {
            CASE: {
                "windows": windows,
                "labels": labels,
                "files": files.drop(columns="case"),
                "seizures": ledger,
            }
        },
        {},
        SplitParams(),
    )
    assert manifest["skipped"] is None, manifest
    model_features = model_feature_table(features, windows, RELATIVE_MIN)  # as the workflow
    reference_path = str(root / "spectral_reference.npy")
    write_spectral_reference(
        signal_path,
        windows,
        reference_path,
        sfreq=sfreq,
        window_samples=round(wp.w_sec * sfreq),
        minutes=RELATIVE_MIN,
    )
    cases = {CASE: {"windows": windows, "labels": labels, "features": model_features}}
    return {
        "signal_path": signal_path,
        "reference_path": reference_path,
        "windows": windows,
        "features": features,
        "cases": cases,
        "split": split,
        "files": files,
        "ledger": ledger,
    }


_DATA: dict = {}


def case_pair(tmp_path_factory, setting: str, kind: str) -> dict:
    """The original and the perturbed case of a setting (built once per module)."""
    key = (setting, kind)
    if key not in _DATA:
        sfreq, wp = SETTINGS[setting]
        root = tmp_path_factory.mktemp(f"{setting}_{kind}")
        signal = synth_signal(sfreq)
        t_cut = file_starts()[3] + T_IN_TEST_FILE
        k0 = 3 * int(FILE_SEC * sfreq) + int(round(T_IN_TEST_FILE * sfreq))
        orig = tables_of(root / "orig", sfreq, wp, signal)
        pert = tables_of(root / "pert", sfreq, wp, perturb(signal, k0, kind, sfreq))
        _DATA[key] = {"orig": orig, "pert": pert, "T": t_cut, "k0": k0}
    return _DATA[key]


def check_inputs(data: dict) -> None:
    """The fold's inputs: the split has its three parts in time order and the cut lies inside
    the test part; inputs of windows ending by ``T`` are equal, those of later windows differ."""
    orig, pert, t_cut = data["orig"], data["pert"], data["T"]
    pd.testing.assert_frame_equal(orig["split"], pert["split"])
    table, x_orig = fold_table(orig["split"], orig["cases"])
    _, x_pert = fold_table(pert["split"], pert["cases"])
    part = table.part.to_numpy()
    end = table.end_sec.to_numpy()
    assert set(part) == {"train", "val", "test"}
    assert end[part != "test"].max() <= t_cut, "train/val windows must end before the cut"
    test = part == "test"
    before, after = test & (end <= t_cut), test & (end > t_cut)
    assert before.sum() >= 10 and after.sum() >= 5
    assert set(table.y_cls[part == "train"]) >= {0, 1}
    # Everything the models see about windows that end by T is unchanged ...
    np.testing.assert_array_equal(
        x_orig[end <= t_cut],
        x_pert[end <= t_cut],
        err_msg="LOOK-AHEAD in the features: model inputs of windows ending by T changed",
    )
    w_cols = ["window", "start_sample", "start_sec", "end_sec", "bad"]
    pd.testing.assert_frame_equal(
        orig["windows"].loc[end <= t_cut, w_cols], pert["windows"].loc[end <= t_cut, w_cols]
    )
    # ... while the absolute and relative features of every later window changed.
    f_orig = orig["features"].drop(columns="window").to_numpy()
    f_pert = pert["features"].drop(columns="window").to_numpy()
    assert (f_orig[after] != f_pert[after]).any(axis=1).all()
    assert (x_orig[after] != x_pert[after]).any(axis=1).all()
    # FusionNet's spectral reference (the patient's recent spectrum): the same by T, then moved.
    r_orig, r_pert = np.load(orig["reference_path"]), np.load(pert["reference_path"])
    rows = table.window.to_numpy()
    np.testing.assert_array_equal(
        r_orig[rows[end <= t_cut]],
        r_pert[rows[end <= t_cut]],
        err_msg="LOOK-AHEAD in the spectral reference of windows ending by T",
    )
    moved = (r_orig[rows[after]] != r_pert[rows[after]]).reshape(after.sum(), -1).any(axis=1)
    assert moved.mean() >= 0.5, f"only {moved.sum()}/{moved.size} later references moved"


def fit_model(model: str, data: dict, out_dir, setting: str):
    """Train ``model`` as the workflow's train rules do; returns the Fitted result."""
    if model in ("logreg", "mlp", "xgboost"):
        from preictal.models.baseline import BaselineParams, BaselineTrainer

        params = BaselineParams()
        trainer = BaselineTrainer(model, params)
    else:
        from preictal.models.fusion.fit import (
            AlarmContext,
            FusionParams,
            FusionTrainer,
            FusionWindow,
        )

        sfreq, wp = SETTINGS[setting]
        params = FusionParams(
            # fusion_sequence: the GRU over each window's history (fusion.sequence) on top.
            sequence={"windows": 8, "hidden": 4, "epochs": 2}
            if model == "fusion_sequence"
            else None,
            net={"n_blocks": 1, "width": 4, "dropout": 0.0},
            train={
                "epochs": 1,
                "batch_size": 16,
                "min_windows_per_epoch": 32,
                "patience": 1,
                "perf_every_n_steps": 0,
                "eval_batch_size": 64,
            },
        )
        trainer = FusionTrainer(
            params=params,
            window=FusionWindow.of(sfreq, wp.w_sec),
            label_params=LABELS,
            signal_paths={CASE: data["signal_path"]},
            out_dir=out_dir,
            alarm_context=AlarmContext(
                seizures=data["ledger"], files=data["files"], label_params=LABELS
            ),
            reference_paths={CASE: data["reference_path"]},
            threads=1,
            device="cpu",
        )
    seed = rotating_seed(params.seed, f"within/{PATIENT}")
    return trainer.fit(data["split"], data["cases"], seed)


@pytest.fixture
def record_fusion_items(monkeypatch):
    """Record the shape of every window the FusionNet datasets hand out."""
    import preictal.models.fusion.data as fusion_data

    shapes: set = set()

    class Recording(fusion_data.WindowDataset):
        def __getitem__(self, i):
            item = super().__getitem__(i)
            shapes.add(tuple(item["x"].shape))
            return item

        def __getitems__(self, indices):
            batch = super().__getitems__(indices)
            if isinstance(batch, dict):  # a stacked batch of reads
                shapes.add(tuple(batch["x"].shape[1:]))
            return batch

    monkeypatch.setattr(fusion_data, "WindowDataset", Recording)
    return shapes


def model_difference(model: str, a, b, data: dict) -> str | None:
    """None if the two trainings produced the same model (and the same training-window scores),
    else what differs."""
    if model.startswith("fusion"):
        import torch

        sa, sb = a.model, b.model
        for k in sa["state_dict"]:
            if not torch.equal(sa["state_dict"][k], sb["state_dict"][k]):
                return f"FusionNet parameter {k}"
        for k in ("feature_mean", "feature_scale"):
            if not torch.equal(sa[k], sb[k]):
                return k
        if (sa["sequence"] is None) != (model == "fusion"):
            return "sequence stage present or missing"
        if sa["sequence"] is not None:
            qa, qb = sa["sequence"], sb["sequence"]
            for k in ("embedding_mean", "embedding_scale"):
                if not torch.equal(qa[k], qb[k]):
                    return f"sequence {k}"
            for k in qa["state_dict"]:
                if not torch.equal(qa["state_dict"][k], qb["state_dict"][k]):
                    return f"sequence parameter {k}"
        return None
    from preictal.models.baseline import predict_logit

    if a.model != b.model:
        return f"{model} model description"
    table, x_orig = fold_table(data["orig"]["split"], data["orig"]["cases"])
    _, x_pert = fold_table(data["pert"]["split"], data["pert"]["cases"])
    train = table.part.to_numpy() == "train"
    if not np.array_equal(
        predict_logit(a.model, x_orig[train]), predict_logit(b.model, x_pert[train])
    ):
        return "training-window scores"
    return None


CASES = (
    [(m, s, "rhythm") for s in SETTINGS for m in MODELS]
    + [("logreg", s, "nan") for s in SETTINGS]
    + [("fusion_sequence", "256Hz_w10_s5", "rhythm")]
)


@pytest.mark.parametrize(("model", "setting", "kind"), CASES)
def test_scores_never_depend_on_the_signal_after_the_window(
    model, setting, kind, tmp_path, tmp_path_factory, request
):
    data = case_pair(tmp_path_factory, setting, kind)
    check_inputs(data)
    fusion = model.startswith("fusion")
    shapes = request.getfixturevalue("record_fusion_items") if fusion else None

    fa = fit_model(model, data["orig"], tmp_path / "a", setting)
    fb = fit_model(model, data["pert"], tmp_path / "b", setting)

    if fusion:
        from preictal.models.fusion.fit import FusionWindow

        sfreq, wp = SETTINGS[setting]
        window = FusionWindow.of(sfreq, wp.w_sec)
        assert window.samples == round(sfreq * wp.w_sec) == 2560
        assert fa.model["window_samples"] == window.samples and fa.model["sfreq"] == sfreq
        assert shapes == {(N_CH, round(sfreq * wp.w_sec))}, shapes

    pa, pb = fa.predictions, fb.predictions
    key = ["case", "window", "part", "end_sec"]
    pd.testing.assert_frame_equal(pa[key], pb[key])
    same = model_difference(model, fa, fb, data)

    t_cut = data["T"]
    test = (pa.part == "test").to_numpy()
    end = pa.end_sec.to_numpy()
    before, after = test & (end <= t_cut), test & (end > t_cut)
    assert before.sum() >= 10 and after.sum() >= 5
    diff = np.abs(pa.score.to_numpy() - pb.score.to_numpy())
    bad = np.flatnonzero(before & (diff > FLOAT_ATOL))
    assert bad.size == 0, (
        f"LOOK-AHEAD: {model} ({setting}, {kind}): the scores of {bad.size} test window(s) that "
        f"end by T={t_cut} s changed when only the signal from T on changed; first at end_sec "
        f"{end[bad[:5]].tolist()}, |diff| up to {diff[bad].max():.3g}; the two models "
        + ("are identical" if same is None else f"differ too ({same})")
    )
    # A fair comparison: the training and validation windows are unchanged, so is the model.
    assert same is None, f"{model}: unchanged training/validation inputs, another model: {same}"
    val = (pa.part == "val").to_numpy()
    np.testing.assert_array_equal(
        pa.score[val], pb.score[val], err_msg=f"{model}: validation scores changed"
    )
    # The perturbation is real: most later windows get another score (a tree model may map a
    # few changed feature vectors to the same leaves).
    changed = diff[after] > FLOAT_ATOL
    assert changed.mean() >= 0.5, f"{model}: only {changed.sum()}/{changed.size} later scores moved"
