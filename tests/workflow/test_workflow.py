"""Snakemake end to end on a tiny synthetic config: outputs, report, rerun scope, config errors."""

from __future__ import annotations

import copy
import json
import modulefinder
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from snakemake.utils import update_config

from preictal.io import read_parquet_metadata
from preictal.labels import LabelParams, protocol_columns

REPO = Path(__file__).resolve().parents[2]
TINY = yaml.safe_load((REPO / "presets/tiny.yaml").read_text())

pytestmark = pytest.mark.workflow


def snakemake(
    workdir: Path, *args: str, config: dict | None = None, check: bool = True, cores: str = "2"
):
    cfg = workdir / "cfg.yaml"
    cfg.write_text(yaml.safe_dump(config if config is not None else TINY, sort_keys=False))
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        *args,
        "-s",
        str(REPO / "Snakefile"),
        "-d",
        str(workdir),
    ]
    cmd += ["--configfile", str(cfg)] + (["--cores", cores] if cores else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return proc


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    """The tiny workflow, run once to completion."""
    workdir = tmp_path_factory.mktemp("wf")
    proc = snakemake(workdir)
    (workdir / "console.txt").write_text(proc.stdout + proc.stderr)
    return workdir


def test_console_is_one_line_per_job_start_and_end(done):
    """The profile's logger (preictal.workflow.console): no "Shell command: None" blocks; each job
    a start and a done line with its wildcards; FusionNet's epochs with the time left."""
    console = (done / "console.txt").read_text()
    assert "Shell command" not in console
    assert "Select jobs to execute" not in console and "Execute 1 jobs" not in console
    starts = re.findall(r"^\d\d:\d\d:\d\d start (\S+)(.*)$", console, flags=re.M)
    dones = re.findall(r"^\d\d:\d\d:\d\d done  (\S+)(.*)\[(\d+)/(\d+)\]$", console, flags=re.M)
    assert len(starts) == len(dones) > 0
    assert ("index_case", "  case=chb01") in starts
    total = int(dones[-1][3])
    assert sorted(int(d[2]) for d in dones) == list(range(1, total + 1))
    epochs = re.findall(
        r"train_fusion split=\S+ fold=\S+: epoch (\d+)/(\d+): .*\((.*)\)$", console, flags=re.M
    )
    assert epochs and all(e[0] != e[1] or "last epoch" in e[2] for e in epochs)
    # The tiny data's loso folds are skipped (2 patients): said once per fold, at the end.
    assert "warning(s) in this run's job logs:" in console
    assert "logs/make_split/loso." in console and "fold skipped" in console


def test_outputs_and_data_source(done):
    result = json.loads((done / "results/dataset/verification.json").read_text())
    assert result["data_source"]["kind"] == "synthetic"
    assert result["sha256"]["status"] == "ok"
    assert result["problems"] == []
    truth = json.loads((done / "resources/synthetic_chbmit/SYNTHETIC.json").read_text())
    n_seizures = sum(len(c["seizures"]) for c in truth["cases"].values())
    assert result["totals"]["seizures"] == n_seizures
    assert result["totals"]["edfs_on_disk"] == 9
    assert result["patients"] == {"chb01": ["chb01", "chb21"], "chb02": ["chb02"]}
    files = done / "results/index/chb02/files.parquet"
    assert read_parquet_metadata(files)["data_source"]["kind"] == "synthetic"
    assert len(pd.read_parquet(files)) == 3
    table = pd.read_csv(done / "results/dataset/cases.csv")
    assert table.data_source.eq("synthetic").all() and table.case.tolist() == [
        "chb01",
        "chb02",
        "chb21",
    ]
    assert "Data source: synthetic" in (done / "results/dataset/verification.md").read_text()
    assert (done / "results/dataset/timeline.png").stat().st_size > 10_000
    # No input was excluded, and the tables and the final summary say so.
    assert pd.read_csv(done / "results/dataset/exclusions.csv").empty
    for split in ("loso", "within"):
        summary = pd.read_csv(done / f"results/{split}_summary.csv")
        assert summary.excluded_input_files.eq(0).all()
        assert summary.dataset_problems.eq(0).all()  # the main target verifies the dataset
    final = (done / "results/final_summary.md").read_text()
    assert "## Excluded inputs\n\nNone: every input file was used." in final
    # Every results table says what it measured: SOP, SPH, postictal, interictal distance, the
    # lead-seizure rule and the FAH denominator, as the run's label parameters set them.
    base = yaml.safe_load((REPO / "workflow_config.yaml").read_text())["labels"]
    protocol = protocol_columns(LabelParams(**{**base, **TINY.get("labels", {})}))
    tables = [
        f"results/{s}_{kind}.csv" for s in ("loso", "within") for kind in ("results", "summary")
    ]
    for path in [*tables, "results/summary_results.csv"]:
        table = pd.read_csv(done / path)
        for key, value in protocol.items():
            assert table[key].eq(value).all(), (path, key)


def test_fold_outputs(done):
    """The tiny profile has two patients: loso folds are skipped, and say why."""
    manifest = json.loads((done / "results/folds/loso/chb01/logreg/manifest.json").read_text())
    assert "at least 3 patients" in manifest["skipped"]
    table = pd.read_csv(done / "results/tables/window_auroc.csv")
    assert set(table.split) == {"loso", "within"}
    assert set(table.model) == {"logreg", "mlp", "xgboost", "fusion"}
    for fold in ("chb01", "chb02"):
        split = json.loads((done / f"results/folds/within/{fold}/split.json").read_text())
        for model in ("xgboost", "fusion"):
            preds = pd.read_parquet(
                done / f"results/folds/within/{fold}/{model}/predictions.parquet"
            )
            if split["skipped"]:
                assert len(preds) == 0
            else:
                assert set(preds.part) <= {"val", "test"} and preds.score.between(0, 1).all()
    # FusionNet trained on chb01's within fold: curves, checkpoint (tensors only), manifest.
    import torch

    fusion = done / "results/folds/within/chb01/fusion"
    curves = pd.read_csv(fusion / "train_curves.csv")
    assert len(curves) >= 1 and np.isfinite(curves.train_loss).all()
    checkpoint = torch.load(fusion / "model.pt", weights_only=True)
    assert "state_dict" in checkpoint and checkpoint["n_features"] > 0
    manifest = json.loads((fusion / "manifest.json").read_text())
    assert manifest["skipped"] is None and manifest["pos_weight"] > 0


def test_comparisons_rank_variants_on_validation(done, tmp_path):
    work = tmp_path / "wf"
    shutil.copytree(done, work, symlinks=True)
    variants = {
        "losses": {"bce": {"train": {"loss": "bce"}}, "focal": {"train": {"loss": "focal"}}},
        "sweep": {
            "base": {"train": {"epochs": 1}},
            "drop0.5_wd": {"net": {"dropout": 0.5}, "train": {"weight_decay": 0.01}},
        },
        "ablation": {  # two of the default's seven, to keep the test short
            "features_relative": {"spectrogram": "none", "features": "relative"},
            "fused_absolute": {"spectrogram": "absolute", "features": "absolute"},
        },
    }
    listed = {g: [{"name": n, **o} for n, o in v.items()] for g, v in variants.items()}
    cfg = {**TINY, "comparisons": {**TINY["comparisons"], **listed}}
    snakemake(work, "comparisons", config=cfg)
    for table, group, test in (
        ("loss_comparison", "losses", "all"),
        ("sweep_results", "sweep", "chosen"),
        ("fusion_ablation", "ablation", "chosen"),
    ):
        rows = pd.read_csv(work / f"results/tables/{table}.csv")
        assert sorted(rows.variant) == sorted(variants[group]) and (rows.fold == "chb01").all()
        assert sorted(rows["rank"]) == [1, 2] and rows.chosen.sum() == 1
        chosen = rows[rows.chosen].iloc[0]
        other = rows[~rows.chosen].iloc[0]
        assert (chosen.val_sensitivity, chosen.val_auprc) >= (
            other.val_sensitivity,
            other.val_auprc,
        )
        assert np.isfinite(chosen.test_auroc) and chosen.test_threshold == chosen.val_threshold
        assert np.isnan(other.test_auroc) == (test == "chosen")
        assert (rows.data_source == "synthetic").all()
        for name, override in variants[group].items():
            manifest = json.loads(
                (
                    work / f"results/comparisons/{group}/within/chb01/{name}/manifest.json"
                ).read_text()
            )
            for section, values in override.items():
                if isinstance(values, dict):
                    assert values.items() <= manifest["params"][section].items()
                else:
                    assert manifest["params"][section] == values
    # Alarm post-processing is evaluation: it re-ranks without retraining any variant.
    changed = {**cfg, "alarms": {"persistence_k": 2}}
    assert _plan(work, changed, "comparisons") == {"compare_variants", "comparisons"}


def test_seizure_prediction_characteristic_tables(done):
    """spc_{split}.csv on the tiny run: every trained model at every grid point and target, the
    random predictor beside it, the run's protocol; at the config's own SOP and SPH each fold's
    threshold and test sensitivity are those of the fold evaluation (tuned on validation)."""
    default = yaml.safe_load((REPO / "workflow_config.yaml").read_text())
    grid = default["evaluation"]["spc"]
    targets = default["evaluation"]["fah_targets"]
    params = LabelParams(**{**default["labels"], **TINY["labels"]})
    protocol = protocol_columns(params)
    results = pd.read_csv(done / "results/within_results.csv")
    trained = results[results.skipped.isna()]
    spc = pd.read_csv(done / "results/tables/spc_within.csv")
    assert len(spc) == trained.model.nunique() * len(grid["sop_min"]) * len(grid["sph_sec"]) * len(
        targets
    )
    assert spc.random_sensitivity.between(0, 1).all() and spc.data_source.eq("synthetic").all()
    # Pooled chance at each fold's test rate: seizure-weighted over the folds of the point.
    folds_all = pd.read_csv(done / "results/tables/spc_within_folds.csv")
    keys = ["model", "sop_min", "sph_sec", "target_fah"]
    for row in spc.itertuples():
        g = folds_all[(folds_all[keys] == [getattr(row, k) for k in keys]).all(axis=1)]
        k = g.test_n_seizures_scored
        expected = (g.random_sensitivity_at_test_fah * k).sum() / k.sum() if k.sum() else np.nan
        assert row.random_sensitivity_at_test_fah == pytest.approx(expected, nan_ok=True)
    for key in ("postictal_min", "interictal_buffer_min", "lead_seizure_rule", "fah_denominator"):
        assert spc[key].eq(protocol[key]).all(), key
    assert spc.trained_sop_min.eq(protocol["sop_min"]).all()
    folds = pd.read_csv(done / "results/tables/spc_within_folds.csv")
    own = folds[np.isclose(folds.sop_min, protocol["sop_min"]) & (folds.sph_sec == params.sph_sec)]
    keys = ["fold", "model", "target_fah"]
    both = own.merge(trained, on=keys, suffixes=("", "_eval"))
    assert len(both) == len(trained) > 0
    np.testing.assert_array_equal(both.threshold, both.threshold_eval)
    np.testing.assert_array_equal(both.test_sensitivity, both.test_sensitivity_eval)
    # The loso folds cannot train on two patients: empty tables, a figure saying so.
    assert pd.read_csv(done / "results/tables/spc_loso.csv").empty
    assert (done / "results/figures/spc/loso.png").stat().st_size > 5_000


def test_threshold_transfer_table(done):
    """threshold_transfer.csv on the tiny run: its validation rows pool the same test seizures as
    the split's summary; the oracle's, tuned on test, never exceed a target they could meet."""
    table = pd.read_csv(done / "results/tables/threshold_transfer.csv")
    summary = pd.read_csv(done / "results/within_summary.csv")
    summary = summary[summary.n_folds > 0]
    keys = ["model", "target_fah"]
    tuned = table[(table.split == "within") & (table.tuned_on == "validation")]
    both = tuned.merge(summary, on=keys, suffixes=("", "_summary"))
    assert len(both) == len(summary) > 0
    for column in ("pooled_n_caught", "pooled_n_seizures", "pooled_fah", "n_patients_significant"):
        np.testing.assert_array_equal(both[column], both[f"{column}_summary"])
    oracle = table[(table.split == "within") & (table.tuned_on == "test (oracle)")]
    assert len(oracle) == len(tuned)
    assert (oracle.fah_mean <= oracle.target_fah + 1e-9).all()
    assert table.data_source.eq("synthetic").all()


PROTOCOL_PRESETS = sorted(p.name for p in (REPO / "presets").glob("protocol_*.yaml"))
TRAINING = {"make_split", "train_baseline", "train_fusion"}


def merged(base: dict, override: dict) -> dict:
    """``override`` on a copy of ``base``, as Snakemake merges a --configfile."""
    out = copy.deepcopy(base)
    update_config(out, override)
    return out


@pytest.mark.parametrize("preset", PROTOCOL_PRESETS)
def test_protocol_presets_run_end_to_end(done, tmp_path, preset):
    """Each protocol preset (docs/EVALUATION.md#protocol-presets) on the tiny profile: the run
    completes; every results table measures the preset's protocol and FAH targets; a preset that
    changes only the evaluation retrains nothing; folds that cannot train (the tiny profile's
    cases last 1 h, under the 4-h presets' lead-seizure rule) say why, and the summaries keep
    their rows. About 1-3 min per preset."""
    work = tmp_path / "wf"
    shutil.copytree(done, work, symlinks=True)
    override = yaml.safe_load((REPO / "presets" / preset).read_text())
    cfg = merged(TINY, override)
    if set(override) == {"evaluation"}:
        assert not _plan(work, cfg) & TRAINING
    else:
        assert "label_case" in _plan(work, cfg)
    snakemake(work, config=cfg)
    default = yaml.safe_load((REPO / "workflow_config.yaml").read_text())
    protocol = protocol_columns(LabelParams(**merged(default["labels"], cfg.get("labels", {}))))
    targets = merged(default["evaluation"], cfg.get("evaluation", {}))["fah_targets"]
    for split in ("loso", "within"):
        results = pd.read_csv(work / f"results/{split}_results.csv")
        summary = pd.read_csv(work / f"results/{split}_summary.csv")
        models = set(cfg.get("models", default["models"]))
        for table in (results, summary):
            assert set(table.model) == models and sorted(set(table.target_fah)) == targets
            for key, value in protocol.items():
                assert len(table) and table[key].eq(value).all(), (preset, split, key)
        skipped = results.skipped.notna()
        assert results.skipped[skipped].str.len().gt(0).all()
        if "test_interictal_hours" in results:
            assert (results.test_interictal_hours[~skipped] > 0).all()
        else:  # every fold skipped: the rows have no metric columns
            assert skipped.all()
        folds = results.groupby(["model", "target_fah"]).size()
        trained = results[~skipped].groupby(["model", "target_fah"]).size()
        for row in summary.itertuples():
            assert row.n_folds == trained.get((row.model, row.target_fah), 0)
            assert row.n_folds + row.n_folds_skipped == folds[(row.model, row.target_fah)]
    final = pd.read_csv(work / "results/summary_results.csv")
    for key, value in protocol.items():
        assert len(final) and final[key].eq(value).all(), (preset, key)


BROWSER = REPO / "tests/browser"


def test_report_builds_offline_and_names_the_source(done, tmp_path):
    """The report, built as in the README, opened in a real headless Chromium: it names the data
    source, SOP/SPH and the FAH denominator first, shows the figures, and makes no request off the
    page. Needs Debian's chromium and `npm ci --prefix tests/browser` (.ci/run installs both); a
    browser that cannot start fails the test."""
    snakemake(done, "--report", str(done / "report.html"), cores="")  # as in the README
    html = (done / "report.html").read_text()
    assert "SYNTHETIC" in html
    assert "timeline.png" in html and "cases.csv" in html
    figures = [
        {"category": "2. Dataset", "label": "recording timeline"},
        {"category": "3. Cache", "label": "label timeline"},
        {"category": "5. Evaluation", "subcategory": "within", "label": "tradeoff"},
        {"category": "5. Evaluation", "subcategory": "within", "label": "risk timeline"},
        {"category": "5. Evaluation", "subcategory": "loso", "label": "reliability"},
    ]
    pages = [{"category": "1. Results", "label": "headline"}]
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"figures": figures, "pages": pages}))
    assert (BROWSER / "node_modules/playwright-core").is_dir(), "run: npm ci --prefix tests/browser"
    proc = subprocess.run(
        [
            "node",
            str(BROWSER / "check_report.js"),
            str(done / "report.html"),
            str(spec),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout)
    text = seen["heading"]
    first = text.index("Data source: SYNTHETIC")
    assert first < text.index("SOP") and "false alarms per interictal hour" in text
    assert seen["offPage"] == [] and seen["errors"] == []
    assert [f["label"] for f in seen["figures"]] == [f["label"] for f in figures]
    assert all(f["width"] > 300 and f["height"] > 200 for f in seen["figures"])
    assert (tmp_path / "report_figure_0.png").stat().st_size > 10_000
    # Categories in pipeline order; the first one opens on the headline table, rendered in the
    # page: the model chosen on validation marked, the protocol stated, final_summary as text.
    menu = [
        text.index(c)
        for c in ("1. Results", "2. Dataset", "3. Cache", "4. Models", "5. Evaluation")
    ]
    assert menu == sorted(menu)
    headline = seen["pages"][0]["text"]
    assert "Data source: SYNTHETIC" in headline and "SPH = 30 s" in headline
    assert re.search(r"Within patient \(within\): [12] folds?\n", headline)  # tiny: chb02 skipped
    assert "(chosen on validation)" in headline and "false alarms per interictal hour" in headline
    assert "Final summary" in headline and "What remains hard" in headline
    assert "| ---" not in headline  # rendered, not markdown source


def _plan(workdir: Path, config: dict, *targets: str) -> set[str]:
    """Rules that would run now, from `snakemake --dry-run`."""
    proc = snakemake(workdir, *targets, "--dry-run", "--quiet", "rules", config=config)
    rules = set()
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and parts[0] not in ("total", "job"):
            rules.add(parts[0])
    return rules


EVALUATION = {
    "evaluate_fold",
    "aggregate_split",
    "alarm_ablation",
    "threshold_transfer",
    "spc",
    "final_summary",
    "evaluation_figures",
}
MODELS = {"make_split", "train_baseline", "train_fusion", "window_auroc"} | EVALUATION
CACHE_AGGREGATES = {"cache_tables", "cache_figures", "all"} | MODELS


def test_rerun_scope(done, tmp_path):
    work = tmp_path / "wf"
    shutil.copytree(done, work, symlinks=True)
    assert _plan(work, TINY) == set()
    # The same values with the keys in another order are the same config.
    reordered = {
        key: dict(reversed(value.items())) if isinstance(value, dict) else value
        for key, value in reversed(TINY.items())
    }
    assert list(reordered["synthetic"]) != list(TINY["synthetic"])
    assert _plan(work, reordered) == set()
    # Verification settings rerun only the verification (per case and the whole), the summaries
    # that count its problems and what reads them; nothing of the cache or the models.
    cfg = {**TINY, "verification": {"sha256": False}}
    assert _plan(work, cfg) == {
        "verify_case",
        "verify_dataset",
        "aggregate_split",
        "final_summary",
        "evaluation_figures",
        "all",
    }
    # Timeline settings rerun the index and what reads it, never the generator.
    cfg = {**TINY, "timeline": {"header_tolerance_sec": 5}}
    assert _plan(work, cfg) >= {"index_case", "verify_dataset", "preprocess_case", "label_case"}
    assert "synthetic_dataset" not in _plan(work, cfg)
    # Synthetic settings regenerate the data and everything after it.
    cfg = {"synthetic": {**TINY["synthetic"], "effect_size": 0.0}}
    assert "synthetic_dataset" in _plan(work, cfg)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # A labeling parameter reruns only the labels and what reads them.
        ({"labels": {"preictal_min": 15}}, {"label_case"} | CACHE_AGGREGATES),
        ({"labels": {"lead_min": 60}}, {"label_case"} | CACHE_AGGREGATES),
        # A bad-window threshold: windows and labels, not the features, never the filtering
        # (FusionNet's spectral reference skips bad windows, so it is redone too).
        (
            {"windows": {"amp_uv_thresh": 300}},
            {"windows_case", "model_features_case", "spectral_reference_case", "label_case"}
            | CACHE_AGGREGATES,
        ),
        # The window length: windows, features and labels, never the EDF reading and filtering.
        (
            {"windows": {"w_sec": 20}},
            {
                "windows_case",
                "features_case",
                "model_features_case",
                "spectral_reference_case",
                "label_case",
            }
            | CACHE_AGGREGATES,
        ),
        (
            {"features": {"feature_set": "basic"}},
            {
                "features_case",
                "model_features_case",
                "cache_tables",
                "train_baseline",
                "train_fusion",
                "window_auroc",
                "all",
            }
            | EVALUATION,
        ),
        # Relative features: once per case, then retrain; never recompute the features.
        (
            {"features": {"relative_min": 30}},
            {"model_features_case", "train_baseline", "train_fusion", "window_auroc", "all"}
            | EVALUATION,
        ),
        # A model setting retrains the models only, and evaluates them again.
        (
            {"baseline": {"interictal_ratio": 2}},
            {"train_baseline", "window_auroc", "all"} | EVALUATION,
        ),
        # An alarm or evaluation setting reruns tuning, evaluation, aggregation and report only.
        ({"alarms": {"persistence_k": 2}}, {"all"} | EVALUATION),
        ({"alarms": {"refractory_min": 10}}, {"all"} | EVALUATION),
        ({"evaluation": {"fah_targets": [0.2, 0.5, 1.0]}}, {"all"} | EVALUATION),
        # The bootstrap is read only when folds are aggregated: no fold is evaluated again.
        (
            {"evaluation": {"n_boot": 200}},
            {"aggregate_split", "final_summary", "evaluation_figures", "all"},
        ),
        # The seizure prediction characteristic's grid re-scores the stored predictions only.
        ({"evaluation": {"spc": {"sop_min": [10, 30]}}}, {"spc", "all"}),
        # The report's choice of figures redraws the figures only.
        ({"report": {"figures_model": "logreg"}}, {"evaluation_figures", "all"}),
        # A filter setting: the cache and everything after it (the exclusions table reads the
        # montage ledger the cache rewrites), not the index or the data.
        (
            {"preprocess": {"l_freq": 1.0}},
            {
                "preprocess_case",
                "windows_case",
                "features_case",
                "model_features_case",
                "spectral_reference_case",
                "label_case",
                "exclusions",
            }
            | CACHE_AGGREGATES,
        ),
    ],
)
def test_cache_rerun_scope(done, tmp_path, change, expected):
    work = tmp_path / "wf"
    shutil.copytree(done, work, symlinks=True)
    assert _plan(work, {**TINY, **change}) == expected


def test_rerun_one_case_touches_only_that_case(done, tmp_path):
    work = tmp_path / "wf"
    shutil.copytree(done, work, symlinks=True)
    proc = snakemake(work, "--dry-run", "-R", "results/cache/chb02/manifest.json")
    console = proc.stdout + proc.stderr
    planned = re.findall(r"^plan  (\S+)(.*)$", console, flags=re.M)  # the profile's console
    cases = {m.group(1) for _, rest in planned if (m := re.search(r"\bcase=(\S+)", rest))}
    assert planned and cases == {"chb02"}
    rules = {rule for rule, _ in planned}
    assert "preprocess_case" in rules and "index_case" not in rules


def test_labels_recover_the_planted_ground_truth(done):
    """Labels from the cache equal a scalar reference computed from SYNTHETIC.json's plan."""
    from preictal.labels import LabelParams
    from tests.test_labels import reference_label

    truth = json.loads((done / "resources/synthetic_chbmit/SYNTHETIC.json").read_text())
    for case, plan in truth["cases"].items():
        windows = pd.read_parquet(done / f"results/cache/{case}/windows.parquet")
        labels = pd.read_parquet(done / f"results/labels/{case}.parquet")
        pairs = [(s["onset_sec"], s["end_sec"]) for s in plan["seizures"]]
        params = LabelParams(**TINY.get("labels", {}))
        expected = [
            reference_label(a, b, pairs, params)
            for a, b in zip(windows.start_sec, windows.end_sec, strict=True)
        ]
        assert labels.reason.tolist() == expected, case
        starts = {f["name"]: f["start_sec"] for f in plan["files"]}
        assert (windows.start_sec >= windows.file.map(starts)).all()
        ledger = pd.read_parquet(done / f"results/labels/{case}_seizures.parquet")
        assert ledger.onset_sec.tolist() == [s["onset_sec"] for s in plan["seizures"]]
        assert ledger.n_preictal_windows.sum() == (labels.y_cls == 1).sum()


def test_planted_flat_segments_are_flagged_and_features_stay_finite(done):
    truth = json.loads((done / "resources/synthetic_chbmit/SYNTHETIC.json").read_text())
    flagged = 0
    for case, plan in truth["cases"].items():
        windows = pd.read_parquet(done / f"results/cache/{case}/windows.parquet")
        features = pd.read_parquet(done / f"results/cache/{case}/features.parquet")
        assert np.isfinite(features.drop(columns="window").to_numpy()).all()
        assert features.window.equals(windows.window)
        starts = {f["name"]: f["start_sec"] for f in plan["files"]}
        for name, events in plan["events"].items():
            for e in events:
                if e["kind"] != "flat" or e["end_sec"] - e["start_sec"] < 2:
                    continue
                t0, t1 = starts[name] + e["start_sec"], starts[name] + e["end_sec"]
                inside = windows[(windows.start_sec <= t0 + 0.5) & (windows.end_sec >= t1 - 0.5)]
                # A window holding a whole dropout second is flagged flat.
                assert inside.bad_flat.all(), (case, name, e)
                flagged += len(inside)
    assert flagged > 0


def test_metadata_only_data_root(chbmit_meta, tmp_path):
    proc = snakemake(tmp_path, "--config", f"data_root={chbmit_meta}", config={})
    assert proc.returncode == 0
    result = json.loads((tmp_path / "results/dataset/verification.json").read_text())
    assert result["mode"].startswith("metadata-only")
    t = result["totals"]
    assert (t["cases"], t["seizures"], t["files_in_summaries"], t["files_in_records"]) == (
        24,
        198,
        676,
        686,
    )
    assert (t["files_with_seizures_in_summaries"], t["files_in_records_with_seizures"]) == (
        141,
        141,
    )
    assert not (tmp_path / "resources").exists()  # nothing synthetic was generated


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"verificaton": {"sha256": True}},
            "unknown key 'verificaton' at the top level; did you mean 'verification'?",
        ),
        ({"synthetic": {"effect_size": -1}}, "-1 is less than the minimum of 0"),
        ({"timeline": {"header_tolerance_sec": "two"}}, "'two' is not of type 'number'"),
        ({"cases": ["chb09"]}, "cases: chb09 not in synthetic.cases"),
        ({"data_root": "/no/such/folder"}, "data_root /no/such/folder: folder not found"),
    ],
)
def test_config_errors_are_clear(tmp_path, config, message):
    proc = snakemake(tmp_path, "--dry-run", config=config, check=False)
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"cases": ["chb09"]}, "cases: chb09 not in synthetic.cases"),
        ({"data_root": "/no/such/folder"}, "data_root /no/such/folder: folder not found"),
        ({"patients": {"chb21": "chb09"}}, "patients: chb21 -> chb09, but synthetic.cases"),
    ],
)
@pytest.mark.parametrize("target", ["results/loso_summary.csv", "results/cache/chb01/signal.npy"])
def test_dataset_errors_for_explicit_targets(tmp_path, config, message, target):
    """The README's main target (and any other) gets the dataset's error before a job runs, as
    the default target does; only the download can run without a dataset."""
    proc = snakemake(tmp_path, "--dry-run", target, config=config, check=False)
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr
    assert "Traceback (most recent call last)" not in proc.stdout + proc.stderr
    if "data_root" in config:
        download = snakemake(tmp_path, "--dry-run", "download_chbmit", config=config)
        assert "download_chbmit" in download.stdout


def test_bad_edf_fails_its_case_only(done, tmp_path):
    """A truncated EDF stops its own case with an error naming the file; the other cases finish."""
    data = tmp_path / "copy"
    shutil.copytree(done / "resources/synthetic_chbmit", data)
    edf = data / "chb02" / "chb02_02.edf"
    edf.write_bytes(edf.read_bytes()[:-5000])
    work = tmp_path / "wf"
    work.mkdir()
    proc = snakemake(work, "--keep-going", "--config", f"data_root={data}", config={}, check=False)
    assert proc.returncode != 0
    log = (work / "logs/index_case/chb02.log").read_text()
    assert f"{edf}: truncated EDF" in log
    for case in ("chb01", "chb21"):  # the other cases' caches and labels are built
        assert (work / f"results/cache/{case}/manifest.json").is_file()
        assert (work / f"results/labels/{case}.parquet").is_file()
    assert not (work / "results/index/chb02/files.parquet").exists()
    assert not (work / "results/cache/chb02").exists()


def test_missing_summary_is_named(done, tmp_path):
    data = tmp_path / "copy"
    shutil.copytree(done / "resources/synthetic_chbmit", data)
    (data / "chb02" / "chb02-summary.txt").unlink()
    cfg = {"data_root": str(data), "cases": ["chb01", "chb02"]}
    proc = snakemake(tmp_path, "--dry-run", config=cfg, check=False)
    assert proc.returncode != 0
    assert f"{data / 'chb02'}: no summary chb02-summary.txt" in proc.stdout + proc.stderr


FUSION = "results/folds/within/chb01/fusion/predictions.parquet"
XGB = "results/folds/within/chb01/xgboost/predictions.parquet"


def test_same_config_and_seed_give_identical_predictions(done, tmp_path):
    work = tmp_path / "wf"
    shutil.copytree(done, work, symlinks=True)
    before = {p: pd.read_parquet(work / p) for p in (FUSION, XGB)}
    snakemake(work, FUSION, XGB, "--forcerun", "train_fusion", "train_baseline")
    for path, old in before.items():
        pd.testing.assert_frame_equal(pd.read_parquet(work / path), old)


def test_killed_training_job_resumes_and_finishes(done, tmp_path):
    """Kill train_fusion after its first epoch's checkpoint, rerun: it resumes from last.pt."""
    import os
    import signal
    import time

    work = tmp_path / "wf"
    shutil.copytree(done, work, symlinks=True)
    fold = work / "results/folds/within/chb01/fusion"
    for name in ("last.pt", "train_curves.csv", "run_key.txt", "model.pt", "predictions.parquet"):
        (fold / name).unlink(missing_ok=True)
    cfg = {**TINY, "fusion": {"train": {"epochs": 8, "patience": 20}}}
    (work / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        FUSION,
        "-s",
        str(REPO / "Snakefile"),
        "-d",
        str(work),
    ]
    cmd += ["--configfile", str(work / "cfg.yaml"), "--cores", "2"]
    proc = subprocess.Popen(
        cmd, cwd=work, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 120
    while not (fold / "last.pt").exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert (fold / "last.pt").exists(), "no checkpoint was written"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (fold / "predictions.parquet").exists()
    epochs_before = len(pd.read_csv(fold / "train_curves.csv"))
    assert epochs_before < 8
    snakemake(work, "--unlock", config=cfg)  # a killed Snakemake leaves its lock, as for a user
    snakemake(work, FUSION, config=cfg)  # rerun-incomplete is on in profiles/default
    manifest = json.loads((fold / "manifest.json").read_text())
    assert manifest["training"]["resumed_from"] is not None
    curves = pd.read_csv(fold / "train_curves.csv")
    assert curves.epoch.is_unique and curves.epoch.is_monotonic_increasing
    assert len(curves) == 8 and (fold / "predictions.parquet").is_file()


# --- Code changes rerun exactly the importers ---------------------------------------------------

WORKFLOW_FILES = ["Snakefile", "rules", "scripts", "schemas", "workflow_config.yaml", "report"]
WORKFLOW_FILES += ["envs", "profiles", "lib/preictal"]


def rule_scripts() -> dict[str, str]:
    """``{rule: script name}`` of every rule with a ``script:`` (a ``use rule`` inherits it)."""
    out = {}
    for smk in (REPO / "rules").glob("*.smk"):
        for block in re.split(r"(?m)^(?=\s*rule |use rule )", smk.read_text()):
            name = re.match(r"\s*(?:use )?rule (\w+)", block)
            script = re.search(r'"\.\./scripts/(\w+)\.py"', block)
            if name and script:
                out[name.group(1)] = script.group(1)
    return out


def imported_by(script: str) -> set[str]:
    finder = modulefinder.ModuleFinder(path=[str(REPO / "lib")])
    finder.run_script(str(REPO / "scripts" / f"{script}.py"))
    return {m for m in finder.modules if m.startswith("preictal")}


def params_changed(copy: Path, workdir: Path) -> set[str]:
    """Rules with an output whose params changed, by `snakemake --summary` of the workflow copy
    run on ``workdir`` (the status of each output, not the cascade a dry run would show)."""
    cmd = [sys.executable, "-m", "snakemake", "--summary", "-s", str(copy / "Snakefile")]
    cmd += ["-d", str(workdir), "--configfile", str(workdir / "cfg.yaml")]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, check=True)
    rows = [line.split("\t") for line in proc.stdout.splitlines()]
    header = next(r for r in rows if "status" in r)
    rule, status = header.index("rule"), header.index("status")
    return {r[rule] for r in rows if len(r) == len(header) and r[status] == "params changed"}


@pytest.fixture(scope="module")
def done_tiny(done):
    workdir = done
    dag = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--forceall", "--quiet", "rules"]
        + ["-s", str(REPO / "Snakefile"), "-d", str(workdir)]
        + ["--configfile", str(workdir / "cfg.yaml")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rules = {
        p[0]
        for p in (line.split() for line in dag.splitlines())
        if len(p) == 2 and p[1].isdigit() and p[0] not in ("total", "job", "all")
    }
    return workdir, rules


@pytest.mark.parametrize(
    "module",
    [
        "labels.py",  # imported by the labels, the models' alarm context and the evaluation
        "models/fusion/net.py",  # FusionNet only
        "evaluate/aggregate.py",  # the summaries and the ablation (through evaluate.fold)
        "features/relative.py",  # the trainers, never the feature cache
        "plots/chance.py",  # one figure module
    ],
)
def test_editing_a_module_reruns_exactly_its_importers(done_tiny, tmp_path, module):
    """Changing one lib module reruns exactly the rules whose scripts import it, directly or not.
    The expectation comes from the standard library's ``modulefinder`` on each rule's script,
    independent of the import closure the rules hash (`preictal.workflow.config.import_closure`);
    the observation from `snakemake --summary` of a workflow copy with that module edited."""
    workdir, dag_rules = done_tiny
    copy = tmp_path / "copy"
    for name in WORKFLOW_FILES:
        src, dst = REPO / name, copy / name
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dst)
    assert params_changed(copy, workdir) == set(), "an unchanged copy must have nothing to do"

    with open(copy / "lib/preictal" / module, "a") as f:
        f.write("\n# an edit that changes the file's bytes\n")
    dotted = "preictal." + module.removesuffix(".py").replace("/", ".")
    expected = {
        rule for rule, script in rule_scripts().items() if dotted in imported_by(script)
    } & dag_rules
    assert expected, f"no rule of the tiny workflow imports {dotted}"
    assert params_changed(copy, workdir) == expected
