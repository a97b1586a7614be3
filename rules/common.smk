# Parse-time glue (lib/preictal/workflow/config.py): validated config, cases, folds, code hashes;
# the results/ layout is lib/preictal/layout.py.


import time
from pathlib import Path

from snakemake.utils import validate

from preictal import layout
from preictal.chbmit.errors import DatasetError
from preictal.models.fusion.window import fusion_job_threads
from preictal.synthetic.plan import dataset_paths
from preictal.synthetic.twin import twin_paths
from preictal.workflow.config import (
    CHOSEN_ONLY_TABLES,
    COMPARISON_TABLES,
    canonical,
    case_edf_paths,
    case_summary_path,
    check_config,
    code_hash,
    comparison_variants,
    dataset_metadata_paths,
    dataset_source,
    files_fingerprint,
    fusion_params,
    import_closure,
    is_synthetic,
    selected_folds,
    synthetic_spec,
    workflow_cases,
)
from preictal.workflow.console import warnings_summary
from preictal.workflow.schema import config_problem, load_schema

# The run's start: the closing summary lists the warnings of logs written since.
RUN_STARTED = time.time()

# A short message naming the key (Snakemake's own prints the whole schema); then validate() for the
# schema's defaults.
CONFIG_PROBLEM = config_problem(
    config, load_schema(Path(workflow.basedir) / "schemas/workflow_config.schema.yaml")
)
if CONFIG_PROBLEM:
    raise WorkflowError(f"config: {CONFIG_PROBLEM}")
validate(config, "../schemas/workflow_config.schema.yaml")
# In place: Snakemake holds this dict.
_sorted_config = canonical(config)
config.clear()
config.update(_sorted_config)

try:
    CASES = workflow_cases(config)
    DATA_SOURCE = dataset_source(config)
    DATASET_ERROR = None
except DatasetError as exc:
    # download_chbmit runs before the dataset exists; every other target reports the error
    # (the Snakefile then includes rules/no_dataset.smk in place of the other stages).
    CASES, DATA_SOURCE, DATASET_ERROR = [], {}, f"config: {exc}"
SYNTHETIC = is_synthetic(config)
# The CHB-MIT twin (synthetic.structure: chbmit) is generated case by case (rules/chbmit.smk).
TWIN = SYNTHETIC and config["synthetic"]["structure"] == "chbmit"
DATA_ROOT = Path(config["data_root"])
if SYNTHETIC and not DATASET_ERROR:
    try:
        if TWIN:
            TWIN_FILES = twin_paths(synthetic_spec(config), DATA_ROOT)
        else:
            SYNTHETIC_FILES = dataset_paths(synthetic_spec(config), DATA_ROOT)
    except DatasetError as exc:
        raise WorkflowError(f"config: {exc}")
# The planted generator's parameters: the twin's keys left out, so that adding them (with their
# defaults) reruns nothing.
PLANTED_PARAMS = {
    k: v
    for k, v in config["synthetic"].items()
    if k not in ("structure", "metadata_root", "files", "keep_edfs")
}
LIB = Path(workflow.basedir) / "lib" / "preictal"
SCRIPTS = Path(workflow.basedir) / "scripts"


PATIENTS = sorted({config["patients"].get(c, c) for c in CASES})
SPLIT_PARAMS = {
    k: v for k, v in config["splits"].items() if k not in ("modes", "folds")
}
FUSION_PARAMS = fusion_params(config["fusion"])
COMPARISONS = config["comparisons"]
try:
    VARIANTS = {
        group: comparison_variants(COMPARISONS[group], f"comparisons.{group}")
        for group in COMPARISON_TABLES.values()
    }
except DatasetError as exc:
    raise WorkflowError(str(exc))
try:
    FOLDS = selected_folds(config["splits"]["folds"], PATIENTS, "splits.folds")
except DatasetError as exc:
    if not DATASET_ERROR:
        raise WorkflowError(str(exc))
    FOLDS = []


def comparison_folds():
    """The folds of the comparisons; checked only when a comparison is asked for."""
    try:
        return selected_folds(COMPARISONS["folds"], PATIENTS, "comparisons.folds")
    except DatasetError as exc:
        raise WorkflowError(str(exc))


wildcard_constraints:
    case=r"chb\d{2}",
    fold=r"chb\d{2}",
    split="loso|within",
    model="logreg|mlp|xgboost|fusion",
    group="|".join(COMPARISON_TABLES.values()),
    variant=r"[A-Za-z0-9_.-]+",


DATASET_REPORT = [
    "results/dataset/verification.json",
    "results/dataset/verification.md",
    "results/dataset/cases.csv",
    "results/dataset/timeline.png",
]


CACHE_FIGURES = [
    "raw_vs_preprocessed",
    "psd",
    "spectrogram",
    "label_timeline",
    "label_sanity",
]
CACHE_REPORT = [
    "results/tables/window_counts.csv",
    "results/tables/cache_report.csv",
    "results/tables/channel_consistency.csv",
] + [f"results/figures/cache/{name}.png" for name in CACHE_FIGURES]
EVALUATION_FIGURES = [
    "threshold_vs_fah",
    "threshold_vs_sensitivity",
    "tradeoff",
    "risk_timeline",
    "risk_gallery",
    "warning_times",
    "training_curves",
    "confusion_matrix",
    "reliability",
    "chance_tests",
]
# The report's figures show one model at one operating point (config `report`).
FIGURE_MODEL = config["report"]["figures_model"]
# "chosen": the figures' script picks the model chosen on validation, so it reads every model's.
FIGURE_MODELS = config["models"] if FIGURE_MODEL == "chosen" else [FIGURE_MODEL]
FIGURE_FAH = config["report"]["figures_fah"]
# What one fold's evaluation reads of `evaluation` (the summary's bootstrap is not among them).
FOLD_EVALUATION = {
    key: config["evaluation"][key]
    for key in (
        "fah_targets",
        "alpha",
        "n_surrogates",
        "seed",
        "n_thresholds",
        "tie_break",
    )
}
try:
    check_config(config)
except ValueError as exc:
    raise WorkflowError(f"config: {exc}")
EVALUATION_REPORT = [
    "results/final_summary.md",
    "results/summary_results.csv",
    "results/tables/calibration_comparison.csv",
    "results/tables/alarm_ablation.csv",
    "results/tables/threshold_transfer.csv",
]
SPC_REPORT = [
    "results/tables/spc_{split}.csv",
    "results/tables/spc_{split}_folds.csv",
    "results/figures/spc/{split}.png",
]
CASE_TARGETS = [
    layout.CACHE_MANIFEST,
    layout.WINDOWS,
    layout.FEATURES,
    layout.MODEL_FEATURES,
    layout.LABELS,
]


def fold_cases(wildcards):
    """Cases a fold reads: all of them for loso, the patient's own for within."""
    if wildcards.split == "loso":
        return CASES
    return [c for c in CASES if config["patients"].get(c, c) == wildcards.fold]


def all_targets(wildcards):
    """What exists so far: the dataset report, and the per-case cache where EDFs exist."""
    if DATASET_ERROR:
        raise WorkflowError(DATASET_ERROR)
    if DATA_SOURCE["kind"] == "chbmit-metadata":
        return DATASET_REPORT
    return (
        DATASET_REPORT
        + expand(CASE_TARGETS, case=CASES)
        + CACHE_REPORT
        + ["results/tables/window_auroc.csv"]
        + expand(layout.SPLIT_SUMMARY, split=config["splits"]["modes"])
        + EVALUATION_REPORT
        + expand(SPC_REPORT, split=config["splits"]["modes"])
        + expand(
            "results/figures/eval/{split}/{name}.png",
            split=config["splits"]["modes"],
            name=EVALUATION_FIGURES,
        )
    )


def script_code(script):
    """Digest of everything scripts/<script>.py runs of lib/preictal (its import closure), so that
    changing a module reruns exactly the rules whose scripts import it, directly or not.
    """
    return code_hash(*import_closure(SCRIPTS / f"{script}.py", LIB.parent))


def dataset_input(paths):
    """Raw dataset files: generated by a rule (synthetic) or read from disk, wrapped in ancient()
    so that copying or touching a dataset does not rebuild everything."""
    return [str(p) if SYNTHETIC else ancient(str(p)) for p in paths]


def case_raw_fingerprint(wildcards):
    """Sizes and times of a real dataset's files of the case (see files_fingerprint); the
    synthetic dataset's files are outputs of a rule, tracked by Snakemake itself."""
    if SYNTHETIC:
        return ""
    raw = case_raw_inputs(wildcards)
    return files_fingerprint([raw["summary"], *raw["edfs"]])


def case_edfs_input(wildcards):
    return dataset_input(case_edf_paths(config, wildcards.case))


def case_raw_inputs(wildcards):
    """A case's summary and EDFs, with RECORDS and RECORDS-WITH-SEIZURES where they exist."""
    metadata = dataset_metadata_paths(config)
    inputs = {
        "summary": dataset_input([case_summary_path(config, wildcards.case)])[0],
        "edfs": case_edfs_input(wildcards),
    }
    for role in ("records", "seizure_records"):
        if role in metadata:
            inputs[role] = dataset_input([metadata[role]])[0]
            # The twin's lists grow with its cases: adding one re-indexes no other.
            if TWIN:
                inputs[role] = ancient(str(metadata[role]))
    return inputs


def twin_case_params(case):
    """One twin case's generator parameters (the case alone, its chosen files, its patient): a
    change to another case, or to which cases are chosen, reruns nothing of this one."""
    planted_only = (
        "files_per_case",
        "file_min",
        "seizures_per_case",
        "seizure_sec",
        "min_separation_min",
        "lead_file_margin_min",
        "long_gap_min",
        "keep_edfs",  # what happens to the EDFs afterwards, not what they hold
    )
    synthetic = {k: v for k, v in config["synthetic"].items() if k not in planted_only}
    synthetic["cases"] = [case]
    if synthetic["files"] is not None:
        synthetic["files"] = [p.name for p in TWIN_FILES["cases"][case]["edfs"]]
    patients = {c: p for c, p in config["patients"].items() if c == case}
    return {"synthetic": synthetic, "patients": patients}
