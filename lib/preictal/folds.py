"""Per-fold jobs at the edges: read the per-case tables, build a split or train a baseline, write
the outputs. The logic lives in :mod:`preictal.splits` and :mod:`preictal.models.baseline`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from preictal.io import write_json, write_parquet
from preictal.models.baseline import BaselineParams, save_model, train_baseline_fold
from preictal.models.fusion_fold import AlarmContext, FusionParams, fit_fusion_fold
from preictal.splits import SplitParams, SplitSkipped, build_split, rotating_seed


def read_case_tables(cases: Sequence[str], **paths: Sequence[str | Path]) -> dict[str, dict]:
    """``{case: {name: DataFrame}}`` from parallel lists of Parquet paths, one list per name."""
    out: dict[str, dict] = {case: {} for case in cases}
    for name, files in paths.items():
        if len(files) != len(cases):
            raise ValueError(f"{name}: {len(files)} paths for {len(cases)} cases")
        for case, path in zip(cases, files, strict=True):
            out[case][name] = pd.read_parquet(path)
    return out


def run_make_split(
    mode: str,
    fold: str,
    tables: Mapping[str, Mapping[str, pd.DataFrame]],
    *,
    patients: Mapping[str, str],
    params: SplitParams,
    data_source: dict,
    out_split: str | Path,
    out_manifest: str | Path,
) -> dict:
    split, manifest = build_split(mode, fold, tables, patients, params)
    manifest["data_source"] = data_source
    write_parquet(out_split, split, metadata={"data_source": data_source, "fold": fold})
    write_json(out_manifest, manifest)
    return manifest


def run_train_model(
    name: str,
    mode: str,
    fold: str,
    split_path: str | Path,
    split_manifest: Mapping,
    tables: dict[str, dict[str, pd.DataFrame]],
    *,
    params: BaselineParams | FusionParams,
    data_source: dict,
    out_model: str | Path,
    out_predictions: str | Path,
    out_manifest: str | Path,
    signal_paths: Mapping[str, str] | None = None,
    threads: int = 1,
    device: str = "auto",
    alarm_context: AlarmContext | None = None,
) -> dict:
    """Train one model (a baseline, or ``fusion``) on one fold, score its validation and test
    windows, or record why the fold was skipped."""
    from preictal.cache import software_versions

    manifest = {
        "model": name,
        "split": mode,
        "fold": fold,
        "data_source": data_source,
        "params": asdict(params),
        "split_manifest": dict(split_manifest),
        "versions": software_versions(),
    }
    meta = {"data_source": data_source, "model": name, "split": mode, "fold": fold}
    skipped = split_manifest.get("skipped")
    if not skipped:
        split = pd.read_parquet(split_path)
        seed = rotating_seed(params.seed, f"{mode}/{fold}")
        try:
            if name == "fusion":
                model, preds = fit_fusion_fold(
                    split,
                    tables,
                    dict(signal_paths or {}),
                    Path(out_model).parent,
                    params,
                    seed=seed,
                    threads=threads,
                    device=device,
                    alarm_context=alarm_context,
                )
            else:
                model, preds = train_baseline_fold(name, split, tables, params, fold_seed=seed)
        except SplitSkipped as exc:
            skipped = f"{mode}/{fold}: {exc}"
    if skipped:
        manifest["skipped"] = skipped
        write_json(out_manifest, manifest)
        empty = pd.DataFrame(columns=["case", "window", "part", "y_cls", "score", "logit"])
        write_parquet(out_predictions, empty, metadata={**meta, "skipped": skipped})
        _write_model(name, {"skipped": skipped}, out_model, params)
        return manifest
    test_cases, train_cases = (
        set(preds.case[preds.part == "test"]),
        set(split.case[split.part == "train"]),
    )
    if mode == "loso" and test_cases & train_cases:
        raise AssertionError(f"{mode}/{fold}: a training case was scored as test")
    _write_model(name, model, out_model, params)
    write_parquet(out_predictions, preds, metadata=meta)
    info = model["info"] if name == "fusion" else model
    manifest.update(
        seed=seed,
        n_train_windows=info["n_train_windows"],
        n_pos_train=info["n_pos"],
        n_neg_train=info["n_neg"],
        pos_weight=info["n_neg"] / info["n_pos"],
        n_scored={p: int((preds.part == p).sum()) for p in ("val", "test")},
        training=info if name == "fusion" else None,
        skipped=None,
    )
    write_json(out_manifest, manifest)
    return manifest


def _write_model(name: str, model: dict, path: str | Path, params) -> None:
    """Baselines as JSON; FusionNet as a torch checkpoint of tensors (loads with weights_only)."""
    if name != "fusion":
        save_model(model, path, params)
        return
    import torch

    from preictal.io import atomic_path

    with atomic_path(path) as tmp:
        torch.save(model.get("checkpoint", model), tmp)
