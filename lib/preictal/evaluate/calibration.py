"""Probability calibration of per-window seizure-risk predictions: temperature scaling, Brier
score and skill score, expected calibration error and the reliability table.

Which windows: labelled ones only (``y_cls`` 1 preictal, 0 interictal; -1 excluded windows carry
no label and are dropped). Artefact-flagged (``bad``) windows are kept when labelled, as in
:func:`preictal.evaluate.window_metrics.window_auroc_table`: the model scores them and an alarm sees their
scores, so calibrated probabilities must hold on them too; dropping them would calibrate a
cleaner population than the one the model is used on.

Temperature scaling (Guo et al. 2017, "On calibration of modern neural networks") divides every
logit by one scalar ``T > 0``, fitted by minimising the binary negative log-likelihood on the
VALIDATION part only; the same ``T`` is then applied to the test part. Fitting on test data would
be leakage: the test metrics would measure how well the calibration fits the test set, not how
well it generalises. :func:`fit_temperature_on_validation` refuses rows of any other part, and
:func:`calibration_report` goes through it. ``T`` is monotone in the logit, so the ranking of
windows, and with it AUROC and AUPRC, is unchanged (up to float saturation of the sigmoid for
``|logit / T|`` above about 37). Temperature scaling keeps logit 0 at probability 0.5: it cannot
correct a shift of the base rate (a model trained with class weights, or a validation part with a
different preictal fraction); that needs a bias term (Platt scaling).

Degenerate sets follow the project's rule: a metric that is undefined is NaN with a warning,
never 0; a temperature that cannot be fitted (one class, or no window) is 1.0, the identity,
with a warning.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from scipy.special import expit
from sklearn.metrics import brier_score_loss

T_BOUNDS = (0.05, 20.0)
"""Search interval of the temperature. Outside it a model is either near-constant (T > 20) or its
logits are 20 times too timid (T < 0.05); a fit at a bound is warned about."""

STRATEGIES = ("uniform", "quantile")


class LeakageError(ValueError):
    """A validation-only step was handed rows of another part (test data)."""


def _labels(y: np.ndarray, what: str) -> np.ndarray:
    y = np.asarray(y)
    if y.size and not np.isin(y, (0, 1)).all():
        raise ValueError(f"{what}: labels must be 0 or 1 (drop excluded windows, y_cls -1, first)")
    return y.astype(np.float64)


def _probabilities(p: np.ndarray, what: str) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if p.size and not (np.all(np.isfinite(p)) and p.min() >= 0 and p.max() <= 1):
        raise ValueError(f"{what}: probabilities must be finite and in [0, 1]")
    return p


def _logits(logits: np.ndarray, what: str) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    if not np.all(np.isfinite(z)):
        raise ValueError(f"{what}: logits must be finite")
    return z


def apply_temperature(logits: np.ndarray, temperature: float) -> np.ndarray:
    """Calibrated probabilities ``sigmoid(logit / T)``.

    Parameters
    ----------
    logits : array of log-odds.
    temperature : T > 0; T > 1 softens over-confident predictions, T < 1 sharpens timid ones.

    Returns
    -------
    ndarray of probabilities in [0, 1] (float64).
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    return expit(np.asarray(logits, dtype=np.float64) / temperature)


def binary_nll(y: np.ndarray, logits: np.ndarray, temperature: float = 1.0) -> float:
    """Mean binary negative log-likelihood (natural log) of ``sigmoid(logit / T)``.

    Computed from the logits as ``log(1 + exp(z)) - y z`` with ``z = logit / T``, which stays
    finite where the probability saturates to 0 or 1. Equal to
    :func:`sklearn.metrics.log_loss` of the probabilities where those do not saturate.

    Returns
    -------
    float; NaN with a warning for no window.
    """
    y = _labels(y, "binary_nll")
    z = np.asarray(logits, dtype=np.float64) / temperature
    if y.size == 0:
        warnings.warn("binary_nll: no labelled window; NLL is NaN", stacklevel=2)
        return float("nan")
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """Temperature ``T`` minimising the binary NLL of ``sigmoid(logit / T)`` (Guo et al. 2017).

    Pass VALIDATION windows only (see :func:`fit_temperature_on_validation`, which checks it).
    The search is a bounded 1-D Brent optimisation
    (:func:`scipy.optimize.minimize_scalar`, ``method="bounded"``) over ``log T`` in
    ``log(T_BOUNDS)``: the NLL is convex in ``1/T``, hence unimodal in ``log T``, so the bounded
    search finds the global minimum inside the interval. A minimum at a bound (e.g. classes
    separated perfectly, where NLL keeps falling as T goes to 0) is returned with a warning.

    Parameters
    ----------
    logits : array of log-odds of the labelled validation windows.
    y : array of their labels, 0 or 1.

    Returns
    -------
    float T > 0; 1.0 (no change) with a warning when there are no windows or one class only, for
    which the NLL has no interior minimum.
    """
    z = _logits(logits, "fit_temperature")
    y = _labels(y, "fit_temperature")
    if z.shape != y.shape:
        raise ValueError(f"fit_temperature: {z.shape} logits but {y.shape} labels")
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    if n_pos == 0 or n_neg == 0:
        warnings.warn(
            f"fit_temperature: {n_pos} positive and {n_neg} negative windows; "
            "temperature left at 1.0",
            stacklevel=2,
        )
        return 1.0

    def nll(log_t: float) -> float:
        s = z * np.exp(-log_t)
        return float(np.mean(np.logaddexp(0.0, s) - y * s))

    lo, hi = np.log(T_BOUNDS[0]), np.log(T_BOUNDS[1])
    res = minimize_scalar(nll, bounds=(lo, hi), method="bounded", options={"xatol": 1e-6})
    t = float(np.exp(res.x))
    if min(res.x - lo, hi - res.x) < 1e-3:
        warnings.warn(
            f"fit_temperature: T = {t:.3g} at the bound of {T_BOUNDS} "
            "(classes near-separable or scores near-uninformative)",
            stacklevel=2,
        )
    return t


def fit_temperature_on_validation(rows: pd.DataFrame) -> float:
    """:func:`fit_temperature` on the labelled windows of validation rows, refusing anything else.

    Parameters
    ----------
    rows : prediction rows with columns ``part``, ``y_cls`` and ``logit``; every row must have
        ``part == "val"``. Excluded windows (``y_cls == -1``) are dropped here.

    Raises
    ------
    LeakageError
        If any row belongs to another part: the temperature must never see test data. An explicit
        raise, not ``assert``, so that ``python -O`` cannot remove the guard.
    """
    parts = set(rows["part"].unique())
    if parts - {"val"}:
        raise LeakageError(
            f"temperature must be fitted on validation rows only; got parts {sorted(parts)}"
        )
    labelled = rows[rows["y_cls"].isin([0, 1])]
    if len(labelled):
        assert set(labelled["part"]) == {"val"}
    return fit_temperature(labelled["logit"].to_numpy(), labelled["y_cls"].to_numpy())


def brier(y: np.ndarray, p: np.ndarray) -> float:
    """Brier score, the mean squared error ``mean((p - y)^2)`` of probabilities (lower is better).

    :func:`sklearn.metrics.brier_score_loss` with ``pos_label=1`` (so one class is fine).
    NaN with a warning for no window.
    """
    y = _labels(y, "brier")
    p = _probabilities(p, "brier")
    if y.size == 0:
        warnings.warn("brier: no labelled window; Brier score is NaN", stacklevel=2)
        return float("nan")
    return float(brier_score_loss(y, p, pos_label=1))


def brier_skill_score(y: np.ndarray, p: np.ndarray, base_rate: float) -> float:
    """Brier skill score ``1 - Brier / Brier_ref``.

    ``Brier_ref`` is the Brier score, on the same windows, of always predicting ``base_rate``.
    ``base_rate`` must be the preictal fraction of the TRAINING windows (what a forecaster knows
    before seeing validation or test data); the fraction of the evaluated set itself would hand
    the reference the answer. 1 is perfect, 0 no better than the base rate, negative worse.

    Returns
    -------
    float; NaN with a warning for no window or ``Brier_ref == 0`` (``base_rate`` 0 or 1 and every
    label equal to it), where the skill is undefined.
    """
    if not 0 <= base_rate <= 1:
        raise ValueError(f"base_rate must be in [0, 1], got {base_rate}")
    y = _labels(y, "brier_skill_score")
    p = _probabilities(p, "brier_skill_score")
    if y.size == 0:
        warnings.warn("brier_skill_score: no labelled window; BSS is NaN", stacklevel=2)
        return float("nan")
    ref = float(brier_score_loss(y, np.full(y.shape, float(base_rate)), pos_label=1))
    if ref == 0:
        warnings.warn(
            f"brier_skill_score: the base rate {base_rate} predicts every label exactly; "
            "BSS is NaN",
            stacklevel=2,
        )
        return float("nan")
    return 1.0 - float(brier_score_loss(y, p, pos_label=1)) / ref


def _bin_edges(p: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    if strategy == "uniform":
        return np.linspace(0.0, 1.0, n_bins + 1)
    if strategy == "quantile":
        return np.percentile(p, np.linspace(0, 1, n_bins + 1) * 100)
    raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")


def reliability_table(
    y: np.ndarray, p: np.ndarray, n_bins: int = 15, strategy: str = "uniform"
) -> pd.DataFrame:
    """Reliability table: per probability bin, the mean predicted probability and the observed
    preictal fraction.

    Bins follow :func:`sklearn.calibration.calibration_curve` exactly: ``uniform`` splits [0, 1]
    into ``n_bins`` equal bins, ``quantile`` puts edges at quantiles of ``p``; a probability on an
    inner edge falls in the lower bin, i.e. bins are ``(lower, upper]`` and the first one also
    holds ``lower`` itself.

    Returns
    -------
    DataFrame with one row per bin, empty bins included (``n`` 0, means NaN): ``bin``, ``lower``,
    ``upper``, ``n``, ``mean_predicted``, ``observed_fraction``. No rows (with a warning) for no
    window.
    """
    y = _labels(y, "reliability_table")
    p = _probabilities(p, "reliability_table")
    if y.shape != p.shape:
        raise ValueError(f"reliability_table: {y.shape} labels but {p.shape} probabilities")
    columns = ["bin", "lower", "upper", "n", "mean_predicted", "observed_fraction"]
    if y.size == 0:
        warnings.warn("reliability_table: no labelled window; empty table", stacklevel=2)
        return pd.DataFrame(columns=columns)
    edges = _bin_edges(p, n_bins, strategy)
    ids = np.searchsorted(edges[1:-1], p)  # side="left": an inner edge belongs to the lower bin
    n = np.bincount(ids, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.bincount(ids, weights=p, minlength=n_bins) / n
        obs = np.bincount(ids, weights=y, minlength=n_bins) / n
    return pd.DataFrame(
        {
            "bin": np.arange(n_bins),
            "lower": edges[:-1],
            "upper": edges[1:],
            "n": n,
            "mean_predicted": mean_p,
            "observed_fraction": obs,
        },
        columns=columns,
    )


def expected_calibration_error(
    y: np.ndarray, p: np.ndarray, n_bins: int = 15, strategy: str = "uniform"
) -> float:
    """Expected calibration error ``sum_b (n_b / N) |observed_fraction_b - mean_predicted_b|``
    over the non-empty bins of :func:`reliability_table` (same ``n_bins`` and ``strategy``).

    ECE depends on the binning: with rare preictal windows most of them sit in the lowest bins,
    so read it together with the Brier score, which needs no bins.

    Returns
    -------
    float in [0, 1]; NaN with a warning for no window.
    """
    y = _labels(y, "expected_calibration_error")
    if y.size == 0:
        warnings.warn("expected_calibration_error: no labelled window; ECE is NaN", stacklevel=2)
        return float("nan")
    table = reliability_table(y, p, n_bins=n_bins, strategy=strategy)
    table = table[table.n > 0]
    gap = (table.observed_fraction - table.mean_predicted).abs().to_numpy()
    return float(np.sum(table.n.to_numpy() / y.size * gap))


def calibration_report(
    pred: pd.DataFrame, base_rate: float, n_bins: int = 15, strategy: str = "uniform"
) -> pd.DataFrame:
    """Calibration of one fold's predictions before and after temperature scaling.

    The temperature is fitted on the labelled validation windows only (through
    :func:`fit_temperature_on_validation`, which raises on any other part) and applied unchanged
    to the test windows. Probabilities are ``sigmoid(logit / T)`` in both rows, ``T = 1`` for
    ``none``: that equals the ``score`` column for the baselines and the fusion net's score
    clipped to [1e-7, 1 - 1e-7], and makes the two rows differ only by ``T``.

    Parameters
    ----------
    pred : one fold's ``predictions.parquet`` (columns ``part``, ``y_cls``, ``logit``; ``bad``
        optional). Excluded windows are dropped; bad windows are kept when labelled.
    base_rate : preictal fraction of the fold's TRAINING windows, the reference of the Brier skill
        score (never the validation or test fraction).
    n_bins, strategy : binning of the ECE (:func:`expected_calibration_error`).

    Returns
    -------
    DataFrame with rows ``part`` in (val, test) x ``scaling`` in (none, temperature) and columns
    ``part``, ``scaling``, ``n``, ``n_pos``, ``n_bad``, ``observed_rate``, ``base_rate``,
    ``brier``, ``bss``, ``ece``, ``nll``, ``temperature`` (1.0 for ``none``). Metrics of an empty
    part are NaN with a warning; a temperature that cannot be fitted is 1.0 with a warning.
    """
    labelled = pred[pred["y_cls"].isin([0, 1])]
    by_part = {part: labelled[labelled["part"] == part] for part in ("val", "test")}
    t_fit = fit_temperature_on_validation(by_part["val"])
    rows = []
    for part, rows_part in by_part.items():
        y = rows_part["y_cls"].to_numpy().astype(np.float64)
        z = rows_part["logit"].to_numpy().astype(np.float64)
        n_bad = int(rows_part["bad"].astype(bool).sum()) if "bad" in rows_part else 0
        for scaling, t in (("none", 1.0), ("temperature", t_fit)):
            p = apply_temperature(z, t)
            rows.append(
                {
                    "part": part,
                    "scaling": scaling,
                    "n": len(y),
                    "n_pos": int((y == 1).sum()),
                    "n_bad": n_bad,
                    "observed_rate": float(y.mean()) if len(y) else float("nan"),
                    "base_rate": float(base_rate),
                    "brier": brier(y, p),
                    "bss": brier_skill_score(y, p, base_rate),
                    "ece": expected_calibration_error(y, p, n_bins=n_bins, strategy=strategy),
                    "nll": binary_nll(y, z, t),
                    "temperature": t,
                }
            )
    return pd.DataFrame(rows)
