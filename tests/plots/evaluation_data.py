"""Small synthetic evaluation outputs for the evaluation figures (preictal.plots): three trained
folds and one skipped, two models, files with gaps, bad windows, a second segment."""

from __future__ import annotations

import numpy as np
import pandas as pd
from PIL import Image
from scipy.special import expit

from preictal.labels import LabelParams

SOURCE = {"kind": "synthetic", "seed": 7, "effect_size": 1.0}
LABELS = LabelParams(preictal_min=10, gap_sec=30, postictal_min=10)  # SPH 30 s, SOP 570 s
SOP, SPH = 570.0, 30.0
TARGETS = (0.1, 0.5)
FOLDS = ("p01", "p02", "p03")  # trained
SKIPPED = "p04"
MODELS = ("logreg", "mlp")
ONSET = 3000.0
FILES = ((0.0, 1800.0), (1810.0, 3610.0), (5400.0, 7200.0))  # gaps: 10 s and 1790 s


def files_of(case: str) -> pd.DataFrame:
    rows = [
        {"case": case, "file": f"{case}_{i:02d}.edf", "segment": 0, "start_sec": a, "end_sec": b}
        for i, (a, b) in enumerate(FILES)
    ]
    if case == "p02":  # a second timeline
        rows.append(
            {
                "case": case,
                "file": f"{case}_s1.edf",
                "segment": 1,
                "start_sec": 0.0,
                "end_sec": 900.0,
            }
        )
    return pd.DataFrame(rows)


def ledger_of(case: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case": [case],
            "segment": [0],
            "seizure": [0],
            "onset_sec": [ONSET],
            "end_sec": [ONSET + 60],
            "lead": [True],
            "scorable": [True],
        }
    )


def windows_of(case: str, part: str, rng: np.random.Generator, scale: float) -> pd.DataFrame:
    """10 s windows every 10 s over the case's files; preictal before ONSET; every 13th bad."""
    rows = []
    for f in files_of(case).itertuples():
        for start in np.arange(f.start_sec, f.end_sec - 10 + 1e-9, 10.0):
            rows.append((f.file, f.segment, start, start + 10))
    w = pd.DataFrame(rows, columns=["file", "segment", "start_sec", "end_sec"])
    end = w.end_sec.to_numpy()
    pre = (w.segment == 0) & (end >= ONSET - 600) & (end <= ONSET - SPH)
    near = (w.segment == 0) & (end > ONSET - SPH) & (end < ONSET + 60 + 600)
    y = np.where(pre, 1, np.where(near, -1, 0)).astype(np.int8)
    logit = scale * (2.0 * (y == 1) - 1.0 + rng.normal(0, 1.0, len(w)))
    return w.assign(
        case=case,
        window=np.arange(len(w)),
        part=part,
        bad=np.arange(len(w)) % 13 == 5,
        y_cls=y,
        logit=logit,
        score=expit(logit),
    )


def predictions(fold: str, rng: np.random.Generator) -> pd.DataFrame:
    """Test: the fold's case. Validation: the next case, with logits 4x as large (so that the
    validation rows give a clearly different temperature and reliability)."""
    val_case = FOLDS[(FOLDS.index(fold) + 1) % len(FOLDS)]
    return pd.concat(
        [windows_of(val_case, "val", rng, 4.0), windows_of(fold, "test", rng, 1.0)],
        ignore_index=True,
    )


def alarms_of(fold: str) -> pd.DataFrame:
    """Test alarms at two targets: at 0.5, 2 true, 3 false, 1 excluded; at 0.1, 1 false."""
    kinds = {
        0.5: [
            (2500.0, "true"),
            (2900.0, "true"),
            (600.0, "false"),
            (2000.0, "false"),
            (6000.0, "false"),
            (3050.0, "excluded"),
        ],
        0.1: [(1000.0, "false")],
    }
    return pd.DataFrame(
        [
            {"case": fold, "segment": 0, "time_sec": t, "kind": k, "target_fah": target}
            for target, rows in kinds.items()
            for t, k in rows
        ]
    )


# Caught at 0.5 in p02 and p03 (warning 5 and 8 min), not in p01; all caught at 0.1 (ignored).
CAUGHT = {"p01": None, "p02": 300.0, "p03": 480.0}


def seizures_of(fold: str, model: str) -> pd.DataFrame:
    rows = []
    for target in TARGETS:
        ttw = CAUGHT[fold] if target == 0.5 else 100.0
        if model == "mlp" and target == 0.5:
            ttw = 60.0  # mlp catches every seizure, 1 minute ahead
        rows.append(
            {
                "case": fold,
                "segment": 0,
                "seizure": 0,
                "onset_sec": ONSET,
                "scored": True,
                "excluded_reason": "",
                "caught": ttw is not None,
                "first_true_alarm_sec": ONSET - ttw if ttw else np.nan,
                "time_to_warning_sec": ttw if ttw else np.nan,
                "target_fah": target,
            }
        )
    return pd.DataFrame(rows)


def results_table() -> pd.DataFrame:
    rows = []
    for i, fold in enumerate(FOLDS):
        for k, model in enumerate(MODELS):
            for j, target in enumerate(TARGETS):
                base = 10 * i + 100 * k + 1000 * j
                rows.append(
                    {
                        "split": "loso",
                        "fold": fold,
                        "model": model,
                        "target_fah": target,
                        "threshold": 0.9 - 0.2 * j,
                        "flag": None,
                        "val_fah": target / 2,
                        "val_sensitivity": 1.0,
                        # p03 of logreg scores no seizure: NaN sensitivity
                        "test_sensitivity": np.nan if (fold, model) == ("p03", "logreg") else 0.5,
                        "test_fah": 0.2 * (i + 1),
                        "test_time_in_warning": 0.1,
                        "test_n_caught": 1,
                        "test_n_seizures_scored": 2,
                        "test_mean_time_to_warning_sec": 300.0,
                        "chance_sensitivity": 0.5 + 0.1 * i,
                        "chance_p": 0.01 if i != 1 else 0.3,
                        "significant": i != 1,  # p02 not significant
                        "surrogate_p": 0.05,
                        "window_tp": base + 1,
                        "window_fp": base + 2,
                        "window_fn": base + 3,
                        "window_tn": base + 4,
                        "val_auroc": 0.8,
                        "test_auroc": 0.7,
                        "skipped": None,
                        "data_source": "synthetic",
                    }
                )
    for model in MODELS:
        for target in TARGETS:
            rows.append(
                {
                    "split": "loso",
                    "fold": SKIPPED,
                    "model": model,
                    "target_fah": target,
                    "skipped": "fewer than 3 lead seizures",
                }
            )
    return pd.DataFrame(rows)


def val_curve(i: int) -> pd.DataFrame:
    t = np.linspace(0, 1, 21)
    fah = np.maximum(0.0, 2.0 * (1 - t) - 0.2 * i)  # reaches 0: drawn at the floor
    return pd.DataFrame(
        {
            "threshold": t,
            "fah": fah,
            "sensitivity": np.clip(1.2 - t, 0, 1),
            "time_in_warning": 0.5 * (1 - t),
            "n_alarms": np.round(10 * (1 - t)),
        }
    )


def train_curve(i: int) -> pd.DataFrame:
    e = np.arange(4)
    return pd.DataFrame(
        {
            "epoch": e,
            "train_loss": 1.0 / (e + 1) + 0.1 * i,
            "val_loss": 1.2 / (e + 1) + 0.1 * i,
            "val_auroc": 0.6 + 0.05 * e + 0.01 * i,
            "val_sens_at_fah": np.minimum(0.25 * e + 0.1 * i, 1.0),
        }
    )


def lines_by_gid(ax, prefix: str) -> dict:
    return {
        line.get_gid(): line
        for line in ax.get_lines()
        if line.get_gid() and line.get_gid().startswith(prefix)
    }


def assert_png(path, min_bytes=15_000) -> None:
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        w, h = im.size
    assert 600 <= w <= 4000 and 300 <= h <= 4000, (path, w, h)
    assert path.stat().st_size > min_bytes, (path, path.stat().st_size)
