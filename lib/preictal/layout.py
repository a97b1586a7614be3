"""The ``results/`` layout, in one place: every file one stage writes and another reads, as a
path template with Snakemake-style wildcards. The rules use the templates as they are
(``expand(layout.WINDOWS, case=CASES)``); code that reads results from another folder (the app,
tables, figures) fills them with :func:`path`."""

from __future__ import annotations

from pathlib import Path

ROOT = "results"

# Per case: index, cache, labels.
FILES = "results/index/{case}/files.parquet"
SEIZURES = "results/index/{case}/seizures.parquet"
SIGNAL = "results/cache/{case}/signal.npy"
BLOCKS = "results/cache/{case}/blocks.parquet"
MONTAGE = "results/cache/{case}/montage.parquet"
FLAT = "results/cache/{case}/flat.parquet"
CACHE_MANIFEST = "results/cache/{case}/manifest.json"
WINDOWS = "results/cache/{case}/windows.parquet"
FEATURES = "results/cache/{case}/features.parquet"
MODEL_FEATURES = "results/cache/{case}/model_features.parquet"  # what the models see
SPECTRAL_REFERENCE = "results/cache/{case}/spectral_reference.npy"  # FusionNet's recent spectrum
LABELS = "results/labels/{case}.parquet"
LEDGER = "results/labels/{case}_seizures.parquet"

# Per run: input files that no result uses, with why.
EXCLUSIONS = "results/dataset/exclusions.csv"
# Per case: what verifying it reads from its EDFs (names, header labels, SHA-256).
FILE_CHECKS = "results/dataset/file_checks/{case}.json"

# Per fold and model: split, training, evaluation.
SPLIT = "results/folds/{split}/{fold}/split.parquet"
SPLIT_MANIFEST = "results/folds/{split}/{fold}/split.json"
PREDICTIONS = "results/folds/{split}/{fold}/{model}/predictions.parquet"
MODEL_MANIFEST = "results/folds/{split}/{fold}/{model}/manifest.json"
EVAL_RESULTS = "results/eval/{split}/{fold}/{model}/results.csv"
VAL_CURVE = "results/eval/{split}/{fold}/{model}/val_curve.csv"
TEST_SEIZURES = "results/eval/{split}/{fold}/{model}/test_seizures.parquet"
TEST_ALARMS = "results/eval/{split}/{fold}/{model}/test_alarms.parquet"
CALIBRATION = "results/eval/{split}/{fold}/{model}/calibration.csv"
VARIANT_PREDICTIONS = "results/comparisons/{group}/{split}/{fold}/{variant}/predictions.parquet"

# Per split.
SPLIT_RESULTS = "results/{split}_results.csv"
SPLIT_SUMMARY = "results/{split}_summary.csv"


def path(template: str, root: str | Path = ROOT, **wildcards: str) -> Path:
    """``template`` with its wildcards filled, under ``root`` in place of ``results/``."""
    return Path(root) / template.removeprefix(f"{ROOT}/").format(**wildcards)


def variant_of(predictions: str | Path) -> tuple[str, str]:
    """``(fold, variant)`` of a comparison variant's predictions (``VARIANT_PREDICTIONS``)."""
    parent = Path(predictions).parent
    return parent.parent.name, parent.name
