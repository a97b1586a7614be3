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

from preictal.models.fusion.data import BlockShuffleSampler
from preictal.models.fusion.losses import fusion_loss, pos_weight_from

log = logging.getLogger(__name__)

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
    patience: int = 2  # epochs without a better validation AUROC before stopping
    min_delta: float = 0.0
    seed: int = 0
    num_workers: int = 0
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


def _chunks(batch: dict, size: int):
    n = len(batch["y"])
    for i in range(0, n, size):
        yield {k: v[i : i + size] for k, v in batch.items()}, min(size, n - i) / n


def _no_aug(ds):
    return ds.without_augment() if hasattr(ds, "without_augment") else ds


# -- evaluation ------------------------------------------------------------------------------------


@torch.no_grad()
def _evaluate(model, ds, batch_size, device, amp_dtype, loss_kw, num_workers=0):
    """Probabilities in dataset order, labels, and the mean validation loss."""
    was_training = model.training
    model.eval()
    loader = DataLoader(
        _no_aug(ds),
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
        pin_memory=device.type == "cuda",
    )
    probs, ys, total, n = [], [], 0.0, 0
    try:
        for batch in loader:
            b = _to(batch, device)
            with torch.autocast(
                device.type, dtype=amp_dtype or torch.float32, enabled=bool(amp_dtype)
            ):
                out = model(b["x"], b["feats"] if b["feats"].shape[1] else None)
            labelled = b["labelled"]  # excluded windows are scored but carry no loss
            if loss_kw is not None and bool(labelled.any()):
                out_l = {k: v[labelled] for k, v in out.items()}
                loss, _ = fusion_loss(
                    out_l, b["y"][labelled], b["y_soft"][labelled], b["w"][labelled], **loss_kw
                )
                total += float(loss) * int(labelled.sum())
            n += int(labelled.sum())
            probs.append(torch.sigmoid(out["cls_logit"].float()).cpu().numpy())
            ys.append(np.where(batch["labelled"].numpy(), batch["y"].numpy(), -1))
    finally:
        model.train(was_training)
    p = np.concatenate(probs) if probs else np.zeros(0, np.float32)
    y = np.concatenate(ys) if ys else np.zeros(0, np.float32)
    return p, y, (total / n if n else float("nan"))


def predict(model, dataset, batch_size: int = 256, device="auto", *, num_workers: int = 0):
    """Probabilities (sigmoid of cls_logit, float32) for every item of ``dataset``, in order;
    eval mode, no augmentation, fp32. The model is moved to ``device``."""
    dev = resolve_device(device)
    model.to(dev)
    p, _, _ = _evaluate(model, dataset, batch_size, dev, None, None, num_workers)
    return p


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
            out = model(b["x"], b["feats"] if b["feats"].shape[1] else None)
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
    """Train ``model`` on ``train_ds``, early-stopping on ``val_ds``'s AUROC; see the module
    docstring for the files. ``val_alarm_metric`` maps the validation probabilities (dataset
    order) to the sensitivity at the false-alarm target, for ``best_by_fah.pt``. Returns a
    summary dict."""
    params = params or TrainParams()
    prev_threads = torch.get_num_threads()
    prev_det = torch.are_deterministic_algorithms_enabled()
    prev_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.set_num_threads(max(1, int(threads)))
    try:
        return _train_fold(
            model, train_ds, val_ds, Path(out_dir), params, device, threads, val_alarm_metric
        )
    finally:
        torch.set_num_threads(prev_threads)
        torch.use_deterministic_algorithms(prev_det, warn_only=prev_warn)


def _train_fold(
    model, train_ds, val_ds, out: Path, params: TrainParams, device, threads, val_alarm_metric
) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    dev = resolve_device(device)
    cuda = dev.type == "cuda"
    amp_dtype = resolve_amp(params, dev)
    seed_everything(params.seed)
    if params.deterministic:
        if cuda:
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False
        else:
            torch.use_deterministic_algorithms(True, warn_only=True)
    elif cuda:
        torch.backends.cudnn.benchmark = True

    model.to(dev)
    if params.channels_last:
        model.to(memory_format=torch.channels_last)
    n_pos, n_neg = _counts(train_ds)
    v_pos, v_neg = _counts(val_ds)
    pos_weight = pos_weight_from(train_ds.y_cls)
    alpha = params.focal_alpha if params.focal_alpha is not None else pos_weight / (1 + pos_weight)
    loss_kw = dict(
        loss=params.loss,
        pos_weight=pos_weight,
        focal_gamma=params.focal_gamma,
        focal_alpha=alpha,
        lambda_soft=params.lambda_soft,
    )
    opt = torch.optim.AdamW(model.parameters(), lr=params.lr, weight_decay=params.weight_decay)
    sched = None
    if params.scheduler == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, params.epochs))
    elif params.scheduler != "none":
        raise ValueError(f"TrainParams.scheduler: {params.scheduler!r}")
    scaler = torch.amp.GradScaler("cuda", enabled=cuda and amp_dtype == torch.float16)

    curves, perf = out / "train_curves.csv", out / "perf.csv"
    last_path, best_path = out / "last.pt", out / "best_by_auroc.pt"
    best_fah_path = out / "best_by_fah.pt"
    start_epoch, best_auroc, best_epoch, bad_epochs, stopped = 0, -math.inf, -1, 0, False
    best_fah = (-math.inf, -math.inf)  # (sensitivity at the FAH target, AUROC) of best_by_fah.pt
    micro = params.batch_size
    resumed_from = None
    if last_path.exists():
        ck = torch.load(last_path, map_location="cpu", weights_only=True)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        if sched is not None and ck.get("scheduler"):
            sched.load_state_dict(ck["scheduler"])
        if ck.get("scaler"):
            scaler.load_state_dict(ck["scaler"])
        start_epoch = int(ck["epoch"]) + 1
        best_auroc, best_epoch = float(ck["best_auroc"]), int(ck["best_epoch"])
        best_fah = tuple(ck.get("best_fah", best_fah))
        bad_epochs, stopped, micro = int(ck["bad_epochs"]), bool(ck["stopped"]), int(ck["micro"])
        _set_rng_state(ck["rng"], dev)
        resumed_from = start_epoch - 1
        for p in (curves, perf):
            _truncate_rows(p, resumed_from)
        log.info("resuming from %s after epoch %d", last_path, resumed_from)
    else:
        for p in (curves, perf, best_path, best_fah_path):
            p.unlink(missing_ok=True)

    log.info("device: %s; amp: %s", _device_description(dev, threads), amp_dtype or "off")
    log.info("train: n_pos=%d n_neg=%d; val: n_pos=%d n_neg=%d", n_pos, n_neg, v_pos, v_neg)
    log.info("pos_weight=%.3f, loss=%s", pos_weight, params.loss)

    sampler = BlockShuffleSampler(
        len(train_ds), params.block_size, params.seed, params.min_windows_per_epoch
    )
    drop_last = len(train_ds) > params.batch_size  # a batch of 1 would break BatchNorm
    step = 0
    epochs_this_call = 0
    interrupted = False
    epoch = start_epoch - 1
    for epoch in range(start_epoch, params.epochs):
        if stopped:
            break
        if params.stop_after_epochs is not None and epochs_this_call >= params.stop_after_epochs:
            interrupted = True
            break
        t_epoch = time.perf_counter()
        if hasattr(train_ds, "set_epoch"):
            train_ds.set_epoch(epoch)
        sampler.set_epoch(epoch)
        loader = DataLoader(
            train_ds,
            batch_size=params.batch_size,
            sampler=sampler,
            num_workers=params.num_workers,
            pin_memory=cuda,
            drop_last=drop_last,
            generator=torch.Generator().manual_seed(params.seed * 100_003 + epoch),
        )
        n_batches = len(loader)
        lr = opt.param_groups[0]["lr"]
        model.train()
        opt.zero_grad(set_to_none=True)
        pending: list[dict] = []
        loss_sum, loss_n = 0.0, 0
        t_end = time.perf_counter()
        for i, batch in enumerate(loader):
            t0 = time.perf_counter()
            data_ms = (t0 - t_end) * 1000
            timed = params.perf_every_n_steps > 0 and step % params.perf_every_n_steps == 0
            pending.append(batch)
            while True:  # retry on CUDA OOM with half the micro-batch
                try:
                    t = _run_batch(
                        model, batch, dev, amp_dtype, scaler, micro, loss_kw, params, timed
                    )
                    break
                except torch.OutOfMemoryError:
                    if micro <= 1:
                        raise
                    micro = max(1, micro // 2)
                    log.warning(
                        "out of memory: micro-batch now %d (grad_accum x%d)",
                        micro,
                        math.ceil(params.batch_size / micro),
                    )
                    opt.zero_grad(set_to_none=True)
                    if cuda:
                        torch.cuda.empty_cache()
                    # the gradients of the window's earlier batches are gone: redo them
                    for b in pending[:-1]:
                        _run_batch(model, b, dev, amp_dtype, scaler, micro, loss_kw, params, False)
            loss_sum += t["loss"] * len(batch["y"])
            loss_n += len(batch["y"])
            t_opt = time.perf_counter()
            if len(pending) == params.grad_accum or i == n_batches - 1:
                _optimizer_step(model, opt, scaler, params, len(pending))
                pending = []
            if timed and cuda:
                torch.cuda.synchronize(dev)
            t_end = time.perf_counter()
            if timed:
                _append_row(
                    perf,
                    PERF_COLUMNS,
                    {
                        "epoch": epoch,
                        "step": step,
                        "batch": len(batch["y"]),
                        "data_ms": round(data_ms, 3),
                        "h2d_ms": round(t["h2d_ms"], 3),
                        "fwd_ms": round(t["fwd_ms"], 3),
                        "bwd_ms": round(t["bwd_ms"] + (t_end - t_opt) * 1000, 3),
                        "step_ms": round((t_end - t0) * 1000 + data_ms, 3),
                        "ram_mb": round(_ram_mb(), 1),
                        "vram_mb": round(torch.cuda.memory_allocated(dev) / 2**20, 1)
                        if cuda
                        else 0.0,
                    },
                )
            step += 1

        val_p, val_y, val_loss = _evaluate(
            model, val_ds, params.eval_batch_size, dev, amp_dtype, loss_kw, params.num_workers
        )
        auroc, auprc = _auroc(val_y, val_p), _auprc(val_y, val_p)
        if sched is not None:
            sched.step()
        improved = best_epoch < 0 or (
            math.isfinite(auroc) and auroc > best_auroc + params.min_delta
        )
        if improved:
            best_auroc = auroc if math.isfinite(auroc) else best_auroc
            best_epoch, bad_epochs = epoch, 0
            _atomic_save(
                {"model": model.state_dict(), "epoch": epoch, "val_auroc": auroc}, best_path
            )
        else:
            bad_epochs += 1
        sens = float(val_alarm_metric(val_p)) if val_alarm_metric is not None else float("nan")
        if math.isfinite(sens) and (sens, _finite(auroc)) > best_fah:
            best_fah = (sens, _finite(auroc))
            _atomic_save(
                {"model": model.state_dict(), "epoch": epoch, "val_sens_at_fah": sens}
                | {"val_auroc": auroc},
                best_fah_path,
            )
        stopped = bad_epochs >= params.patience
        train_loss = loss_sum / loss_n if loss_n else float("nan")
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
        _append_row(curves, CURVE_COLUMNS, row)
        _atomic_save(
            {
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict() if sched is not None else {},
                "scaler": scaler.state_dict() if scaler.is_enabled() else {},
                "epoch": epoch,
                "best_auroc": best_auroc,
                "best_epoch": best_epoch,
                "best_fah": list(best_fah),
                "bad_epochs": bad_epochs,
                "stopped": stopped,
                "micro": micro,
                "rng": _rng_state(dev),
                "params": asdict(params),
            },
            last_path,
        )
        log.info(
            "epoch %d: train_loss %.4f val_loss %.4f val_auroc %.4f val_auprc %.4f (%.1fs)",
            epoch,
            train_loss,
            val_loss,
            auroc,
            auprc,
            row["seconds"],
        )
        epochs_this_call += 1
        if stopped:
            log.info("early stop: no better val AUROC for %d epochs", params.patience)

    if params.restore_best and not interrupted and best_path.exists():
        ck = torch.load(best_path, map_location="cpu", weights_only=True)
        model.load_state_dict(ck["model"])
    return {
        "out_dir": str(out),
        "device": str(dev),
        "amp": str(amp_dtype) if amp_dtype else "off",
        "best_epoch": best_epoch,
        "best_val_auroc": best_auroc if math.isfinite(best_auroc) else float("nan"),
        "best_val_sens_at_fah": best_fah[0] if math.isfinite(best_fah[0]) else float("nan"),
        "last_epoch": epoch,
        "epochs_run": epochs_this_call,
        "resumed_from": resumed_from,
        "stopped_early": stopped,
        "interrupted": interrupted,
        "micro_batch": micro,
        "grad_accum_effective": params.grad_accum * math.ceil(params.batch_size / micro),
        "pos_weight": pos_weight,
        "n_pos": n_pos,
        "n_neg": n_neg,
        "val_n_pos": v_pos,
        "val_n_neg": v_neg,
        "curves": str(curves),
        "perf": str(perf),
        "best_checkpoint": str(best_path),
        "last_checkpoint": str(last_path),
    }
