"""FusionNet on a CUDA GPU: the one prepared script for a lent GPU machine (docs/PERFORMANCE.md,
"GPU"). Not a test: CI has no GPU. Each step writes its JSON into ``--out`` as soon as it ends, so
a run stopped at its time limit still returns what it measured.

    python benchmarks/bench_gpu.py --out DIR [--folds loso/chb01,loso/chb03,loso/chb05]
                                   [--budget-s 540] [--data-cores 12]

1. ``env.json``: torch, CUDA and the device.
2. ``throughput.json``: training and inference windows/s of the workflow's FusionNet (relative
   spectrogram, features, default width) with inputs already on the GPU, batch 64, 256 and 1024,
   in strict fp32 (TF32 off), TF32 (PyTorch's default for convolutions), bf16 and fp16 autocast;
   and the job's own paths on a float16 memmap: ``predict`` through :class:`WindowDataset` with 0
   and 4 loader workers, and ``train_fold``'s data wait.
3. ``oom.json``: the out-of-memory back-off for real: ``train_fold`` with batch 2048 under a
   per-process memory cap (``torch.cuda.set_per_process_memory_fraction``), so the allocator
   raises ``torch.OutOfMemoryError`` and the loop halves its micro-batch until a step fits.
4. ``auroc.json``: validation and test AUROC on folds of the realistic default, trained through
   the workflow's ``fit_fusion_fold`` (FusionNet, then its GRU) in bf16 (the default on CUDA),
   fp32 and fp16 autocast with one seed, and bf16 with the seed + 1 as the scale of seed-to-seed
   variation; scoring is fp32 in every run. The workflow's data stages (Snakemake, up to the
   folds' inputs) run in the background from the start, on ``--data-cores`` cores, while steps
   2-3 use the GPU. Trainings stop being started once ``--budget-s`` has passed.

``--workflow`` instead runs the workflow's own ``train_fusion`` jobs of ``--folds`` with
``snakemake --cores all`` (``device: auto``), then with ``num_workers: 6`` (``workflow.json``: each
job's seconds, device and autocast from its manifest, and whether the predictions are equal).

On a machine without the workflow's packages, the missing ones travel as wheels and go first on
``PYTHONPATH`` with ``lib/`` (2026-12-04: Snakemake and its dependencies, edfio, jsonschema, pandas
3.1.1; results in ``benchmarks/results/gpu_h200*.json``, docs/PERFORMANCE.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_train  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
N_FEATURES = 32  # about the workflow's relative feature count; the CNN dominates the cost
# (name, TrainParams overrides, seed offset); "fp32" is strict: TF32 is off in this step
GPU_MODES = [
    ("bf16", {"amp": "bf16"}, 0),
    ("fp32", {"amp": "off"}, 0),
    ("fp16", {"amp": "fp16"}, 0),
    ("bf16, seed + 1", {"amp": "bf16"}, 1),
]


def write(out: Path, name: str, obj) -> None:
    tmp = out / f".{name}.tmp"
    tmp.write_text(json.dumps(obj, indent=1, default=float))
    os.replace(tmp, out / name)
    print(f"[{time.strftime('%H:%M:%S')}] {name}: {json.dumps(obj, default=float)[:1500]}")


def environment() -> dict:
    import torch

    p = torch.cuda.get_device_properties(0)
    return {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "device": p.name,
        "memory_gib": p.total_memory / 2**30,
        "capability": f"{p.major}.{p.minor}",
        "bf16_supported": torch.cuda.is_bf16_supported(),
        "cpu_count": os.cpu_count(),
    }


def set_tf32(on: bool) -> None:
    import torch

    torch.backends.cudnn.allow_tf32 = on
    torch.backends.cuda.matmul.allow_tf32 = on


def model_rate(mode: str, batch: int, seconds: float) -> dict:
    """Training and inference windows/s of FusionNet with inputs resident on the GPU."""
    import torch

    from preictal.models.fusion.net import FusionNet

    dev = torch.device("cuda")
    set_tf32(mode == "tf32")
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(mode)
    torch.manual_seed(0)
    m = FusionNet(n_features=N_FEATURES).to(dev).to(memory_format=torch.channels_last)
    x = torch.randn(batch, 18, 2560, device=dev) * 20
    feats = torch.randn(batch, N_FEATURES, device=dev)
    ref = torch.randn(batch, 18, m.n_freqs, device=dev) * 0.1
    y = (torch.rand(batch, device=dev) > 0.5).float()
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cuda", enabled=mode == "fp16")

    def train_step():
        with torch.autocast("cuda", dtype=dtype or torch.float32, enabled=dtype is not None):
            out = m(x, feats, ref)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(out["cls_logit"].float(), y)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    @torch.no_grad()
    def infer_step():
        with torch.autocast("cuda", dtype=dtype or torch.float32, enabled=dtype is not None):
            m(x, feats, ref)

    def rate(fn) -> float:
        for _ in range(3):
            fn()
        torch.cuda.synchronize()
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds or n < 5:
            fn()
            n += 1
            if n % 10 == 0:
                torch.cuda.synchronize()
        torch.cuda.synchronize()
        return n * batch / (time.perf_counter() - t0)

    torch.cuda.reset_peak_memory_stats()
    m.train()
    train = rate(train_step)
    m.eval()
    infer = rate(infer_step)
    peak = torch.cuda.max_memory_allocated() / 2**20
    set_tf32(False)
    return {"mode": mode, "batch": batch, "train_wps": train, "infer_wps": infer, "peak_mb": peak}


def memmap_windows(tmp: Path, n_windows: int, step: int = 1280, win: int = 2560) -> Path:
    """A float16 ``[18, n]`` cache file of noise, as the workflow's signal.npy."""
    rng = np.random.default_rng(0)
    n_samples = (n_windows - 1) * step + win
    path = tmp / "signal.npy"
    sig = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=(18, n_samples))
    for a in range(0, n_samples, 1 << 20):
        b = min(n_samples, a + (1 << 20))
        sig[:, a:b] = rng.normal(0, 20, (18, b - a)).astype(np.float16)
    sig.flush()
    del sig
    return path


def job_rates(n_windows: int = 8192) -> list[dict]:
    """``predict`` over a WindowDataset of a float16 memmap (the scoring job's path), with 0 and
    4 loader workers, bf16 weights not used: scoring is fp32 as in the workflow."""
    import torch

    from preictal.models.fusion.data import WindowDataset
    from preictal.models.fusion.loop import TrainParams, predict
    from preictal.models.fusion.net import FusionNet

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = memmap_windows(Path(tmp), n_windows)
        starts = np.arange(n_windows) * 1280
        ds = WindowDataset(
            [str(path)],
            np.zeros(n_windows, int),
            starts,
            np.zeros(n_windows, int),
            window_samples=2560,
            features=np.zeros((n_windows, N_FEATURES), np.float32),
        )
        net = FusionNet(n_features=N_FEATURES)
        for workers, tf32 in [(0, False), (4, False), (4, True)]:
            set_tf32(tf32)
            params = TrainParams(num_workers=workers, persistent_workers=False)
            predict(net, ds, 256, device="cuda", params=params)  # warm-up
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            predict(net, ds, 256, device="cuda", params=params)
            secs = time.perf_counter() - t0
            rows.append(
                {
                    "num_workers": workers,
                    "tf32": tf32,
                    "windows": n_windows,
                    "wps": n_windows / secs,
                }
            )
            print(f"  predict {rows[-1]}", flush=True)
        set_tf32(False)
    for workers in (0, 4):
        d = bench_train.data_wait(4096, 256, 4, workers, False, device="cuda", amp="bf16")
        rows.append({"train_fold_num_workers": workers, "amp": "bf16", "batch": 256, **d})
        print(f"  train_fold {rows[-1]}", flush=True)
    return rows


def oom_backoff(cap_gib: float = 1.5, batch: int = 2048) -> dict:
    """``train_fold`` with ``batch`` under a memory cap: real allocator OOMs, halved micro-batch."""
    import logging

    import torch

    from preictal.models.fusion.data import WindowDataset
    from preictal.models.fusion.loop import TrainParams, train_fold
    from preictal.models.fusion.net import FusionNet

    warnings: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            if "out of memory" in record.getMessage():
                warnings.append(record.getMessage())

    handler = Keep()
    logging.getLogger("preictal.models.fusion.loop").addHandler(handler)
    n = 2 * batch
    total = torch.cuda.get_device_properties(0).total_memory
    with tempfile.TemporaryDirectory() as tmp:
        path = memmap_windows(Path(tmp), n + 256)
        starts = np.arange(n + 256) * 1280
        y = (np.arange(n + 256) // 50) % 2
        tte = np.where(y == 1, 300.0, -1.0)

        def ds(rows):
            return WindowDataset(
                [str(path)],
                np.zeros(len(rows), int),
                starts[rows],
                y[rows],
                window_samples=2560,
                y_tte=tte[rows],
                preictal_min=10,
            )

        params = TrainParams(epochs=1, batch_size=batch, eval_batch_size=64, amp="bf16")
        torch.cuda.empty_cache()
        torch.cuda.set_per_process_memory_fraction(cap_gib * 2**30 / total)
        torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        try:
            summary = train_fold(
                FusionNet(),
                ds(np.arange(n)),
                ds(np.arange(n, n + 256)),
                Path(tmp) / "run",
                params,
                device="cuda",
                threads=4,
            )
            error = None
        except Exception as e:  # reported, not hidden: the JSON says what broke
            summary, error = {}, f"{type(e).__name__}: {e}"
        finally:
            torch.cuda.set_per_process_memory_fraction(1.0)
            logging.getLogger("preictal.models.fusion.loop").removeHandler(handler)
    return {
        "cap_gib": cap_gib,
        "batch_size": batch,
        "micro_batch_after": summary.get("micro_batch"),
        "grad_accum_effective": summary.get("grad_accum_effective"),
        "oom_warnings": warnings,
        "peak_allocated_mb": torch.cuda.max_memory_allocated() / 2**20,
        "best_val_auroc": summary.get("best_val_auroc"),
        "seconds": time.perf_counter() - t0,
        "error": error,
    }


def run_data_stages(folds: list[str], cores: int, log: Path) -> threading.Thread:
    """Snakemake up to the folds' training inputs (no training), in a background thread; the
    thread's ``rc`` is Snakemake's exit status."""
    from preictal import layout

    def snakemake(targets: list[str]) -> int:
        cmd = [sys.executable, "-m", "snakemake", "--cores", str(cores), *targets]
        with log.open("a") as f:
            return subprocess.run(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT).returncode

    def work() -> None:
        splits = [
            str(layout.path(layout.SPLIT, split=s, fold=f)) for s, f in map(split_fold, folds)
        ]
        thread.rc = snakemake(splits)
        if thread.rc:
            return
        import pandas as pd

        cases = sorted(set().union(*(set(pd.read_parquet(ROOT / s).case) for s in splits)))
        per_case = [
            layout.WINDOWS,
            layout.LABELS,
            layout.MODEL_FEATURES,
            layout.FEATURES,
            layout.SPECTRAL_REFERENCE,
            layout.SIGNAL,
            layout.LEDGER,
            layout.FILES,
        ]
        thread.rc = snakemake([str(layout.path(t, case=c)) for c in cases for t in per_case])

    thread = threading.Thread(target=work, daemon=True)
    thread.rc = None
    thread.start()
    return thread


def split_fold(fold: str) -> tuple[str, str]:
    split, name = fold.split("/")
    return split, name


def workflow_gpu(folds: list[str], cores: int, out: Path) -> dict:
    """The workflow's own ``train_fusion`` jobs on the GPU, every fold at once: the default config
    (device auto, bf16 autocast, no loader workers), then ``presets/gpu.yaml`` (loader workers);
    wall time of the stage, each job's seconds and manifest, and whether the two runs' predictions
    are equal (the augmentations are seeded per window, so workers must not change them)."""
    import pandas as pd

    targets = [f"results/folds/{f}/fusion/predictions.parquet" for f in folds]
    result: dict = {}
    kept: dict[str, pd.DataFrame] = {}
    for name, extra in [("default", []), ("preset gpu", ["--configfile", "presets/gpu.yaml"])]:
        # targets first: --configfile takes several files
        cmd = [sys.executable, "-m", "snakemake", *targets, "--cores", str(cores), *extra]
        t0 = time.perf_counter()
        with (out / "snakemake.log").open("a") as f:
            rc = subprocess.run(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT).returncode
        run = {"rc": rc, "stage_wall_s": time.perf_counter() - t0, "jobs": {}}
        for fold, target in zip(folds, targets, strict=True):
            if rc:
                break
            split, name_ = split_fold(fold)
            bench = pd.read_csv(
                ROOT / f"results/benchmarks/train_fusion/{split}.{name_}.tsv", sep="\t"
            )
            manifest = json.loads((ROOT / target).with_name("manifest.json").read_text())
            training = manifest["training"]
            run["jobs"][fold] = {
                "job_s": float(bench.s.iloc[-1]),
                "max_rss_mb": float(bench.max_rss.iloc[-1]),
                **{k: training.get(k) for k in ("device", "amp", "micro_batch", "epochs_run")},
                "best_val_auroc": training.get("best_val_auroc"),
            }
            preds = pd.read_parquet(ROOT / target)
            if fold in kept:
                a, b = kept[fold].score.to_numpy(), preds.score.to_numpy()
                run["jobs"][fold]["max_abs_score_difference_to_default"] = float(abs(a - b).max())
            kept[fold] = preds
        result[name] = run
        write(out, "workflow.json", result)
    return result


def elapsed(t0: float) -> float:
    return time.perf_counter() - t0


def auroc_worker(folds: list[str], index: int, out: Path, deadline: float) -> None:
    """One mode of GPU_MODES over ``folds``; rows to ``auroc_{index}.json`` as they come."""
    set_tf32(False)
    rows: list[dict] = []

    def keep(row: dict) -> None:
        rows.append(row)
        write(out, f"auroc_{index}.json", rows)

    bench_train.auroc_check_cache(
        folds, ROOT, 3, [GPU_MODES[index]], device="cuda", on_row=keep, deadline=deadline
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--out", required=True)
    ap.add_argument("--folds", default="loso/chb01,loso/chb03,loso/chb05")
    ap.add_argument("--budget-s", type=float, default=540.0)
    ap.add_argument("--data-cores", type=int, default=12)
    ap.add_argument("--seconds", type=float, default=1.5, help="per throughput measurement")
    ap.add_argument(
        "--workflow",
        action="store_true",
        help="instead: the workflow's train_fusion jobs of --folds on the GPU, default vs "
        "presets/gpu.yaml",
    )
    ap.add_argument("--auroc-worker", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--deadline-s", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args()
    t_start = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    folds = [f for f in args.folds.split(",") if f]
    if args.auroc_worker is not None:
        auroc_worker(folds, args.auroc_worker, out, t_start + args.deadline_s)
        return
    if args.workflow:
        data = run_data_stages(folds, args.data_cores, out / "snakemake.log")
        data.join()
        write(out, "data.json", {"snakemake_rc": data.rc, "ready_after_s": elapsed(t_start)})
        workflow_gpu(folds, os.cpu_count() or 1, out)
        return
    data = run_data_stages(folds, args.data_cores, out / "snakemake.log")

    import torch

    from preictal.models.fusion.loop import retain_freed_memory

    retain_freed_memory()
    write(out, "env.json", environment())
    rates = []
    for batch in (64, 256, 1024):
        for mode in ("fp32", "tf32", "bf16", "fp16"):
            rates.append(model_rate(mode, batch, args.seconds))
            print(f"  {rates[-1]}", flush=True)
    write(out, "throughput.json", {"model": rates, "job": job_rates()})
    write(out, "oom.json", oom_backoff())

    data.join()
    rc = data.rc
    write(out, "data.json", {"snakemake_rc": rc, "ready_after_s": time.perf_counter() - t_start})
    if rc != 0:
        raise SystemExit(f"the data stages failed: {out / 'snakemake.log'}")
    # One process per mode, side by side: the small CNN leaves the GPU mostly idle, and each
    # process's loader and GRU stage need their own CPU cores.
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, "--out", str(out), "--folds", args.folds]
            + ["--auroc-worker", str(i), "--deadline-s", str(args.budget_s - elapsed(t_start))],
            cwd=ROOT,
        )
        for i in range(len(GPU_MODES))
    ]
    codes = [w.wait() for w in workers]
    rows = []
    for i in range(len(GPU_MODES)):
        f = out / f"auroc_{i}.json"
        rows += json.loads(f.read_text()) if f.exists() else []
    write(out, "auroc.json", {"worker_exit_codes": codes, "rows": rows})
    print(f"total {time.perf_counter() - t_start:.0f} s; torch {torch.__version__}")


if __name__ == "__main__":
    main()
