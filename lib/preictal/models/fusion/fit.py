"""FusionNet on one fold: windows from the memory-mapped cache plus the standardised features,
trained on the training part (early stopping on the validation part), scoring every validation
and test window. The training loop itself is :mod:`preictal.models.fusion.loop`."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from preictal.labels import LabelParams
from preictal.models.baseline import BaselineParams, Standardiser, training_rows
from preictal.models.fusion.window import FusionWindow
from preictal.recent import trailing_mean
from preictal.splits import SplitSkipped, fold_table

if TYPE_CHECKING:
    from preictal.models.fusion.data import Augment

log = logging.getLogger(__name__)

STALE_RUN_FILES = ("last.pt", "best_by_auroc.pt", "best_by_fah.pt", "train_curves.csv", "perf.csv")


INPUT_MODES = ("relative", "absolute", "none")


@dataclass(frozen=True)
class FusionParams:
    # Inputs: "relative" (to the patient's recent past: the spectral reference store, the model
    # features of features.relative_min), "absolute", or "none" (the branch is left out).
    spectrogram: str = "relative"
    features: str = "relative"
    reference_min: float = 60.0  # the spectral reference: median over the previous minutes
    # Minutes of context: the feature branch also sees each feature's mean over the windows of
    # the last context_min minutes (causal); None = the window alone.
    context_min: float | None = None
    # Context over minutes, second stage: a causal GRU over the embeddings of each window and the
    # windows before it (SequenceParams fields); None = FusionNet alone. 60 windows (5 min) was
    # chosen on validation (docs/TRAINING.md, ablation).
    sequence: dict | None = field(default_factory=lambda: {"windows": 60})
    interictal_ratio: float = 2.0
    seed: int = 20261125
    net: dict = field(default_factory=lambda: {"n_blocks": 3, "width": 16, "dropout": 0.2})
    train: dict = field(default_factory=lambda: {"epochs": 3, "batch_size": 64, "patience": 2})
    augment: dict = field(default_factory=dict)
    fah_target: float = 0.5  # evaluation.selection_fah: best_by_fah.pt is the best validation sensitivity at FAH <= this
    checkpoint: str = "auroc"  # the best checkpoint that scores the windows: "auroc" or "fah"

    def __post_init__(self) -> None:
        for key in ("spectrogram", "features"):
            if getattr(self, key) not in INPUT_MODES:
                raise ValueError(f"fusion.{key}: one of {INPUT_MODES}, not {getattr(self, key)!r}")
        if self.spectrogram == self.features == "none":
            raise ValueError("fusion: spectrogram and features are both 'none': no input left")
        if self.checkpoint not in ("auroc", "fah"):
            raise ValueError(f"fusion.checkpoint: 'auroc' or 'fah', not {self.checkpoint!r}")
        if self.sequence is not None:
            from preictal.models.fusion.sequence import SequenceParams

            SequenceParams(**self.sequence)  # unknown keys and bad values fail here


@dataclass(frozen=True)
class AlarmContext:
    """What scoring alarms on the validation timeline needs: the fold cases' seizure ledgers and
    file indexes (concatenated) and the label parameters. Alarms are plain threshold crossings
    with a 20-min refractory period (`PLAIN_ALARMS`), so that the post-processing settings of
    the evaluation can change without retraining."""

    seizures: pd.DataFrame
    files: pd.DataFrame
    label_params: LabelParams


def fit_fusion_fold(
    split: pd.DataFrame,
    cases: dict[str, dict[str, pd.DataFrame]],
    signal_paths: dict[str, str],
    out_dir: str | Path,
    params: FusionParams,
    *,
    window: FusionWindow,
    label_params: LabelParams,
    seed: int,
    threads: int = 1,
    device: str = "auto",
    alarm_context: AlarmContext | None = None,
    reference_paths: dict[str, str] | None = None,
    code: str = "",
) -> tuple[dict, pd.DataFrame]:
    """Returns (model checkpoint dict, predictions of validation and test windows). With an
    ``alarm_context``, every validation window (excluded ones too) is scored each epoch, and the
    epoch with the best sensitivity at ``params.fah_target`` is kept as ``best_by_fah.pt``.
    ``reference_paths`` (case -> spectral reference store) are needed for
    ``params.spectrogram == "relative"``; ``cases``' features are the ones ``params.features``
    names (the caller reads the relative or the absolute table)."""
    import torch

    from preictal.models.fusion.data import WindowDataset
    from preictal.models.fusion.loop import TrainParams, predict, retain_freed_memory, train_fold
    from preictal.models.fusion.net import FusionNet

    retain_freed_memory()
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
    in_val = table.part.to_numpy() == "val"
    val = np.flatnonzero(in_val if alarm_context else in_val & table.y_cls.isin([0, 1]).to_numpy())
    y_pick = table.y_cls.to_numpy()[pick]
    if len(np.unique(y_pick)) < 2:
        raise SplitSkipped(
            f"the training part has {int((y_pick == 1).sum())} preictal and "
            f"{int((y_pick == 0).sum())} interictal windows: one class only"
        )
    std = Standardiser.fit(X[pick])
    use_features = params.features != "none"
    feats = feature_input(std(X), table, params.context_min) if use_features else None
    relative = params.spectrogram == "relative"
    if relative and not reference_paths:
        raise ValueError("fusion.spectrogram 'relative' needs the spectral reference stores")
    references = [reference_paths[c] for c in order] if relative else None
    in_file = table.groupby(["case", "file"], sort=False).start_sample
    shift_bounds = (in_file.transform("min").to_numpy(), in_file.transform("max").to_numpy())

    def dataset(rows, augment=None):
        return WindowDataset(
            paths,
            table.case_index.to_numpy()[rows],
            table.start_sample.to_numpy()[rows],
            table.y_cls.to_numpy()[rows],
            y_soft=table.y_soft.to_numpy()[rows],
            y_tte=table.y_tte.to_numpy()[rows],
            features=None if feats is None else feats[rows],
            window_samples=window.samples,
            preictal_min=label_params.preictal_min,
            augment=augment,
            seed=seed % 2**31,
            reference_paths=references,
            reference_rows=table.window.to_numpy()[rows] if relative else None,
            read_signal=params.spectrogram != "none",
            shift_bounds=(shift_bounds[0][rows], shift_bounds[1][rows]),
        )

    tp = TrainParams(**{**params.train, "seed": seed % 2**31})
    torch.manual_seed(seed % 2**31)  # the initial weights, identical in every process
    net = FusionNet(
        n_features=feats.shape[1] if use_features else 0,
        sfreq=window.sfreq,
        use_spectrogram=params.spectrogram != "none",
        **params.net,
    )
    val_alarm_metric = _val_alarm_metric(table.iloc[val], alarm_context, params.fah_target)
    if params.checkpoint == "fah":
        _require_scored_validation_seizure(val_alarm_metric, len(val))
    stores = paths + (references or [])
    _clear_stale_run(
        out_dir, run_key(params, table, X, seed, window=window, stores=stores, code=code)
    )
    summary = train_fold(
        net,
        dataset(pick, augment(params.augment)),
        dataset(val),
        out_dir,
        tp,
        device=device,
        threads=threads,
        val_alarm_metric=val_alarm_metric,
    )
    if params.checkpoint == "fah":
        best_fah = out_dir / "best_by_fah.pt"
        if not best_fah.exists():
            raise ValueError(
                f"fusion.checkpoint 'fah': no {best_fah} (no validation seizure scored?)"
            )
        net.load_state_dict(torch.load(best_fah, map_location="cpu", weights_only=True)["model"])
    scored = np.flatnonzero(table.part.isin(["val", "test"]).to_numpy())
    sequence = None
    if params.sequence is None:
        scores = predict(net, dataset(scored), tp.eval_batch_size, device=device, params=tp).astype(
            np.float64
        )
    else:
        scores, sequence = _sequence_stage(
            net, table, dataset, pick, scored, params.sequence, seed, tp, device, threads
        )
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
        "sfreq": window.sfreq,
        "window_samples": window.samples,
        "n_features": int(feats.shape[1]) if use_features else 0,
        "context_min": params.context_min,
        "spectrogram": params.spectrogram,
        "features": params.features,
        "feature_mean": torch.tensor(std.mean, dtype=torch.float32),
        "feature_scale": torch.tensor(std.scale, dtype=torch.float32),
        "sequence": None if sequence is None else sequence["checkpoint"],
    }
    info = {
        **{k: v for k, v in summary.items() if isinstance(v, int | float | str | type(None))},
        "n_train_windows": len(pick),
        "n_pos": int((y_pick == 1).sum()),
        "n_neg": int((y_pick == 0).sum()),
        # The per-epoch curves in the manifest too: train_curves.csv is the resumable log in the
        # run folder, not a rule output (Snakemake would delete it before a rerun).
        "curves": json.loads(pd.read_csv(summary["curves"]).to_json(orient="records")),
    }
    if sequence is not None:
        info["sequence_curves"] = sequence["curves"]
    return {"checkpoint": checkpoint, "info": info}, preds


def _sequence_stage(net, table, dataset, pick, scored, config, seed, tp, device, threads):
    """The second stage (:mod:`.sequence`): FusionNet's frozen embeddings of the windows the
    histories need, standardised on the training windows' histories, a GRU trained on the
    training windows, the scores of ``scored``. Returns (scores, {"checkpoint", "curves"})."""
    import torch

    from preictal.models.fusion.loop import embed
    from preictal.models.fusion.sequence import (
        SequenceInputs,
        SequenceParams,
        assert_histories_stay_in_their_part,
        fit_sequence,
        history_index,
        needed_rows,
        score_sequence,
    )

    params = SequenceParams(**config)
    history = history_index(table, params.windows)
    assert_histories_stay_in_their_part(table, history)
    y = table.y_cls.to_numpy()
    val = np.flatnonzero((table.part.to_numpy() == "val") & np.isin(y, [0, 1]))
    rows = needed_rows(history, np.concatenate([pick, val, scored]))
    emb = np.zeros((len(table), net.head[0].out_features), np.float32)
    emb[rows] = embed(net, dataset(rows), tp.eval_batch_size, device=device, params=tp)
    train_rows = needed_rows(history, pick)
    mean = emb[train_rows].mean(axis=0)
    scale = np.where((sd := emb[train_rows].std(axis=0)) > 1e-6, sd, 1.0)  # dead units: 0
    emb[rows] = (emb[rows] - mean) / scale
    inputs = SequenceInputs(emb, table.bad.to_numpy(bool), history)
    previous = torch.get_num_threads()
    torch.set_num_threads(max(1, int(threads)))
    try:
        model, curves = fit_sequence(inputs, y, pick, val, params, seed % 2**31)
        scores = score_sequence(model, inputs, scored)
    finally:
        torch.set_num_threads(previous)
    checkpoint = {
        "params": asdict(params),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "embedding_mean": torch.tensor(mean, dtype=torch.float32),
        "embedding_scale": torch.tensor(scale, dtype=torch.float32),
    }
    return scores, {"checkpoint": checkpoint, "curves": curves}


def feature_input(
    standardised: np.ndarray, table: pd.DataFrame, context_min: float | None
) -> np.ndarray:
    """The feature branch's input: the standardised features, and with ``context_min`` beside
    them their trailing mean over the good windows of the last ``context_min`` minutes of the
    same timeline (case and segment; earlier windows and the window itself only)."""
    if context_min is None:
        return standardised.astype(np.float32)
    timeline = table.case.astype(str).str.cat(table.segment.astype(str), sep="/").to_numpy()
    # Artefact (bad) windows stay out of the context, as out of every median of the recent past;
    # with no good window in it, the context is the training mean (0 once standardised).
    good = np.where(table.bad.to_numpy(bool)[:, None], np.nan, standardised)
    context = trailing_mean(good, table.end_sec.to_numpy(float), timeline, context_min)
    context = np.nan_to_num(context, nan=0.0)
    return np.concatenate([standardised, context], axis=1).astype(np.float32)


def _val_alarm_metric(val_rows: pd.DataFrame, context: AlarmContext | None, target: float):
    """Validation probabilities (in ``val_rows`` order) -> best sensitivity at FAH <= target."""
    if context is None:
        return None
    from preictal.alarms.postprocess import PLAIN_ALARMS
    from preictal.alarms.tuning import sensitivity_at_fah, threshold_curve

    frame = val_rows.reset_index(drop=True)

    def metric(prob: np.ndarray) -> float:
        curve = threshold_curve(
            frame.assign(score=prob),
            context.seizures,
            context.files,
            context.label_params,
            PLAIN_ALARMS,
        )
        return sensitivity_at_fah(curve, target)

    return metric


def augment(config: dict) -> Augment | None:
    """The training augmentations of a config dict (YAML lists become the tuples Augment uses)."""
    from preictal.models.fusion.data import Augment

    if not config:
        return None
    return Augment(**{k: tuple(v) if isinstance(v, list) else v for k, v in config.items()})


RUN_INPUT_COLUMNS = ["case", "window", "part", "start_sample", "bad", "y_cls", "y_soft", "y_tte"]


def run_key(
    params: FusionParams,
    table: pd.DataFrame,
    X: np.ndarray,
    seed: int,
    *,
    window: FusionWindow,
    stores: Sequence[str | Path] = (),
    code: str = "",
) -> str:
    """What a resumable run depends on, so that a checkpoint trained on anything else is never
    resumed: the configuration, the seed, the code (the rule's digest of the modules its script
    runs), the network's window, and the fold's inputs: split, labels, features as the model sees
    them, and the signal and reference stores it reads (by name, size and modification time: a
    rewritten store, e.g. after a preprocessing change, starts the run afresh)."""
    h = hashlib.sha256(json.dumps(asdict(params), sort_keys=True).encode())
    h.update(f"{seed}|{code}|{window.sfreq}|{window.samples}".encode())
    h.update(pd.util.hash_pandas_object(table[RUN_INPUT_COLUMNS], index=False).to_numpy().tobytes())
    h.update(np.ascontiguousarray(X, dtype=np.float32).tobytes())
    for store in stores:
        stat = Path(store).stat()
        h.update(f"|{Path(store).name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def _require_scored_validation_seizure(metric, n_val: int) -> None:
    """``fusion.checkpoint: fah`` scores with the epoch of the best validation sensitivity: fail
    before training, not after it, where no validation seizure is scored (the sensitivity is
    then undefined in every epoch and no such checkpoint is ever written)."""
    if metric is None:
        raise ValueError("fusion.checkpoint 'fah' needs the validation alarm context")
    if not np.isfinite(metric(np.zeros(n_val))):
        raise ValueError(
            "fusion.checkpoint 'fah': no validation seizure is scored in this fold, so the "
            "validation sensitivity is undefined in every epoch; use 'auroc'"
        )


def _clear_stale_run(out_dir: Path, key: str) -> None:
    """Keep an interrupted run's checkpoint only if it belongs to this configuration."""
    out_dir.mkdir(parents=True, exist_ok=True)
    key_file = out_dir / "run_key.txt"
    if key_file.is_file() and key_file.read_text().strip() == key:
        return
    for name in STALE_RUN_FILES:
        (out_dir / name).unlink(missing_ok=True)
    key_file.write_text(key + "\n")


@dataclass
class FusionTrainer:
    """The trainer of FusionNet for :func:`preictal.models.runner.run_train_model`: its run
    folder (resumable checkpoints) is the model file's folder."""

    params: FusionParams
    window: FusionWindow
    label_params: LabelParams
    signal_paths: dict[str, str]
    out_dir: Path
    alarm_context: AlarmContext | None = None
    reference_paths: dict[str, str] | None = None
    threads: int = 1
    device: str = "auto"
    code: str = ""  # the rule's code digest: part of the run key (a code change never resumes)
    name: str = "fusion"

    def fit(self, split: pd.DataFrame, tables: dict, seed: int):
        from preictal.models.runner import Fitted

        model, preds = fit_fusion_fold(
            split,
            tables,
            self.signal_paths,
            self.out_dir,
            self.params,
            window=self.window,
            label_params=self.label_params,
            seed=seed,
            threads=self.threads,
            device=self.device,
            alarm_context=self.alarm_context,
            reference_paths=self.reference_paths,
            code=self.code,
        )
        return Fitted(model["checkpoint"], model["info"], preds, training=model["info"])

    def save(self, model: dict, path: str | Path) -> None:
        """A torch checkpoint of tensors (loads with ``weights_only=True``)."""
        import torch

        from preictal.io import atomic_path

        with atomic_path(path) as tmp:
            torch.save(model, tmp)
