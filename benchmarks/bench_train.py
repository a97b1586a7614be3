"""FusionNet throughput on CPU: training and inference windows/s for the default model, with 1 and 2
threads, contiguous vs channels_last, fp32 vs bf16 autocast, with and without transparent huge
pages for the allocator (THP_MEM_ALLOC_ENABLE=1, read when torch starts, hence one subprocess per
configuration); and the data-wait fraction of a training step in ``train_fold`` reading a float16
memmap through :class:`WindowDataset`. Not a test: run it by hand, paste the table into
docs/TRAINING.md.

    python benchmarks/bench_train.py [--batch 64] [--seconds 4] [--windows 2048]

Targets on 2 cores: training >= 400 windows/s, inference >= 1500 windows/s, data wait < 10 %.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIGS = [  # (threads, channels_last, bf16, thp)
    (1, False, False, False),
    (2, False, False, False),
    (2, False, False, True),
    (1, True, False, True),
    (2, True, False, True),
    (1, True, True, True),
    (2, True, True, True),
]


def measure(threads: int, channels_last: bool, bf16: bool, batch: int, seconds: float) -> dict:
    import torch

    from preictal.models.fusion_net import FusionNet

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    m = FusionNet()
    if channels_last:
        m = m.to(memory_format=torch.channels_last)
    x = (torch.randn(batch, 18, 2560) * 20).half()  # as read from the cache
    y = (torch.rand(batch) > 0.5).float()
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3)

    def train_step():
        xf = x.float()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = m(xf)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(out["cls_logit"].float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def infer_step():
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            m(x.float())

    def rate(fn) -> float:
        for _ in range(2):
            fn()
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds or n < 3:
            fn()
            n += 1
        return n * batch / (time.perf_counter() - t0)

    m.train()
    tr = rate(train_step)
    m.eval()
    inf = rate(infer_step)
    return {"train_wps": tr, "infer_wps": inf}


def data_wait(n_windows: int, batch: int, threads: int, num_workers: int, bf16: bool) -> dict:
    """Fraction of step time spent waiting for the loader, from train_fold's perf.csv."""
    import numpy as np

    from preictal.models.fusion_net import FusionNet
    from preictal.train import Augment, TrainParams, WindowDataset, train_fold

    rng = np.random.default_rng(0)
    step = 1280
    n_samples = (n_windows + 1) * step + 2560
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "signal.npy"
        sig = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=(18, n_samples))
        for a in range(0, n_samples, 1 << 20):
            b = min(n_samples, a + (1 << 20))
            sig[:, a:b] = rng.normal(0, 20, (18, b - a)).astype(np.float16)
        sig.flush()
        del sig
        starts = np.arange(n_windows) * step
        y = (np.arange(n_windows) // 50) % 2
        tte = np.where(y == 1, 300.0, -1.0)
        train = WindowDataset(
            [str(path)],
            np.zeros(n_windows, int),
            starts,
            y,
            y_tte=tte,
            augment=Augment(noise_std=0.05, shift_max=128, channel_dropout=0.05),
        )
        val = WindowDataset([str(path)], np.zeros(256, int), starts[:256], y[:256], y_tte=tte[:256])
        params = TrainParams(
            epochs=1,
            batch_size=batch,
            num_workers=num_workers,
            cpu_bf16=bf16,
            perf_every_n_steps=1,
        )
        out = Path(tmp) / "run"
        t0 = time.perf_counter()
        train_fold(FusionNet(), train, val, out, params, device="cpu", threads=threads)
        wall = time.perf_counter() - t0
        with open(out / "perf.csv", newline="") as f:
            rows = list(csv.DictReader(f))[1:]  # the first step includes worker start-up
    data = sum(float(r["data_ms"]) for r in rows)
    total = sum(float(r["step_ms"]) for r in rows)
    n = sum(int(r["batch"]) for r in rows)
    return {"wait": data / total, "wps": n / (total / 1000), "wall_s": wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--windows", type=int, default=2048)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        threads, cl, bf16 = json.loads(args.child)
        print(json.dumps(measure(threads, cl, bf16, args.batch, args.seconds)))
        return

    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    rows = []
    for threads, cl, bf16, thp in CONFIGS:
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        env.pop("THP_MEM_ALLOC_ENABLE", None)
        if thp:
            env["THP_MEM_ALLOC_ENABLE"] = "1"
        cmd = [sys.executable, __file__, "--batch", str(args.batch), "--seconds", str(args.seconds)]
        res = subprocess.run(
            [*cmd, "--child", json.dumps([threads, cl, bf16])],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        r = json.loads(res.stdout.strip().splitlines()[-1])
        rows.append((threads, cl, bf16, thp, r))
        print(f"  {threads} {cl} {bf16} {thp}: {r}", file=sys.stderr)

    print(f"\nFusionNet() default, batch {args.batch}, random float16 windows [18, 2560]\n")
    print("| threads | memory format | autocast | THP | train windows/s | infer windows/s |")
    print("|---|---|---|---|---|---|")
    for threads, cl, bf16, thp, r in rows:
        print(
            f"| {threads} | {'channels_last' if cl else 'contiguous'} | {'bf16' if bf16 else 'fp32'}"
            f" | {'on' if thp else 'off'} | {r['train_wps']:.0f} | {r['infer_wps']:.0f} |"
        )
    best = max(rows, key=lambda r: r[4]["train_wps"])
    bi = max(rows, key=lambda r: r[4]["infer_wps"])
    print(
        f"\nTargets (2 cores): training >= 400 windows/s: "
        f"{'met' if best[4]['train_wps'] >= 400 else 'NOT met'} ({best[4]['train_wps']:.0f}); "
        f"inference >= 1500 windows/s: {'met' if bi[4]['infer_wps'] >= 1500 else 'NOT met'}"
        f" ({bi[4]['infer_wps']:.0f})"
    )

    print(
        f"\nData wait in train_fold ({args.windows} windows on a float16 memmap, augmentation on)\n"
    )
    print("| threads | num_workers | autocast | data wait / step | windows/s in the loop |")
    print("|---|---|---|---|---|")
    for threads, nw, bf16 in [(2, 0, True), (1, 1, True), (2, 0, False)]:
        d = data_wait(args.windows, args.batch, threads, nw, bf16)
        print(
            f"| {threads} | {nw} | {'bf16' if bf16 else 'fp32'} | {100 * d['wait']:.1f} % "
            f"| {d['wps']:.0f} |"
        )
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
