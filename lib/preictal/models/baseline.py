"""Feature baselines: logistic regression (standardised features), a small MLP (scikit-learn) and
XGBoost (``hist``, ``scale_pos_weight`` from the training set), on the feature table only.

Training uses the labelled (preictal or interictal), non-bad windows of the training part;
interictal windows may be subsampled (``interictal_ratio`` per preictal window, seeded).
Validation and test are never subsampled: every window of those parts, bad and excluded ones
included, gets a risk score. Models are saved as JSON (no pickles), so that the app and later
stages can read them safely.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from preictal.io import write_json

log = logging.getLogger(__name__)

BASELINES = ("logreg", "mlp", "xgboost")


@dataclass(frozen=True)
class BaselineParams:
    interictal_ratio: float = 4.0  # training interictal windows per preictal window; 0 keeps all
    exclude_bad: bool = True  # leave bad windows out of training (they are still scored)
    seed: int = 20261125
    logreg: dict = field(default_factory=lambda: {"C": 1.0})
    mlp: dict = field(
        default_factory=lambda: {"hidden_layer_sizes": [64, 32], "alpha": 1e-3, "max_iter": 200}
    )
    xgboost: dict = field(
        default_factory=lambda: {"n_estimators": 200, "max_depth": 4, "learning_rate": 0.05}
    )


def training_rows(
    y: np.ndarray, bad: np.ndarray, params: BaselineParams, rng: np.random.Generator
) -> np.ndarray:
    """Indices of the training windows: labelled, not bad (if so configured), interictal ones
    subsampled to ``interictal_ratio`` per preictal window. Sorted, so order does not depend on
    the draw."""
    keep = (y == 0) | (y == 1)
    if params.exclude_bad:
        keep &= ~bad
    pos = np.flatnonzero(keep & (y == 1))
    neg = np.flatnonzero(keep & (y == 0))
    if params.interictal_ratio > 0 and len(pos) and len(neg) > params.interictal_ratio * len(pos):
        neg = rng.choice(neg, size=int(params.interictal_ratio * len(pos)), replace=False)
    return np.sort(np.concatenate([pos, neg]))


class Standardiser:
    def __init__(self, mean: np.ndarray, scale: np.ndarray) -> None:
        self.mean, self.scale = mean, scale

    @classmethod
    def fit(cls, X: np.ndarray) -> Standardiser:
        scale = X.std(axis=0)
        return cls(X.mean(axis=0), np.where(scale > 0, scale, 1.0))

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return (X - self.mean) / self.scale


def fit_baseline(name: str, X: np.ndarray, y: np.ndarray, params: BaselineParams) -> dict:
    """Fit one baseline; returns a JSON-serialisable model description."""
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; choose from {BASELINES}")
    if len(np.unique(y)) < 2:
        raise ValueError(f"{name}: training set has one class only ({len(y)} windows)")
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    std = Standardiser.fit(X)
    model = {"kind": name, "mean": std.mean.tolist(), "scale": std.scale.tolist()}
    if name == "logreg":
        from sklearn.linear_model import LogisticRegression

        clf = LogisticRegression(class_weight="balanced", max_iter=2000, **params.logreg)
        clf.fit(std(X), y)
        model.update(coef=clf.coef_[0].tolist(), intercept=float(clf.intercept_[0]))
    elif name == "mlp":
        from sklearn.neural_network import MLPClassifier

        kw = {**params.mlp, "hidden_layer_sizes": tuple(params.mlp["hidden_layer_sizes"])}
        clf = MLPClassifier(random_state=params.seed % 2**31, **kw)
        clf.fit(std(X), y)
        model.update(
            weights=[w.tolist() for w in clf.coefs_], biases=[b.tolist() for b in clf.intercepts_]
        )
    else:
        import xgboost as xgb

        clf = xgb.XGBClassifier(
            tree_method="hist",
            scale_pos_weight=n_neg / n_pos,
            random_state=params.seed % 2**31,
            n_jobs=1,
            **params.xgboost,
        )
        clf.fit(X, y)
        model.update(booster=json.loads(clf.get_booster().save_raw("json").decode()))
    model.update(n_pos=n_pos, n_neg=n_neg)
    return model


def predict_logit(model: dict, X: np.ndarray) -> np.ndarray:
    """Log-odds of the preictal class for the rows of ``X``."""
    z = Standardiser(np.asarray(model["mean"]), np.asarray(model["scale"]))(X)
    if model["kind"] == "logreg":
        return z @ np.asarray(model["coef"]) + model["intercept"]
    if model["kind"] == "mlp":
        h = z
        layers = list(zip(model["weights"], model["biases"], strict=True))
        for w, b in layers[:-1]:
            h = np.maximum(h @ np.asarray(w) + np.asarray(b), 0.0)
        w, b = layers[-1]
        return (h @ np.asarray(w) + np.asarray(b))[:, 0]
    import xgboost as xgb

    booster = xgb.Booster()
    booster.load_model(bytearray(json.dumps(model["booster"]).encode()))
    return booster.predict(xgb.DMatrix(X), output_margin=True)


def train_baseline_fold(
    name: str,
    split: pd.DataFrame,
    cases: dict[str, dict[str, pd.DataFrame]],
    params: BaselineParams,
    *,
    fold_seed: int,
) -> tuple[dict, pd.DataFrame]:
    """Fit ``name`` on the training part of ``split`` and score every validation and test window.

    ``cases`` maps case -> {"windows", "labels", "features"} tables (aligned on ``window``).
    Returns the model and the predictions (one row per validation/test window)."""
    from preictal.splits import fold_table

    table, X = fold_table(split, cases)
    train = np.flatnonzero(table.part.to_numpy() == "train")
    rng = np.random.default_rng(fold_seed)
    pick = train[
        training_rows(table.y_cls.to_numpy()[train], table.bad.to_numpy()[train], params, rng)
    ]
    y_pick = table.y_cls.to_numpy()[pick]
    if len(np.unique(y_pick)) < 2:
        from preictal.splits import SplitSkipped

        raise SplitSkipped(
            f"the training part has {int((y_pick == 1).sum())} preictal and "
            f"{int((y_pick == 0).sum())} interictal windows: one class only"
        )
    model = fit_baseline(name, X[pick], y_pick, params)
    model["n_train_windows"] = len(pick)
    scored = np.flatnonzero(table.part.isin(["val", "test"]).to_numpy())
    logit = predict_logit(model, X[scored]).astype(np.float64)
    preds = table.iloc[scored].reset_index(drop=True)
    preds["logit"] = logit
    with np.errstate(over="ignore"):  # exp overflows to inf for very negative logits: score 0
        preds["score"] = 1.0 / (1.0 + np.exp(-logit))
    log.info(
        "%s: trained on %d windows (%d preictal), scored %d validation/test windows",
        name,
        len(pick),
        model["n_pos"],
        len(preds),
    )
    return model, preds


def save_model(model: dict, path: str | Path, params: BaselineParams) -> None:
    write_json(path, {"params": asdict(params), "model": model})


@dataclass
class BaselineTrainer:
    """The trainer of a feature baseline (``logreg``, ``mlp`` or ``xgboost``) for
    :func:`preictal.models.runner.run_train_model`."""

    name: str
    params: BaselineParams

    def fit(self, split: pd.DataFrame, tables: dict, seed: int):
        from preictal.models.runner import Fitted

        model, preds = train_baseline_fold(self.name, split, tables, self.params, fold_seed=seed)
        return Fitted(model=model, info=model, predictions=preds)

    def save(self, model: dict, path: str | Path) -> None:
        save_model(model, path, self.params)
