"""Training loop for one fold: AMP, gradient accumulation, early stopping on validation AUROC,
atomic checkpoints with resume, per-epoch curves and a per-step performance log.

Files written to ``out_dir``:

- ``train_curves.csv``: one row per finished epoch (epoch, train_loss, val_loss, val_auroc,
  val_auprc, lr, seconds), appended as soon as the epoch ends.
- ``perf.csv``: every ``perf_every_n_steps`` batches: epoch, step, batch, data_ms, h2d_ms, fwd_ms,
  bwd_ms, step_ms, ram_mb, vram_mb.
- ``best_by_auroc.pt``: ``{"model", "epoch", "val_auroc"}`` of the best epoch so far.
- ``best_by_fah.pt``: ``{"model", "epoch", "val_sens_at_fah", "val_auroc"}`` of the epoch with the
  best validation sensitivity at the false-alarm target (ties: better AUROC), when ``train_fold``
  gets a ``val_alarm_metric``. That metric needs every validation window on its timeline, so the
  validation dataset then holds excluded windows too (label -1): loss and AUROC skip them.
- ``last.pt``: everything needed to resume after the last finished epoch (model, optimizer,
  scheduler, scaler, epoch, early-stopping state, RNG states, micro-batch size).

Checkpoints hold only tensors and plain containers, so they load with ``weights_only=True``; both
are written to a temporary file and moved into place with ``os.replace``. ``train_fold`` resumes
from ``last.pt`` when it is there: rows of the CSVs after its epoch (written by an epoch whose
checkpoint never landed) are dropped, and training continues with the saved RNG states, so a
resumed run ends with the same weights as an uninterrupted one (on CPU, same threads).
"""

from __future__ import annotations

import csv
import logging
import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import average_precision_score, roc_auc_score
from torch.utils.data import DataLoader

from preictal.models.fusion.data import BlockShuffleSampler, collate
from preictal.models.fusion.losses import fusion_loss, pos_weight_from

log = logging.getLogger(__name__)
# Epoch progress; the Snakemake job also shows it on the console (preictal.workflow.job).
progress = logging.getLogger("preictal.progress")
PROGRESS_EVERY_S = 30.0

CURVE_COLUMNS = [
    "epoch",
    "train_loss",
    "val_loss",
    "val_auroc",
    "val_auprc",
    "val_sens_at_fah",
    "lr",
    "seconds",
]
PERF_COLUMNS = [
    "epoch",
    "step",
    "batch",
    "data_ms",
    "h2d_ms",
    "fwd_ms",
    "bwd_ms",
    "step_ms",
    "ram_mb",
    "vram_mb",
]


@dataclass
class TrainParams:
    epochs: int = 3
    min_windows_per_epoch: int = 2048  # an epoch of a smaller training set repeats it (reshuffled)
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    loss: str = "bce"  # "bce" (with pos_weight = #neg/#pos of the training set) | "focal"
    focal_gamma: float = 2.0
    focal_alpha: float | None = None  # None: #neg / (#neg + #pos) of the training set
    lambda_soft: float = 0.1  # weight of MSE(soft_pred, y_soft)
    grad_accum: int = 1
    patience: int = 2  # epochs without a better validation `early_stopping` metric before stopping
    early_stopping: str = "auroc"  # "auroc" or "fah": the validation sensitivity at the FAH target (needs val_alarm_metric)
    min_delta: float = 0.0
    seed: int = 0
    num_workers: int = 0  # DataLoader worker processes (training, validation and scoring)
    persistent_workers: bool = False  # keep the workers between epochs (num_workers > 0)
    prefetch_factor: int = 2  # batches each worker loads ahead (num_workers > 0)
    amp: str = "auto"  # "auto" | "bf16" | "fp16" | "off"; on CPU only cpu_bf16 turns it on
    cpu_bf16: bool = False  # bf16 autocast on CPU
    channels_last: bool = True
    scheduler: str = "cosine"  # "cosine" (over epochs) | "none"
    max_grad_norm: float | None = 5.0
    block_size: int = 8  # BlockShuffleSampler block, in windows
    perf_every_n_steps: int = 50
    eval_batch_size: int = 256
    deterministic: bool = True
    restore_best: bool = True  # load best_by_auroc.pt into the model when training ends
    stop_after_epochs: int | None = None  # stop this call after so many epochs (tests, budgets)


# -- small helpers ---------------------------------------------------------------------------------

M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # glibc mallopt parameters (malloc.h)
RETAINED_FREE_BYTES = 1 << 30  # free heap memory glibc may keep instead of returning it


def retain_freed_memory() -> bool:
    """Let glibc's malloc serve large blocks from the heap and keep up to 1 GB of freed memory.

    By default every block over the mmap threshold (at most 32 MB) is a fresh ``mmap`` that is
    unmapped when freed, so each batch's large tensors (the spectrogram convolution's output is
    72 MB at batch 256) are page-faulted and zeroed anew: on 2 cores the workflow's scoring path
    ran at 650-850 windows/s, with a third of the job's CPU time in the kernel; with the heap it
    runs at 1,600-1,850 (docs/PERFORMANCE.md). A process setting, so FusionNet's jobs call it
    once; numerics are unchanged. Returns False (and changes nothing) where libc is not glibc."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, RETAINED_FREE_BYTES))


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def resolve_amp(params: TrainParams, device: torch.device) -> torch.dtype | None:
    """The autocast dtype, or None for fp32. CUDA: bf16 where supported, else fp16 ("auto");
    CPU: bf16 only when ``cpu_bf16``."""
    if params.amp not in ("auto", "bf16", "fp16", "off"):
        raise ValueError(f"TrainParams.amp: {params.amp!r}")
    if params.amp == "off":
        return None
    if device.type == "cuda":
        if params.amp == "fp16":
            return torch.float16
        if params.amp == "bf16" or torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float16
    return torch.bfloat16 if params.cpu_bf16 else None


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 (the legacy global RNG, for third-party code)
    torch.manual_seed(seed)


def _rng_state(device: torch.device) -> dict:
    kind, keys, pos, has_gauss, cached = np.random.get_state()  # noqa: NPY002
    state = {
        "torch": torch.get_rng_state(),
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
        "python": random.getstate(),
    }
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))  # noqa: NPY002
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state_all(state["cuda"])


def _atomic_save(obj, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _append_row(path: Path, columns: list[str], row: dict) -> None:
    new = not path.exists()
    with open(path, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns)
        if new:
            w.writeheader()
        w.writerow(row)


def _truncate_rows(path: Path, max_epoch: int) -> None:
    """Keep only the rows of ``path`` whose epoch is at most ``max_epoch``."""
    if not path.exists():
        return
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
        columns = list(rows[0].keys()) if rows else None
    kept = [r for r in rows if int(r["epoch"]) <= max_epoch]
    if len(kept) == len(rows):
        return
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns)
        w.writeheader()
        w.writerows(kept)
    os.replace(tmp, path)


def _ram_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _device_description(device: torch.device, threads: int) -> str:
    if device.type == "cuda":
        p = torch.cuda.get_device_properties(device)
        return f"CUDA {p.name}, {p.total_memory / 2**30:.1f} GiB"
    name = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            name = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"CPU {name}, {threads} thread(s), {mem:.1f} GiB RAM"


def _counts(ds) -> tuple[int, int]:
    y = np.asarray(ds.y_cls)
    return int((y == 1).sum()), int((y == 0).sum())


def _auroc(y: np.ndarray, p: np.ndarray) -> float:
    y, p = y[y >= 0], p[y >= 0]
    if len(np.unique(y)) < 2 or not np.all(np.isfinite(p)):
        return float("nan")
    return float(roc_auc_score(y, p))


def _auprc(y: np.ndarray, p: np.ndarray) -> float:
    y, p = y[y >= 0], p[y >= 0]
    if len(np.unique(y)) < 2 or not np.all(np.isfinite(p)):
        return float("nan")
    return float(average_precision_score(y, p))


def _finite(x: float) -> float:
    return x if math.isfinite(x) else -math.inf


def _to(batch: dict, device: torch.device) -> dict:
    nb = device.type == "cuda"
    return {k: v.to(device, non_blocking=nb) for k, v in batch.items()}


def forward(model, batch: dict) -> dict:
    """The model on a loaded batch; empty ``feats`` / ``reference`` items (``[B, 0]``) are off."""
    feats, reference = batch["feats"], batch.get("reference")
    feats = feats if feats.shape[1] else None
    if reference is not None and reference.dim() > 2:
        return model(batch["x"], feats, reference)
    return model(batch["x"], feats)


def _chunks(batch: dict, size: int):
    n = len(batch["y"])
    for i in range(0, n, size):
        yield {k: v[i : i + size] for k, v in batch.items()}, min(size, n - i) / n


def _no_aug(ds):
    return ds.without_augment() if hasattr(ds, "without_augment") else ds


# -- evaluation ------------------------------------------------------------------------------------


def loader_options(params: TrainParams | None) -> dict:
    """The DataLoader worker settings of ``params`` (none without workers)."""
    if params is None or params.num_workers == 0:
        return {"num_workers": 0}
    return {
        "num_workers": params.num_workers,
        "persistent_workers": params.persistent_workers,
        "prefetch_factor": params.prefetch_factor,
    }


@torch.no_grad()
def _evaluate(model, ds, batch_size, device, amp_dtype, loss_kw, loader=None, embeddings=None):
    """Probabilities in dataset order, labels, and the mean validation loss; with a list
    ``embeddings``, each batch's window embeddings are appended to it."""
    was_training = model.training
    model.eval()
    loader = DataLoader(
        _no_aug(ds),
        batch_size=batch_size,
        shuffle=False,
        pin_memory=device.type == "cuda",
        collate_fn=collate,
        **(loader or {"num_workers": 0}),
    )
    probs, ys, total, n = [], [], 0.0, 0
    try:
        for batch in loader:
            b = _to(batch, device)
            with torch.autocast(
                device.type, dtype=amp_dtype or torch.float32, enabled=bool(amp_dtype)
            ):
                out = forward(model, b)
            labelled = b["labelled"]  # excluded windows are scored but carry no loss
            if loss_kw is not None and bool(labelled.any()):
                out_l = {k: v[labelled] for k, v in out.items()}
                loss, _ = fusion_loss(
                    out_l, b["y"][labelled], b["y_soft"][labelled], b["w"][labelled], **loss_kw
                )
                total += float(loss) * int(labelled.sum())
            n += int(labelled.sum())
            probs.append(torch.sigmoid(out["cls_logit"].float()).cpu().numpy())
            if embeddings is not None:
                embeddings.append(out["embedding"].float().cpu().numpy())
            ys.append(np.where(batch["labelled"].numpy(), batch["y"].numpy(), -1))
    finally:
        model.train(was_training)
    p = np.concatenate(probs) if probs else np.zeros(0, np.float32)
    y = np.concatenate(ys) if ys else np.zeros(0, np.float32)
    return p, y, (total / n if n else float("nan"))


def predict(model, dataset, batch_size: int = 256, device="auto", *, params=None):
    """Probabilities (sigmoid of cls_logit, float32) for every item of ``dataset``, in order;
    eval mode, no augmentation, fp32. The model is moved to ``device``; ``params`` (TrainParams)
    give the loader's worker settings."""
    dev = resolve_device(device)
    model.to(dev)
    p, _, _ = _evaluate(model, dataset, batch_size, dev, None, None, loader_options(params))
    return p


def embed(model, dataset, batch_size: int = 256, device="auto", *, params=None) -> np.ndarray:
    """The window embeddings ``[len(dataset), hidden_dim]`` (float32, the fusion head's hidden
    layer), in order; eval mode, no augmentation, fp32."""
    dev = resolve_device(device)
    model.to(dev)
    parts: list[np.ndarray] = []
    _evaluate(model, dataset, batch_size, dev, None, None, loader_options(params), parts)
    return np.concatenate(parts) if parts else np.zeros((0, model.head[0].out_features), np.float32)


# -- training ----------------------------------------------------------------------------------


def _run_batch(model, batch, dev, amp_dtype, scaler, micro, loss_kw, params, timed) -> dict:
    """Forward and backward of one loaded batch, in micro-batches of ``micro``; the loss is the
    batch mean divided by ``grad_accum``. Returns the loss and the stage times (ms)."""
    cuda = dev.type == "cuda"

    def now() -> float:
        if timed and cuda:
            torch.cuda.synchronize(dev)
        return time.perf_counter()

    h2d = fwd = bwd = 0.0
    total = 0.0
    for chunk, frac in _chunks(batch, micro):
        t0 = now()
        b = _to(chunk, dev)
        t1 = now()
        with torch.autocast(dev.type, dtype=amp_dtype or torch.float32, enabled=bool(amp_dtype)):
            out = forward(model, b)
        loss, _ = fusion_loss(out, b["y"], b["y_soft"], b["w"], **loss_kw)
        t2 = now()
        scaler.scale(loss * (frac / params.grad_accum)).backward()
        t3 = now()
        total += float(loss.detach()) * frac
        h2d, fwd, bwd = h2d + (t1 - t0), fwd + (t2 - t1), bwd + (t3 - t2)
    return {"loss": total, "h2d_ms": h2d * 1000, "fwd_ms": fwd * 1000, "bwd_ms": bwd * 1000}


def _optimizer_step(model, opt, scaler, params: TrainParams, n_batches: int) -> None:
    """Step on the accumulated gradients of ``n_batches`` batches (fewer than grad_accum at the
    end of an epoch: the gradients are scaled up to a mean), with clipping, then zero them."""
    if n_batches < params.grad_accum:
        for p in model.parameters():
            if p.grad is not None:
                p.grad.mul_(params.grad_accum / n_batches)
    if params.max_grad_norm:
        scaler.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(model.parameters(), params.max_grad_norm)
    scaler.step(opt)
    scaler.update()
    opt.zero_grad(set_to_none=True)


def train_fold(
    model,
    train_ds,
    val_ds,
    out_dir,
    params: TrainParams | None = None,
    device="auto",
    threads: int = 1,
    val_alarm_metric: Callable[[np.ndarray], float] | None = None,
) -> dict:
    """Train ``model`` on ``train_ds``, early-stopping on ``val_ds``'s AUROC (or, with
    ``params.early_stopping == "fah"``, on the sensitivity at the false-alarm target); see the
    module docstring for the files. ``val_alarm_metric`` maps the validation probabilities
    (dataset order) to the sensitivity at the false-alarm target, for ``best_by_fah.pt``.
    Returns a summary dict."""
    params = params or TrainParams()
    if params.early_stopping not in ("auroc", "fah"):
        raise ValueError(
            f"fusion.train.early_stopping: 'auroc' or 'fah', not {params.early_stopping!r}"
        )
    if params.early_stopping == "fah" and val_alarm_metric is None:
        raise ValueError("fusion.train.early_stopping 'fah' needs the validation alarm metric")
    prev_threads = torch.get_num_threads()
    prev_det = torch.are_deterministic_algorithms_enabled()
    prev_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.set_num_threads(max(1, int(threads)))
    try:
        trainer = _FoldTrainer(
            model, train_ds, val_ds, Path(out_dir), params, device, threads, val_alarm_metric
        )
        return trainer.run()
    finally:
        torch.set_num_threads(prev_threads)
        torch.use_deterministic_algorithms(prev_det, warn_only=prev_warn)


# -- one fold, stage by stage ----------------------------------------------------------------------


def _configure_runtime(params: TrainParams, device) -> tuple[torch.device, torch.dtype | None]:
    """Resolve the device and the autocast dtype, seed every global RNG and set the determinism
    flags, so that two runs with one seed (on CPU, same threads) end with the same weights.
    ``train_fold`` restores the global determinism setting afterwards."""
    dev = resolve_device(device)
    amp_dtype = resolve_amp(params, dev)
    seed_everything(params.seed)
    if params.deterministic:
        if dev.type == "cuda":
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False
        else:
            torch.use_deterministic_algorithms(True, warn_only=True)
    elif dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
    return dev, amp_dtype


def _loss_kwargs(params: TrainParams, train_ds) -> dict:
    """The keywords of ``fusion_loss``. The class balance comes from the training labels
    (pos_weight, and the focal alpha unless given), so folds with different preictal fractions
    weigh their classes alike."""
    pos_weight = pos_weight_from(train_ds.y_cls)
    alpha = params.focal_alpha if params.focal_alpha is not None else pos_weight / (1 + pos_weight)
    return dict(
        loss=params.loss,
        pos_weight=pos_weight,
        focal_gamma=params.focal_gamma,
        focal_alpha=alpha,
        lambda_soft=params.lambda_soft,
    )


def _optimizers(model, params: TrainParams, dev: torch.device, amp_dtype):
    """AdamW, the per-epoch learning-rate schedule (None for "none") and the gradient scaler,
    which is enabled only for fp16 on CUDA (bf16 and fp32 gradients do not underflow)."""
    opt = torch.optim.AdamW(model.parameters(), lr=params.lr, weight_decay=params.weight_decay)
    sched = None
    if params.scheduler == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, params.epochs))
    elif params.scheduler != "none":
        raise ValueError(f"TrainParams.scheduler: {params.scheduler!r}")
    cuda = dev.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=cuda and amp_dtype == torch.float16)
    return opt, sched, scaler


@dataclass
class _Paths:
    """The files of one fold in ``out_dir`` (see the module docstring), named once."""

    curves: Path
    perf: Path
    last: Path
    best: Path
    best_fah: Path

    @classmethod
    def under(cls, out: Path) -> _Paths:
        return cls(
            curves=out / "train_curves.csv",
            perf=out / "perf.csv",
            last=out / "last.pt",
            best=out / "best_by_auroc.pt",
            best_fah=out / "best_by_fah.pt",
        )


@dataclass
class _Progress:
    """Early-stopping, best-checkpoint and OOM state: what ``last.pt`` must carry so that a
    resumed run decides exactly as an uninterrupted one would."""

    micro: int  # current micro-batch size (halved on CUDA out-of-memory)
    start_epoch: int = 0
    best_auroc: float = -math.inf
    best_epoch: int = -1
    bad_epochs: int = 0  # epochs without a better validation AUROC
    stopped: bool = False
    best_fah: tuple = (-math.inf, -math.inf)  # (sensitivity at the FAH target, AUROC)
    bad_fah_epochs: int = 0  # epochs without a better best_fah
    resumed_from: int | None = None


class _FoldTrainer:
    """One call of ``train_fold``: the model with its optimisers, the fold's files and the
    progress state, with one method per stage so that each stage reads on its own. The order
    of the stages is fixed: it decides which global RNG draws each one sees."""

    def __init__(
        self, model, train_ds, val_ds, out: Path, params: TrainParams, device, threads, alarm
    ):
        out.mkdir(parents=True, exist_ok=True)
        self.model, self.train_ds, self.val_ds = model, train_ds, val_ds
        self.out, self.params, self.threads, self.val_alarm_metric = out, params, threads, alarm
        self.dev, self.amp_dtype = _configure_runtime(params, device)
        self.cuda = self.dev.type == "cuda"
        model.to(self.dev)
        if params.channels_last:
            model.to(memory_format=torch.channels_last)
        self.n_pos, self.n_neg = _counts(train_ds)
        self.v_pos, self.v_neg = _counts(val_ds)
        self.loss_kw = _loss_kwargs(params, train_ds)
        self.opt, self.sched, self.scaler = _optimizers(model, params, self.dev, self.amp_dtype)
        self.paths = _Paths.under(out)
        self.state = _Progress(micro=params.batch_size)
        self.step = 0  # training steps (batches) in this call, for perf_every_n_steps
        self.epochs_this_call = 0
        self.epoch_seconds: list[float] = []  # this call's epochs, for the time left
        self.interrupted = False

    def run(self) -> dict:
        """Resume or start fresh, train epoch by epoch until the last epoch, early stopping or
        ``stop_after_epochs``, restore the best weights and return the summary."""
        self._resume_or_start_fresh()
        self._log_setup()
        p = self.params
        sampler = BlockShuffleSampler(
            len(self.train_ds), p.block_size, p.seed, p.min_windows_per_epoch
        )
        drop_last = len(self.train_ds) > p.batch_size  # a batch of 1 would break BatchNorm
        epoch = self.state.start_epoch - 1
        for epoch in range(self.state.start_epoch, p.epochs):
            if self._should_stop():
                break
            self._run_epoch(epoch, sampler, drop_last)
        self._restore_best()
        return self._summary(epoch)

    # -- before training

    def _resume_or_start_fresh(self) -> None:
        """Continue after the last finished epoch when ``last.pt`` is there; otherwise remove
        the outputs of an earlier run, so that the files describe this run alone."""
        paths = self.paths
        if paths.last.exists():
            self._resume(torch.load(paths.last, map_location="cpu", weights_only=True))
        else:
            for path in (paths.curves, paths.perf, paths.best, paths.best_fah):
                path.unlink(missing_ok=True)

    def _resume(self, ck: dict) -> None:
        """Load the weights, optimiser, schedule, scaler, progress and RNG states of ``last.pt``
        and drop CSV rows of epochs after it (their checkpoint never landed)."""
        self.model.load_state_dict(ck["model"])
        self.opt.load_state_dict(ck["optimizer"])
        if self.sched is not None and ck.get("scheduler"):
            self.sched.load_state_dict(ck["scheduler"])
        if ck.get("scaler"):
            self.scaler.load_state_dict(ck["scaler"])
        s = self.state
        s.start_epoch = int(ck["epoch"]) + 1
        s.best_auroc, s.best_epoch = float(ck["best_auroc"]), int(ck["best_epoch"])
        s.best_fah = tuple(ck.get("best_fah", s.best_fah))
        s.bad_fah_epochs = int(ck.get("bad_fah_epochs", 0))
        s.bad_epochs, s.stopped, s.micro = (
            int(ck["bad_epochs"]),
            bool(ck["stopped"]),
            int(ck["micro"]),
        )
        _set_rng_state(ck["rng"], self.dev)
        s.resumed_from = s.start_epoch - 1
        for path in (self.paths.curves, self.paths.perf):
            _truncate_rows(path, s.resumed_from)
        log.info("resuming from %s after epoch %d", self.paths.last, s.resumed_from)

    def _log_setup(self) -> None:
        """Log the device, AMP and class balance: the first things to check in a slow or odd run."""
        log.info(
            "device: %s; amp: %s",
            _device_description(self.dev, self.threads),
            self.amp_dtype or "off",
        )
        log.info(
            "train: n_pos=%d n_neg=%d; val: n_pos=%d n_neg=%d",
            self.n_pos,
            self.n_neg,
            self.v_pos,
            self.v_neg,
        )
        log.info("pos_weight=%.3f, loss=%s", self.loss_kw["pos_weight"], self.params.loss)

    def _should_stop(self) -> bool:
        """Whether to end before the next epoch: early stopping, or this call's epoch budget
        (which leaves the run resumable, hence ``interrupted``)."""
        if self.state.stopped:
            return True
        budget = self.params.stop_after_epochs
        if budget is not None and self.epochs_this_call >= budget:
            self.interrupted = True
            return True
        return False

    # -- one epoch

    def _run_epoch(self, epoch: int, sampler, drop_last: bool) -> None:
        """Train, validate, step the schedule, update the best checkpoints and early stopping,
        then append the curves row and write ``last.pt`` (last, so that a resume never skips
        an epoch whose row or best checkpoint is missing)."""
        t_epoch = time.perf_counter()
        loader = self._train_loader(epoch, sampler, drop_last)
        lr = self.opt.param_groups[0]["lr"]
        train_loss = self._train_epoch(epoch, loader)
        progress.info(
            "epoch %d/%d: trained in %.1f min; scoring %d validation windows",
            epoch + 1,
            self.params.epochs,
            (time.perf_counter() - t_epoch) / 60,
            len(self.val_ds),
        )
        val_p, val_loss, auroc, auprc = self._validate()
        if self.sched is not None:
            self.sched.step()
        self._update_best_by_auroc(epoch, auroc)
        sens = self._update_best_by_fah(epoch, val_p, auroc)
        s = self.state
        s.stopped = (
            s.bad_fah_epochs if self.params.early_stopping == "fah" else s.bad_epochs
        ) >= self.params.patience
        row = {
            "epoch": epoch,
            "train_loss": train_loss,
            "val_loss": val_loss,
            "val_auroc": auroc,
            "val_auprc": auprc,
            "val_sens_at_fah": sens,
            "lr": lr,
            "seconds": round(time.perf_counter() - t_epoch, 3),
        }
        _append_row(self.paths.curves, CURVE_COLUMNS, row)
        self._save_last(epoch)
        self._log_epoch(row)
        self.epochs_this_call += 1

    def _log_epoch(self, row: dict) -> None:
        """Log the epoch's curves row, the time left (mean epoch time of this call x epochs
        left) and the early stop, for following a run live."""
        self.epoch_seconds.append(row["seconds"])
        left = self.params.epochs - row["epoch"] - 1
        eta = left * sum(self.epoch_seconds) / len(self.epoch_seconds)
        progress.info(
            "epoch %d/%d: train_loss %.4f val_loss %.4f val_auroc %.4f val_auprc %.4f (%.1f s; %s)",
            row["epoch"] + 1,
            self.params.epochs,
            *(row[k] for k in ("train_loss", "val_loss", "val_auroc", "val_auprc")),
            row["seconds"],
            "last epoch"
            if left == 0 or self.state.stopped
            else f"about {eta / 60:.1f} min left for {left} more",
        )
        if self.state.stopped:
            metric = (
                "sensitivity at the FAH target" if self.params.early_stopping == "fah" else "AUROC"
            )
            progress.info(
                "early stop: no better val %s for %d epochs", metric, self.params.patience
            )

    def _train_loader(self, epoch: int, sampler, drop_last: bool) -> DataLoader:
        """The epoch's training loader. Augmentation, block order and worker seeds all derive
        from (seed, epoch), never from the global RNG, so a resumed epoch sees the same data."""
        p = self.params
        if hasattr(self.train_ds, "set_epoch"):
            self.train_ds.set_epoch(epoch)
        sampler.set_epoch(epoch)
        return DataLoader(
            self.train_ds,
            batch_size=p.batch_size,
            sampler=sampler,
            pin_memory=self.cuda,
            collate_fn=collate,
            **loader_options(p),
            drop_last=drop_last,
            generator=torch.Generator().manual_seed(p.seed * 100_003 + epoch),
        )

    def _train_epoch(self, epoch: int, loader: DataLoader) -> float:
        """One pass over ``loader``, stepping the optimiser every ``grad_accum`` batches (and
        after the last one), logging every ``perf_every_n_steps``-th step to perf.csv. Returns
        the mean training loss per window."""
        p = self.params
        n_batches = len(loader)
        self.model.train()
        self.opt.zero_grad(set_to_none=True)
        pending: list[dict] = []  # the batches whose gradients are accumulated but not stepped
        loss_sum, loss_n = 0.0, 0
        t_end = t_start = t_report = time.perf_counter()
        for i, batch in enumerate(loader):
            t0 = time.perf_counter()
            data_ms = (t0 - t_end) * 1000
            timed = p.perf_every_n_steps > 0 and self.step % p.perf_every_n_steps == 0
            pending.append(batch)
            t = self._run_batch_with_oom_backoff(batch, pending, timed)
            loss_sum += t["loss"] * len(batch["y"])
            loss_n += len(batch["y"])
            t_opt = time.perf_counter()
            if len(pending) == p.grad_accum or i == n_batches - 1:
                _optimizer_step(self.model, self.opt, self.scaler, p, len(pending))
                pending = []
            if timed and self.cuda:
                torch.cuda.synchronize(self.dev)
            t_end = time.perf_counter()
            if timed:
                opt_ms, step_ms = (t_end - t_opt) * 1000, (t_end - t0) * 1000 + data_ms
                self._log_perf(epoch, len(batch["y"]), t, data_ms, opt_ms, step_ms)
            self.step += 1
            if t_end - t_report >= PROGRESS_EVERY_S:
                t_report = t_end
                per_batch = (t_end - t_start) / (i + 1)
                progress.info(
                    "epoch %d/%d: %d of %d batches, about %.1f min left in this epoch",
                    epoch + 1,
                    p.epochs,
                    i + 1,
                    n_batches,
                    per_batch * (n_batches - i - 1) / 60,
                )
        return loss_sum / loss_n if loss_n else float("nan")

    def _run_batch_with_oom_backoff(self, batch: dict, pending: list[dict], timed: bool) -> dict:
        """Forward and backward of ``batch`` (the last of ``pending``). On CUDA out-of-memory,
        halve the micro-batch and redo the earlier pending batches, whose gradients were
        dropped, so that a batch size too large for the GPU turns into accumulation."""
        while True:
            try:
                return self._run_batch(batch, timed)
            except torch.OutOfMemoryError:
                if self.state.micro <= 1:
                    raise
                self._halve_micro_batch()
                for b in pending[:-1]:
                    self._run_batch(b, False)

    def _run_batch(self, batch: dict, timed: bool) -> dict:
        """``_run_batch`` with this fold's model, device, AMP, scaler and micro-batch size."""
        return _run_batch(
            self.model,
            batch,
            self.dev,
            self.amp_dtype,
            self.scaler,
            self.state.micro,
            self.loss_kw,
            self.params,
            timed,
        )

    def _halve_micro_batch(self) -> None:
        """Halve the micro-batch after an out-of-memory error and drop the partial gradients
        (and the CUDA cache), so that the accumulation window restarts cleanly."""
        self.state.micro = max(1, self.state.micro // 2)
        log.warning(
            "out of memory: micro-batch now %d (grad_accum x%d)",
            self.state.micro,
            math.ceil(self.params.batch_size / self.state.micro),
        )
        self.opt.zero_grad(set_to_none=True)
        if self.cuda:
            torch.cuda.empty_cache()

    def _log_perf(self, epoch, batch_len, t, data_ms, opt_ms, step_ms) -> None:
        """Append one perf.csv row: where a step's time goes (the optimiser step counts as
        backward), and the memory in use, to find the bottleneck of a slow run."""
        vram = torch.cuda.memory_allocated(self.dev) / 2**20 if self.cuda else 0.0
        row = {
            "epoch": epoch,
            "step": self.step,
            "batch": batch_len,
            "data_ms": round(data_ms, 3),
            "h2d_ms": round(t["h2d_ms"], 3),
            "fwd_ms": round(t["fwd_ms"], 3),
            "bwd_ms": round(t["bwd_ms"] + opt_ms, 3),
            "step_ms": round(step_ms, 3),
            "ram_mb": round(_ram_mb(), 1),
            "vram_mb": round(vram, 1),
        }
        _append_row(self.paths.perf, PERF_COLUMNS, row)

    # -- after an epoch

    def _validate(self) -> tuple[np.ndarray, float, float, float]:
        """Validation probabilities (every window, in order, for the alarm metric), the loss,
        and AUROC / AUPRC over the labelled windows."""
        p = self.params
        val_p, val_y, val_loss = _evaluate(
            self.model,
            self.val_ds,
            p.eval_batch_size,
            self.dev,
            self.amp_dtype,
            self.loss_kw,
            loader_options(p),
        )
        return val_p, val_loss, _auroc(val_y, val_p), _auprc(val_y, val_p)

    def _update_best_by_auroc(self, epoch: int, auroc: float) -> None:
        """Save ``best_by_auroc.pt`` when the AUROC beats the best by ``min_delta`` (the first
        epoch always counts, even with a NaN AUROC), else count an epoch without improvement."""
        s = self.state
        improved = s.best_epoch < 0 or (
            math.isfinite(auroc) and auroc > s.best_auroc + self.params.min_delta
        )
        if improved:
            s.best_auroc = auroc if math.isfinite(auroc) else s.best_auroc
            s.best_epoch, s.bad_epochs = epoch, 0
            _atomic_save(
                {"model": self.model.state_dict(), "epoch": epoch, "val_auroc": auroc},
                self.paths.best,
            )
        else:
            s.bad_epochs += 1

    def _update_best_by_fah(self, epoch: int, val_p: np.ndarray, auroc: float) -> float:
        """Save ``best_by_fah.pt`` when the sensitivity at the false-alarm target beats the best
        (ties: the better AUROC). Returns the sensitivity (NaN without ``val_alarm_metric``)."""
        metric = self.val_alarm_metric
        sens = float(metric(val_p)) if metric is not None else float("nan")
        if math.isfinite(sens) and (sens, _finite(auroc)) > self.state.best_fah:
            self.state.best_fah = (sens, _finite(auroc))
            self.state.bad_fah_epochs = 0
            _atomic_save(
                {"model": self.model.state_dict(), "epoch": epoch, "val_sens_at_fah": sens}
                | {"val_auroc": auroc},
                self.paths.best_fah,
            )
        else:
            self.state.bad_fah_epochs += 1
        return sens

    def _save_last(self, epoch: int) -> None:
        """Write ``last.pt``: everything a resume needs to continue exactly where this epoch
        ended, RNG states included."""
        s = self.state
        _atomic_save(
            {
                "model": self.model.state_dict(),
                "optimizer": self.opt.state_dict(),
                "scheduler": self.sched.state_dict() if self.sched is not None else {},
                "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else {},
                "epoch": epoch,
                "best_auroc": s.best_auroc,
                "best_epoch": s.best_epoch,
                "best_fah": list(s.best_fah),
                "bad_epochs": s.bad_epochs,
                "bad_fah_epochs": s.bad_fah_epochs,
                "stopped": s.stopped,
                "micro": s.micro,
                "rng": _rng_state(self.dev),
                "params": asdict(self.params),
            },
            self.paths.last,
        )

    # -- after training

    def _restore_best(self) -> None:
        """Load ``best_by_auroc.pt`` into the model when the run is finished; a call cut short
        by ``stop_after_epochs`` keeps the last epoch's weights, as its run goes on later."""
        if self.params.restore_best and not self.interrupted and self.paths.best.exists():
            ck = torch.load(self.paths.best, map_location="cpu", weights_only=True)
            self.model.load_state_dict(ck["model"])

    def _summary(self, last_epoch: int) -> dict:
        """What ``train_fold`` returns: the run's outcome, settings and file locations."""
        s, p = self.state, self.params
        return {
            "out_dir": str(self.out),
            "device": str(self.dev),
            "amp": str(self.amp_dtype) if self.amp_dtype else "off",
            "best_epoch": s.best_epoch,
            "best_val_auroc": s.best_auroc if math.isfinite(s.best_auroc) else float("nan"),
            "best_val_sens_at_fah": s.best_fah[0] if math.isfinite(s.best_fah[0]) else float("nan"),
            "last_epoch": last_epoch,
            "epochs_run": self.epochs_this_call,
            "resumed_from": s.resumed_from,
            "stopped_early": s.stopped,
            "interrupted": self.interrupted,
            "micro_batch": s.micro,
            "grad_accum_effective": p.grad_accum * math.ceil(p.batch_size / s.micro),
            "pos_weight": self.loss_kw["pos_weight"],
            "n_pos": self.n_pos,
            "n_neg": self.n_neg,
            "val_n_pos": self.v_pos,
            "val_n_neg": self.v_neg,
            "curves": str(self.paths.curves),
            "perf": str(self.paths.perf),
            "best_checkpoint": str(self.paths.best),
            "last_checkpoint": str(self.paths.last),
        }
