"""The run's closing tables and text, written from the result tables only: the table the original
asked for (`summary_results.csv`), calibration with and without temperature scaling, the run log
`metrics.csv` (appended) and `final_summary.md`."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from preictal.labels import PROTOCOL_COLUMNS, LabelParams


def config_hash(config: Mapping) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:12]


def summary_results(
    results: pd.DataFrame, split_manifests: Mapping, target_fah: float
) -> pd.DataFrame:
    """One row per fold and model at ``target_fah``: split mode, train/val/test subjects, AUROC,
    AUPRC, FAH, sensitivity and mean warning time."""
    t = results[np.isclose(results.target_fah, target_fah)]
    rows = []
    for r in t.itertuples():
        m = split_manifests.get((r.split, r.fold), {})
        who = m.get("patients") or m.get("files") or {}
        rows.append(
            {
                "split_mode": r.split,
                "fold": r.fold,
                "model": r.model,
                "train_subjects": " ".join(who.get("train", [])),
                "val_subjects": " ".join(who.get("val", [])),
                "test_subjects": " ".join(who.get("test", [])),
                "auroc": getattr(r, "test_auroc", np.nan),
                "auprc": getattr(r, "test_auprc", np.nan),
                "target_fah": r.target_fah,
                "fah": getattr(r, "test_fah", np.nan),
                "sensitivity": getattr(r, "test_sensitivity", np.nan),
                "mean_warning_time_min": getattr(r, "test_mean_time_to_warning_sec", np.nan) / 60,
                "skipped": r.skipped,
                "data_source": r.data_source,
                **{k: getattr(r, k) for k in PROTOCOL_COLUMNS},
            }
        )
    return pd.DataFrame(rows)


def calibration_comparison(calibrations: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Per split, model, part and scaling: the mean over folds of Brier, BSS, ECE and NLL, and the
    fold count."""
    frames = [c for c in calibrations if len(c)]
    if not frames:
        return pd.DataFrame()
    c = pd.concat(frames, ignore_index=True)
    metrics = ["brier", "bss", "ece", "nll", "temperature"]
    out = (
        c.groupby(["split", "model", "part", "scaling"], sort=True)
        .agg(n_folds=("fold", "nunique"), **{f"{m}_mean": (m, "mean") for m in metrics})
        .reset_index()
    )
    out["data_source"] = ",".join(sorted(set(c.data_source.dropna().astype(str))))
    return out


def best_model(results: pd.DataFrame, target: float) -> str | None:
    """The model with the highest mean validation sensitivity at ``target`` (then validation
    AUROC): chosen without looking at test."""
    t = results[np.isclose(results.target_fah, target) & results.skipped.isna()]
    if t.empty:
        return None
    means = t.groupby("model")[["val_sensitivity", "val_auroc"]].mean().fillna(-np.inf)
    return str(means.sort_values(["val_sensitivity", "val_auroc"], ascending=False).index[0])


def _fmt(x: float, pct: bool = False, digits: int = 2) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    return f"{100 * x:.0f} %" if pct else f"{x:.{digits}f}"


def final_summary_md(
    splits: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]],
    data_source: Mapping,
    label_params: LabelParams,
    alpha: float,
    selection_fah: float,
    exclusions: pd.DataFrame | None = None,
) -> str:
    """``final_summary.md`` from ``{split: (results, summary)}``. The best configuration is chosen
    at ``selection_fah`` on validation; the headline rows are the targets up to it. ``exclusions``
    (the run's excluded input files) are listed under their own heading."""
    lines = [
        "# Final summary",
        "",
        f"Data source: **{data_source.get('kind', '?')}** ({data_source.get('data_root', '')}). "
        f"SPH {label_params.sph_sec:g} s, SOP {label_params.sop_sec:g} s. FAH is false alarms per "
        "interictal hour. Written by the workflow from the result tables.",
        "",
    ]
    hard = []
    for split, (results, summary) in splits.items():
        model = best_model(results, selection_fah)
        headline = sorted(t for t in results.target_fah.unique() if t <= selection_fah)
        lines += [f"## {split}", ""]
        if model is None:
            lines += ["No fold trained.", ""]
            continue
        n_folds = int(results[results.skipped.isna()].fold.nunique())
        lines += [
            f"Best configuration (highest mean validation sensitivity at FAH <= "
            f"{selection_fah:g}): **{model}**, over {n_folds} folds.",
            "",
            "| target FAH | test sensitivity (mean, 95 % CI) | pooled sensitivity | test FAH "
            "| mean warning time | patients above chance | cohort p |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for target in headline:
            s = summary[(summary.model == model) & np.isclose(summary.target_fah, target)]
            if s.empty:
                continue
            s = s.iloc[0]
            lines.append(
                f"| {target:g} | {_fmt(s.sensitivity_mean, True)} "
                f"({_fmt(s.sensitivity_ci_lo, True)} to {_fmt(s.sensitivity_ci_hi, True)}) "
                f"| {_fmt(s.pooled_sensitivity, True)} ({int(s.pooled_n_caught)}/"
                f"{int(s.pooled_n_seizures)}) | {_fmt(s.fah_mean)} "
                f"| {_fmt(s.time_to_warning_sec_mean / 60, digits=1)} min "
                f"| {int(s.n_patients_significant)}/{int(s.n_patients_tested)} "
                f"| {_fmt(s.cohort_p, digits=3)} |"
            )
        lines.append("")
        t = results[results.skipped.isna() & np.isclose(results.target_fah, selection_fah)]
        t = t[t.model == model]
        missed = t[(t.test_n_seizures_scored > 0) & (t.test_n_caught == 0)].fold.tolist()
        if missed:
            hard.append(f"{split}: no test seizure caught at FAH {selection_fah:g} in {missed}.")
        unmet = t[t.flag.fillna("") != ""]
        if len(unmet):
            hard.append(
                f"{split}: validation could not meet FAH {selection_fah:g} well in "
                f"{unmet.fold.tolist()} ({'; '.join(sorted(set(unmet.flag)))})."
            )
        low = summary[(summary.model == model) & np.isclose(summary.target_fah, min(headline))]
        if len(low) and low.iloc[0].n_patients_significant < low.iloc[0].n_patients_tested:
            hard.append(
                f"{split}: at FAH {min(headline):g} only {int(low.iloc[0].n_patients_significant)}"
                f" of {int(low.iloc[0].n_patients_tested)} patients are above chance (alpha {alpha})."
            )
        skipped = results[results.skipped.notna()].fold.unique().tolist()
        if skipped:
            hard.append(f"{split}: folds skipped (see their manifests): {skipped}.")
    lines += ["## What remains hard", ""]
    lines += [f"- {h}" for h in hard] or ["- Nothing flagged by the tables."]
    lines += ["", "## Excluded inputs", ""] + _exclusion_lines(exclusions)
    return "\n".join(lines) + "\n"


def _exclusion_lines(exclusions: pd.DataFrame | None) -> list[str]:
    if exclusions is None or exclusions.empty:
        return ["None: every input file was used."]
    lines = [
        f"{len(exclusions)} input file(s) excluded (results/dataset/exclusions.csv); seizures "
        "whose preictal period lay in them are not scorable.",
        "",
        "| case | file | stage | reason |",
        "| --- | --- | --- | --- |",
    ]
    return lines + [
        f"| {r.case} | {r.file} | {r.stage} | {r.reason} |" for r in exclusions.itertuples()
    ]


def append_metrics_row(path: str | Path, row: Mapping) -> pd.DataFrame:
    """Append ``row`` to the run log CSV at ``path`` (never overwriting earlier rows): under an
    exclusive lock, read, append, write a temporary file and rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        old = pd.read_csv(path) if path.exists() and path.stat().st_size else pd.DataFrame()
        table = pd.concat([old, pd.DataFrame([row])], ignore_index=True)
        tmp = path.with_name(f".{path.name}.tmp")
        table.to_csv(tmp, index=False)
        os.replace(tmp, path)
    return table


def metrics_row(
    config: Mapping,
    data_source: Mapping,
    splits: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]],
    selection_fah: float,
) -> dict:
    row = {
        "written_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "config_hash": config_hash(config),
        "seed": config.get("fusion", {}).get("seed"),
        "data_source": data_source.get("kind"),
    }
    for split, (results, summary) in splits.items():
        trained = results[results.skipped.isna()]
        row[f"{split}_n_folds"] = int(trained.fold.nunique())
        model = best_model(results, selection_fah)
        row[f"{split}_best_model"] = model
        s = summary[(summary.model == model) & np.isclose(summary.target_fah, selection_fah)]
        if len(s):
            s = s.iloc[0]
            row[f"{split}_n_seizures"] = int(s.pooled_n_seizures)
            row[f"{split}_sensitivity_at_fah{selection_fah:g}"] = s.sensitivity_mean
            row[f"{split}_fah_at_fah{selection_fah:g}"] = s.fah_mean
            row[f"{split}_auroc"] = s.auroc_mean
            row[f"{split}_patients_significant"] = int(s.n_patients_significant)
    return row
