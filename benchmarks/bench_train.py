"""FusionNet throughput on CPU: training and inference windows/s for the default model, with 1 and 2
threads, contiguous vs channels_last, fp32 vs bf16 autocast, with and without transparent huge
pages for the allocator (THP_MEM_ALLOC_ENABLE=1, read when torch starts, hence one subprocess per
configuration); and the data-wait fraction of a training step in ``train_fold`` reading a float16
memmap through :class:`WindowDataset`. Not a test: run it by hand, paste the tables into
docs/PERFORMANCE.md.

    python benchmarks/bench_train.py [--batch 64] [--seconds 4] [--windows 2048]

Targets on 2 cores: training >= 400 windows/s, inference >= 1500 windows/s, data wait < 10 %.

``--scoring`` measures the workflow's own scoring path instead: ``predict`` over a
``WindowDataset`` of a cached case's float16 memmap (``--case-dir``, default
``results/cache/chb01``), absolute vs patient-relative spectrogram, 1 and 2 threads, 0 and 1
loader workers (``fusion.train.num_workers``):

    python benchmarks/bench_train.py --scoring [--windows 4096]

``--auroc-check`` instead trains the workflow's FusionNet configuration (``fusion`` of
workflow_config.yaml: features, subsampling, TrainParams) on each fold of ``--folds`` of the
existing workflow cache (``results/folds/{split}/{fold}/split.parquet`` with the per-case
``results/cache`` and ``results/labels`` tables), through the workflow's own ``fit_fusion_fold``:
once in fp32 and once with bf16 autocast on CPU (``cpu_bf16``), same seed, and, as the scale of
seed-to-seed variation, once more in fp32 with the fold's seed + 1 (``--no-seed-ref`` skips it).
It prints the validation AUROC per epoch (evaluated under the run's autocast), and the validation
and test AUROC of the restored best model scored in fp32. Without the cache it falls back to a
small learnable synthetic problem (a weak 10 Hz rhythm in the positive windows). About 3.5
minutes on 2 cores for the three default folds:

    python benchmarks/bench_train.py --auroc-check [--folds loso/chb01,loso/chb03,loso/chb05]
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

    from preictal.models.fusion.net import FusionNet

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


def data_wait(
    n_windows: int,
    batch: int,
    threads: int,
    num_workers: int,
    bf16: bool,
    device: str = "cpu",
    amp: str = "auto",
) -> dict:
    """Fraction of step time spent waiting for the loader, from train_fold's perf.csv; ``bf16``
    is CPU autocast, ``amp`` the CUDA one (TrainParams.amp)."""
    import numpy as np

    from preictal.models.fusion.data import Augment, WindowDataset
    from preictal.models.fusion.loop import TrainParams, train_fold
    from preictal.models.fusion.net import FusionNet

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
            window_samples=2560,
            y_tte=tte,
            preictal_min=10,
            augment=Augment(noise_std=0.05, shift_max=128, channel_dropout=0.05),
        )
        val = WindowDataset(
            [str(path)],
            np.zeros(256, int),
            starts[:256],
            y[:256],
            window_samples=2560,
            y_tte=tte[:256],
            preictal_min=10,
        )
        params = TrainParams(
            epochs=1,
            batch_size=batch,
            num_workers=num_workers,
            cpu_bf16=bf16,
            amp=amp,
            perf_every_n_steps=1,
        )
        out = Path(tmp) / "run"
        t0 = time.perf_counter()
        train_fold(FusionNet(), train, val, out, params, device=device, threads=threads)
        wall = time.perf_counter() - t0
        with open(out / "perf.csv", newline="") as f:
            rows = list(csv.DictReader(f))[1:]  # the first step includes worker start-up
    data = sum(float(r["data_ms"]) for r in rows)
    total = sum(float(r["step_ms"]) for r in rows)
    n = sum(int(r["batch"]) for r in rows)
    return {"wait": data / total, "wps": n / (total / 1000), "wall_s": wall}


def _auroc_table(rows: list[dict]) -> None:
    print(
        "| fold | autocast | val AUROC per epoch | best val AUROC | val AUROC (fp32 scoring)"
        " | test AUROC (fp32 scoring) | train s |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        curve = ", ".join(f"{a:.4f}" for a in r["curve"])
        print(
            f"| {r['fold']} | {r['autocast']} | {curve} | {r['best']:.4f} | {r['val']:.4f} "
            f"| {r['test']:.4f} | {r['seconds']:.0f} |"
        )


CPU_MODES = [("fp32", {"cpu_bf16": False}, 0), ("bf16", {"cpu_bf16": True}, 0)]
SEED_REF = ("fp32, seed + 1", {"cpu_bf16": False}, 1)


def auroc_check_cache(
    folds: list[str],
    root: Path,
    threads: int,
    modes: list[tuple[str, dict, int]],
    device: str = "cpu",
    on_row=None,
    deadline: float | None = None,
) -> list[dict]:
    """Each of ``modes`` (name, TrainParams overrides, seed offset) on real folds of the workflow
    cache, via ``fit_fusion_fold``; no run starts after ``deadline`` (``time.perf_counter``)."""
    import dataclasses

    import pandas as pd
    import torch
    import yaml
    from sklearn.metrics import roc_auc_score

    from preictal import layout
    from preictal.io import read_case_tables
    from preictal.labels import LabelParams
    from preictal.models.fusion.fit import FusionParams, fit_fusion_fold
    from preictal.models.fusion.window import FusionWindow
    from preictal.splits import rotating_seed
    from preictal.workflow.config import fusion_params

    config = yaml.safe_load((root / "workflow_config.yaml").read_text())
    params = FusionParams(**fusion_params(config["fusion"]))
    window = FusionWindow.of(config["preprocess"]["target_sfreq"], config["windows"]["w_sec"])
    features = layout.FEATURES if params.features == "absolute" else layout.MODEL_FEATURES
    rows = []
    for fold in folds:
        split = pd.read_parquet(root / "results/folds" / fold / "split.parquet")
        cases = sorted(set(split.case))  # the workflow's case order (CASES) is sorted
        cache = root / "results/cache"
        tables = read_case_tables(
            cases,
            windows=[cache / c / "windows.parquet" for c in cases],
            labels=[root / "results/labels" / f"{c}.parquet" for c in cases],
            features=[root / layout.path(features, case=c) for c in cases],
        )
        signals = {c: str(cache / c / "signal.npy") for c in cases}
        references = {c: str(root / layout.path(layout.SPECTRAL_REFERENCE, case=c)) for c in cases}
        seed = rotating_seed(params.seed, fold)
        # the third run, fp32 with another seed, shows how far AUROC moves with the seed alone
        for name, overrides, offset in modes:
            if deadline is not None and time.perf_counter() > deadline:
                print(f"  budget spent: {fold} {name} not run", file=sys.stderr)
                continue
            s = seed + offset
            p = dataclasses.replace(params, train={**params.train, **overrides})
            # fit_fusion_fold builds the net before train_fold seeds torch, and torch's initial
            # seed differs between processes: seed here so that both runs start from the same
            # weights
            torch.manual_seed(s % 2**31)
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                model, preds = fit_fusion_fold(
                    split,
                    tables,
                    signals,
                    tmp,
                    p,
                    window=window,
                    label_params=LabelParams(**config["labels"]),
                    seed=s,
                    threads=threads,
                    device=device,
                    reference_paths=references,
                )
                secs = time.perf_counter() - t0
                with open(Path(tmp) / "train_curves.csv", newline="") as f:
                    curve = [float(r["val_auroc"]) for r in csv.DictReader(f)]

            def auc(part: str, preds=preds) -> float:
                d = preds[(preds.part == part) & preds.y_cls.isin([0, 1])]
                ok = d.y_cls.nunique() == 2
                return float(roc_auc_score(d.y_cls, d.score)) if ok else float("nan")

            rows.append(
                {
                    "fold": fold,
                    "autocast": name,
                    "curve": curve,
                    "best": float(model["info"]["best_val_auroc"]),
                    "val": auc("val"),
                    "test": auc("test"),
                    "seconds": secs,
                }
            )
            print(f"  {rows[-1]}", file=sys.stderr)
            if on_row is not None:
                on_row(rows[-1])
    return rows


def auroc_check_synthetic(threads: int, seed_ref: bool, n_windows: int = 1536) -> list[dict]:
    """fp32 vs bf16 autocast on a small learnable problem: white noise (20 µV), plus a weak 10 Hz
    rhythm (3 µV) on a third of the channels in the positive windows (30 %)."""
    import numpy as np
    import torch
    from sklearn.metrics import roc_auc_score

    from preictal.models.fusion.data import WindowDataset
    from preictal.models.fusion.loop import TrainParams, predict, train_fold
    from preictal.models.fusion.net import FusionNet

    rng = np.random.default_rng(0)
    win = 2560
    y = (rng.random(n_windows) < 0.3).astype(int)
    t = np.arange(win) / 256
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "signal.npy"
        sig = np.lib.format.open_memmap(
            path, mode="w+", dtype=np.float16, shape=(18, n_windows * win)
        )
        for i in range(n_windows):
            x = rng.normal(0, 20, (18, win))
            if y[i]:
                x[:6] += 3 * np.sin(2 * np.pi * 10 * t + rng.uniform(0, 2 * np.pi))
            sig[:, i * win : (i + 1) * win] = x.astype(np.float16)
        sig.flush()
        del sig
        starts = np.arange(n_windows) * win
        n_tr, n_va = n_windows // 2, n_windows // 4
        parts = {
            "train": np.arange(n_tr),
            "val": np.arange(n_tr, n_tr + n_va),
            "test": np.arange(n_tr + n_va, n_windows),
        }

        def ds(idx):
            return WindowDataset(
                [str(path)],
                np.zeros(len(idx), int),
                starts[idx],
                y[idx],
                window_samples=win,
                y_tte=np.where(y[idx] == 1, 300.0, -1.0),
                preictal_min=10,
            )

        for name, bf16, seed in [("fp32", False, 1234), ("bf16", True, 1234)] + [
            ("fp32, seed + 1", False, 1235)
        ] * seed_ref:
            params = TrainParams(epochs=3, patience=3, cpu_bf16=bf16, seed=seed)
            t0 = time.perf_counter()
            out = Path(tmp) / name.replace(", ", "_").replace(" ", "")
            torch.manual_seed(seed)
            net = FusionNet()
            summary = train_fold(
                net,
                ds(parts["train"]),
                ds(parts["val"]),
                out,
                params,
                device="cpu",
                threads=threads,
            )
            secs = time.perf_counter() - t0
            with open(out / "train_curves.csv", newline="") as f:
                curve = [float(r["val_auroc"]) for r in csv.DictReader(f)]
            aucs = {
                k: float(roc_auc_score(y[parts[k]], predict(net, ds(parts[k]), device="cpu")))
                for k in ("val", "test")
            }
            rows.append(
                {
                    "fold": "synthetic",
                    "autocast": name,
                    "curve": curve,
                    "best": float(summary["best_val_auroc"]),
                    **aucs,
                    "seconds": secs,
                }
            )
            print(f"  {rows[-1]}", file=sys.stderr)
    return rows


def auroc_check(folds: list[str], threads: int, seed_ref: bool) -> None:
    root = Path(__file__).resolve().parents[1]
    have = [f for f in folds if (root / "results/folds" / f / "split.parquet").is_file()]
    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    t0 = time.perf_counter()
    if have:
        missing = sorted(set(folds) - set(have))
        if missing:
            print(f"not in the cache, skipped: {missing}", file=sys.stderr)
        rows = auroc_check_cache(have, root, threads, CPU_MODES + [SEED_REF] * seed_ref)
        what = "folds of the workflow cache (results/), the workflow's fusion configuration"
    else:
        rows = auroc_check_synthetic(threads, seed_ref)
        what = "a synthetic learnable problem (no workflow cache found)"
    print(f"\nFusionNet fp32 vs bf16 autocast on CPU ({threads} threads), {what}\n")
    _auroc_table(rows)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s; load average after: {os.getloadavg()}")


def scoring_inputs(n_windows: int, case_dir: str | None) -> dict:
    """The scoring benchmark's inputs: a cached case (``signal.npy``, ``windows.parquet``) or a
    random 23-channel float16 signal, and its spectral reference store, built here (timed)."""
    import numpy as np
    import pandas as pd

    from preictal.models.fusion.reference import write_spectral_reference

    tmp = Path(tempfile.mkdtemp(prefix="bench_scoring_"))
    if case_dir and (Path(case_dir) / "signal.npy").exists():
        signal_path = str(Path(case_dir) / "signal.npy")
        windows = pd.read_parquet(Path(case_dir) / "windows.parquet")
    else:
        signal_path = str(tmp / "signal.npy")
        rng = np.random.default_rng(0)
        signal = rng.standard_normal((23, (n_windows + 1) * 1280)) * 20
        np.save(signal_path, signal.astype(np.float16))
        windows = pd.DataFrame(
            {
                "window": np.arange(n_windows),
                "start_sample": np.arange(n_windows) * 1280,
                "end_sec": np.arange(n_windows) * 5.0 + 10,
                "segment": 0,
                "bad": False,
            }
        )
    windows_path = str(tmp / "windows.parquet")
    windows.to_parquet(windows_path)
    t0 = time.perf_counter()
    reference_path = str(tmp / "spectral_reference.npy")
    write_spectral_reference(
        signal_path, windows, reference_path, sfreq=256, window_samples=2560, minutes=60
    )
    return {
        "signal": signal_path,
        "windows": windows_path,
        "reference": reference_path,
        "n": min(n_windows, len(windows)),
        "reference_s": time.perf_counter() - t0,
        "n_windows_case": len(windows),
    }


def scoring_child(
    inputs: dict, spectrogram: str, threads: int, workers: int, heap: bool = True
) -> dict:
    """One configuration in its own process (torch's thread pool is set once): the median
    windows/s of three ``predict`` passes after a warm-up pass."""
    import numpy as np
    import pandas as pd
    import torch

    from preictal.models.fusion.data import WindowDataset
    from preictal.models.fusion.loop import TrainParams, predict, retain_freed_memory
    from preictal.models.fusion.net import FusionNet

    if heap:
        retain_freed_memory()  # as fit_fusion_fold does
    torch.set_num_threads(threads)
    n = inputs["n"]
    starts = pd.read_parquet(inputs["windows"]).start_sample.to_numpy()[:n]
    relative = spectrogram == "relative"
    ds = WindowDataset(
        [inputs["signal"]],
        np.zeros(n, np.int64),
        starts,
        np.zeros(n, np.int64),
        window_samples=2560,
        features=np.zeros((n, 68), np.float32),
        reference_paths=[inputs["reference"]] if relative else None,
        reference_rows=np.arange(n) if relative else None,
    )
    torch.manual_seed(0)
    net = FusionNet(n_channels=ds.n_channels, n_features=68).eval()
    net = net.to(memory_format=torch.channels_last)
    params = TrainParams(num_workers=workers)
    predict(net, ds, 256, device="cpu", params=params)  # warm-up (page cache, allocator)
    rates = []
    for _ in range(3):
        t0 = time.perf_counter()
        predict(net, ds, 256, device="cpu", params=params)
        rates.append(n / (time.perf_counter() - t0))
    return {"windows_per_s": sorted(rates)[1], "all": rates}


def scoring(n_windows: int, case_dir: str | None) -> list[dict]:
    """The workflow's scoring path: ``predict`` over a :class:`WindowDataset` of a float16 cache
    memmap with 68 features, the absolute or the patient-relative spectrogram, threads 1 and 2,
    loader workers 0 and 1, with ``retain_freed_memory`` (as ``fit_fusion_fold``) and, for
    reference, without; each configuration in its own process."""
    inputs = scoring_inputs(n_windows, case_dir)
    rows = []
    configs = [(s, t, w, True) for s in ("absolute", "relative") for t in (1, 2) for w in (0, 1)]
    configs += [("relative", t, 0, False) for t in (1, 2)]  # glibc's default malloc (before)
    for spectrogram, threads, workers, heap in configs:
        config = [inputs, spectrogram, threads, workers, heap]
        res = subprocess.run(
            [sys.executable, __file__, "--scoring-child", json.dumps(config)],
            env=dict(os.environ, OMP_NUM_THREADS=str(threads)),
            check=True,
            capture_output=True,
            text=True,
        )
        r = json.loads(res.stdout.strip().splitlines()[-1])
        rows.append(
            {"spectrogram": spectrogram, "threads": threads, "num_workers": workers}
            | {"malloc": "heap (retain_freed_memory)" if heap else "glibc default"}
            | r
        )
        print(f"  {rows[-1]}", file=sys.stderr)
    print(
        f"\nScoring path: predict() over {inputs['n']} windows of {inputs['signal']} (batch 256, "
        f"channels_last, fp32; median of 3 passes); reference store of "
        f"{inputs['n_windows_case']} windows built in {inputs['reference_s']:.1f} s\n"
    )
    print("| spectrogram | threads | num_workers | malloc | windows/s |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['spectrogram']} | {r['threads']} | {r['num_workers']} | {r['malloc']} "
            f"| {r['windows_per_s']:.0f} |"
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--windows", type=int, default=2048)
    ap.add_argument(
        "--auroc-check",
        action="store_true",
        help="train fp32 and bf16 autocast on workflow folds (or a synthetic problem) and report "
        "validation AUROC instead of throughput",
    )
    ap.add_argument(
        "--folds",
        default="loso/chb01,loso/chb03,loso/chb05",
        help="comma-separated {split}/{fold} of results/folds for --auroc-check",
    )
    ap.add_argument("--threads", type=int, default=2, help="torch threads for --auroc-check")
    ap.add_argument(
        "--no-seed-ref",
        action="store_true",
        help="--auroc-check: skip the reference fp32 run with another seed on each fold",
    )
    ap.add_argument(
        "--scoring",
        action="store_true",
        help="measure the workflow's scoring path (predict over the cache memmap) instead",
    )
    ap.add_argument(
        "--case-dir",
        default="results/cache/chb01",
        help="--scoring: a cached case (signal.npy, windows.parquet); else a random signal",
    )
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--scoring-child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.scoring_child:
        print(json.dumps(scoring_child(*json.loads(args.scoring_child))))
        return
    if args.scoring:
        scoring(args.windows, args.case_dir)
        return
    if args.auroc_check:
        auroc_check([f for f in args.folds.split(",") if f], args.threads, not args.no_seed_ref)
        return
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
