"""Chance-level tests of alarm performance: is a sensitivity better than alarms raised at random?

Terms as in ``metrics.py`` (docs/EVALUATION.md): SPH = ``gap_sec``, SOP = ``preictal_min * 60 -
gap_sec``; a seizure is caught when an alarm lies in [onset - SPH - SOP, onset - SPH], i.e. when its
onset lies under a warning [t + SPH, t + SPH + SOP]; FAH is false alarms per interictal hour and time
in warning the share of recorded time under a warning.

- **Random predictor** (Schelter et al. 2006): alarms as a Poisson process at the predictor's FAH.
  It catches a seizure with probability p = 1 - exp(-FAH * SOP), independently from seizure to
  seizure, so the number caught out of K is Binomial(K, p). ``random_predictor_p``,
  ``binomial_p_value``, ``chance_p_value``, ``chance_sensitivity``, ``patient_chance_test``; the
  d-correction P_d = 1 - (1 - P)^d accounts for d independent choices made on validation. The
  power of that test for a predictor of a given sensitivity: ``patient_test_power``,
  ``patients_significant_power``.
- **Improvement over chance** (Snyder et al. 2008): a predictor that is blind to the seizures but
  keeps the patient under warning a fraction rho of the time catches a seizure with probability rho,
  so S - rho is what the predictor adds. ``improvement_over_chance``.
- **Cohort**: the total caught over patients with different chance probabilities follows a
  Poisson-binomial distribution, computed exactly. ``poisson_binomial_pmf``, ``cohort_chance_test``.
- **Seizure-time surrogates** (Andrzejak et al. 2003): the same alarms scored against seizure times
  moved at random, keeping the number of seizures, their durations and the intervals between them.
  ``surrogate_seizure_times``, ``surrogate_p_value``.

References:

- Andrzejak RG, Mormann F, Kreuz T, Rieke C, Kraskov A, Elger CE, Lehnertz K (2003). Testing the
  null hypothesis of the nonexistence of a preseizure state. *Phys Rev E* 67:010901.
- Schelter B, Winterhalder M, Maiwald T, Brandt A, Schad A, Schulze-Bonhage A, Timmer J (2006).
  Testing statistical significance of multivariate time series analysis techniques for epileptic
  seizure prediction. *Chaos* 16:013108.
- Snyder DE, Echauz J, Grimes DB, Litt B (2008). The statistics of a practical seizure warning
  system. *J Neural Eng* 5(4):392-401.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from preictal.alarms.scoring import SECONDS_PER_HOUR, Coverage, merge_intervals
from preictal.labels import LabelParams

# --- Random predictor (Schelter et al. 2006) -----------------------------------------------------


def random_predictor_p(fah_per_hour, sop_sec: float):
    """Probability that a Poisson random predictor raising ``fah_per_hour`` alarms per hour raises
    at least one in a window of ``sop_sec`` seconds: p = 1 - exp(-FAH * SOP) (Schelter et al. 2006).

    The window in which an alarm catches a seizure, [onset - SPH - SOP, onset - SPH], lasts SOP, so
    this is the chance of catching a given seizure. A NaN FAH (no interictal time) gives NaN. Works
    elementwise on arrays; a scalar gives a float.

    For alarms with a refractory period of at least SOP (the default 20 min > 570 s) a window holds
    at most one alarm and the exact chance is FAH * SOP, a little higher; the Poisson form is the
    convention of the literature and the two agree to first order for FAH * SOP << 1."""
    fah = np.asarray(fah_per_hour, dtype=float)
    if np.any(fah < 0) or sop_sec < 0:
        raise ValueError("random_predictor_p: FAH and SOP must be non-negative")
    # -expm1(-x) = 1 - exp(-x) without cancellation for small x.
    p = -np.expm1(-fah * (sop_sec / SECONDS_PER_HOUR))
    return float(p) if p.ndim == 0 else p


def _count(x, name: str) -> int:
    """A count given as an int or an integral float (counts summed in pandas can be floats)."""
    if not float(x).is_integer() or x < 0:
        raise ValueError(f"{name} must be a non-negative integer, not {x!r}")
    return int(x)


def _d_corrected(p_value, d: int):
    """P_d = 1 - (1 - P)^d: the chance that the best of d independent tries reaches P. Computed as
    -expm1(d * log1p(-P)) so that small P are not lost to rounding."""
    if d < 1:
        raise ValueError(f"d must be at least 1, not {d!r}")
    with np.errstate(divide="ignore"):  # P = 1 gives log1p(-1) = -inf and P_d = 1, as it should
        return -np.expm1(d * np.log1p(-np.asarray(p_value, dtype=float)))


def binomial_p_value(n_caught, n_seizures, p_chance: float, d: int = 1) -> float:
    """P(at least ``n_caught`` of ``n_seizures`` seizures caught by chance) when each is caught
    independently with probability ``p_chance``: sum over j >= k of C(K, j) p^j (1 - p)^(K - j),
    d-corrected: P_d = 1 - (1 - P)^d (Schelter et al. 2006).

    ``d`` is the number of independent parameter choices made on validation (FAH targets times
    post-processing variants): picking the best of d tries inflates the chance of a good result.
    NaN when there is no seizure (K = 0) or ``p_chance`` is NaN. With ``p_chance`` from
    ``random_predictor_p`` this is ``chance_p_value``; with the time in warning as ``p_chance`` it
    tests against the random predictor matched in time in warning (Snyder et al. 2008)."""
    k, n = _count(n_caught, "n_caught"), _count(n_seizures, "n_seizures")
    if k > n:
        raise ValueError(f"n_caught ({k}) exceeds n_seizures ({n})")
    if n == 0 or not np.isfinite(p_chance):
        return np.nan
    # sf(k - 1) = P(X > k - 1) = P(X >= k), summed by scipy without the 1 - cdf cancellation.
    return float(_d_corrected(stats.binom.sf(k - 1, n, p_chance), d))


def chance_p_value(n_caught, n_seizures, fah: float, sop_sec: float, d: int = 1) -> float:
    """P-value of catching ``n_caught`` of ``n_seizures`` seizures against the random predictor
    with the same FAH (Schelter et al. 2006): ``binomial_p_value`` with p = 1 - exp(-FAH * SOP),
    d-corrected. NaN without seizures or with a NaN FAH. FAH = 0 gives p = 0: any catch has
    p-value 0, none has 1."""
    return binomial_p_value(n_caught, n_seizures, random_predictor_p(fah, sop_sec), d)


def _critical_count(n_seizures: int, p_chance: float, alpha: float, d: int) -> int | None:
    """The smallest k with d-corrected P(X >= k) <= alpha, or None if even k = K is not enough."""
    ks = np.arange(n_seizures + 1)
    tails = _d_corrected(stats.binom.sf(ks - 1, n_seizures, p_chance), d)  # decreasing in k
    hits = np.flatnonzero(tails <= alpha)
    return int(hits[0]) if hits.size else None


def _patient_critical_count(
    n_seizures, fah: float, sop_sec: float, alpha: float, d: int
) -> tuple[int, int | None]:
    """(K, the critical count of ``_critical_count``) for a patient's K seizures against the
    random predictor with this FAH; K is 0 where no test is possible (no seizures, a NaN FAH)."""
    n = _count(n_seizures, "n_seizures")
    p = random_predictor_p(fah, sop_sec)
    if n == 0 or not np.isfinite(p):
        return 0, None
    return n, _critical_count(n, p, alpha, d)


def chance_sensitivity(
    n_seizures, fah: float, sop_sec: float, alpha: float = 0.05, d: int = 1
) -> float:
    """The critical sensitivity at ``alpha``: the smallest fraction k / K of the patient's K seizures
    that a predictor with this FAH must catch for the d-corrected chance p-value (``chance_p_value``)
    to be at most ``alpha``. A sensitivity at or above it is significant, one below it is not.

    Being a quantile of a discrete distribution, it moves in steps of 1 / K, and the test it
    defines has size at most ``alpha``. NaN without seizures, with a NaN FAH, or when even catching
    all K seizures is not significant (e.g. K = 1 and p > alpha): then no sensitivity is."""
    n, k = _patient_critical_count(n_seizures, fah, sop_sec, alpha, d)
    return np.nan if n == 0 or k is None else k / n


def patient_chance_test(
    n_caught, n_seizures, fah: float, sop_sec: float, alpha: float = 0.05, d: int = 1
) -> dict:
    """One patient's test against the random predictor: ``sensitivity`` (n_caught / K),
    ``p_chance`` (its per-seizure chance, ``random_predictor_p``), ``chance_sensitivity`` (the
    critical sensitivity at ``alpha``), ``p_value`` (d-corrected, ``chance_p_value``) and
    ``significant`` (p_value <= alpha). Without seizures (K = 0) or FAH the numbers are NaN and the
    patient is not significant; with FAH = 0 the chance is 0 and any catch is significant."""
    n = _count(n_seizures, "n_seizures")
    p_value = chance_p_value(n_caught, n, fah, sop_sec, d)
    return {
        "sensitivity": _count(n_caught, "n_caught") / n if n else np.nan,
        "p_chance": random_predictor_p(fah, sop_sec),
        "chance_sensitivity": chance_sensitivity(n, fah, sop_sec, alpha, d),
        "p_value": p_value,
        "significant": bool(p_value <= alpha),  # False for NaN
    }


def patient_test_power(
    n_seizures: int,
    sensitivity: float,
    fah: float,
    sop_sec: float,
    alpha: float = 0.05,
    d: int = 1,
) -> float:
    """The power of ``patient_chance_test``: the probability that a predictor catching each of the
    patient's K seizures independently with probability ``sensitivity`` (at false-alarm rate
    ``fah``) is significant, i.e. catches at least the critical count k of ``chance_sensitivity``:
    P(Binomial(K, sensitivity) >= k). 0 when no count is significant; NaN without seizures.

    It says how many patients a predictor of a given sensitivity can be expected to have
    significant, which with a handful of seizures per patient is few (docs/EVALUATION.md)."""
    if not 0 <= sensitivity <= 1:
        raise ValueError(f"sensitivity must lie in [0, 1], not {sensitivity!r}")
    n, k = _patient_critical_count(n_seizures, fah, sop_sec, alpha, d)
    if n == 0:
        return np.nan
    return 0.0 if k is None else float(stats.binom.sf(k - 1, n, sensitivity))


def patients_significant_power(
    n_seizures, sensitivity: float, fah: float, sop_sec: float, alpha: float = 0.05, d: int = 1
) -> dict:
    """For patients with ``n_seizures[i]`` seizures each and a predictor of the same
    ``sensitivity`` and ``fah`` in all of them: each patient's ``patient_test_power``, the
    ``expected`` number significant (their sum) and ``p_most``, the probability that more than
    half of them are (the count is Poisson-binomial). Patients without seizures are left out."""
    seizures = [_count(k, "n_seizures") for k in np.asarray(n_seizures).ravel()]
    powers = np.array(
        [patient_test_power(k, sensitivity, fah, sop_sec, alpha, d) for k in seizures if k > 0]
    )
    most = powers.size // 2 + 1
    return {
        "powers": powers,
        "expected": float(powers.sum()),
        "p_most": _poisson_binomial_tail(powers, most) if powers.size else np.nan,
    }


# --- Improvement over chance (Snyder et al. 2008) -------------------------------------------------


def improvement_over_chance(sensitivity, time_in_warning):
    """Sensitivity minus the sensitivity of a random predictor with the same time in warning
    (Snyder et al. 2008): IoC = S - rho.

    Why rho is the chance sensitivity: a seizure is caught exactly when its onset lies under a
    warning (an alarm in [onset - SPH - SOP, onset - SPH] is the same as the onset in
    [t + SPH, t + SPH + SOP]). A predictor blind to the seizures places its warnings independently
    of the onsets, so an onset falls under a warning with probability equal to the share of time
    in warning, rho, and its expected sensitivity is rho, whatever its FAH. Matching on time in
    warning rather than on FAH credits neither many alarms nor long warnings: a predictor that
    warns all the time catches everything and has IoC = 0. For Poisson alarms rho = 1 - exp(-FAH *
    SOP), the chance of ``random_predictor_p``.

    Elementwise on arrays; NaN in either gives NaN (no seizure scored, no recorded time)."""
    ioc = np.asarray(sensitivity, dtype=float) - np.asarray(time_in_warning, dtype=float)
    return float(ioc) if ioc.ndim == 0 else ioc


# --- Cohort: Poisson-binomial ----------------------------------------------------------------------


def poisson_binomial_pmf(probs) -> np.ndarray:
    """P(X = j), j = 0..n, for X the sum of independent Bernoulli(probs[i]) (the Poisson-binomial
    distribution), by dynamic programming over the trials: after trial i,
    P_i(j) = P_{i-1}(j) (1 - p_i) + P_{i-1}(j - 1) p_i.

    Each step is a convex combination of non-negative numbers, so there is no cancellation and the
    result is exact to float64 rounding (unlike characteristic-function formulas); O(n^2), which is
    nothing for the few hundred seizures of a cohort."""
    probs = np.asarray(probs, dtype=float).ravel()
    if np.any(~np.isfinite(probs)) or np.any((probs < 0) | (probs > 1)):
        raise ValueError("poisson_binomial_pmf: probabilities must lie in [0, 1]")
    pmf = np.zeros(probs.size + 1)
    pmf[0] = 1.0
    for i, p in enumerate(probs):
        # The right-hand side is evaluated before the assignment, so this uses the old values.
        pmf[1 : i + 2] = pmf[1 : i + 2] * (1 - p) + pmf[: i + 1] * p
        pmf[0] *= 1 - p
    return pmf


def _poisson_binomial_tail(probs, k: int) -> float:
    """P(X >= k), summing the upper tail (not 1 - cdf, which loses small p-values)."""
    return float(min(1.0, poisson_binomial_pmf(probs)[k:].sum())) if k > 0 else 1.0


def cohort_chance_test(n_caught, n_seizures, p_chance, alpha: float = 0.05, d: int = 1) -> dict:
    """Chance tests over patients: ``n_caught[i]`` of ``n_seizures[i]`` seizures caught by patient
    i, whose predictor catches a seizure by chance with probability ``p_chance[i]`` (e.g.
    ``random_predictor_p`` of its FAH, or its time in warning).

    Returns

    - ``p_value``: P(X >= N) for N the total caught and X the sum of independent Bernoulli(p_i),
      K_i of them per patient (Poisson-binomial, exact), d-corrected: the cohort caught more than
      chance would. ``expected_caught`` = sum K_i p_i is its mean under chance.
    - ``n_significant``: patients whose own ``binomial_p_value`` (d-corrected) is <= ``alpha``,
      with their ``patient_p_values``.
    - ``p_value_n_significant``: P(at least that many patients significant by chance). Each patient
      is significant by chance with probability a_i = its test's exact size, the tail at its
      critical count (<= alpha, and 0 when no count is significant, e.g. one seizure with
      p > alpha), so the count is again Poisson-binomial. Using alpha for every patient instead
      (``binom.sf(m - 1, P, alpha)``) is the conservative simplification; this value is at most
      that one.

    Patients without seizures carry no information and are left out (their p_chance may be NaN);
    the others need a p_chance in [0, 1]. ``d`` is applied to each test as in ``binomial_p_value``,
    assuming the same d choices were made for all patients. With no patient left the p-values are
    NaN."""
    caught = np.asarray(n_caught, dtype=float).ravel()
    seizures = np.asarray(n_seizures, dtype=float).ravel()
    p = np.asarray(p_chance, dtype=float).ravel()
    if not caught.size == seizures.size == p.size:
        raise ValueError("cohort_chance_test: n_caught, n_seizures and p_chance differ in length")
    if np.any(np.isnan(seizures)):
        raise ValueError("cohort_chance_test: n_seizures must be known for every patient")
    keep = seizures > 0
    caught = np.array([_count(x, "n_caught") for x in caught[keep]], dtype=int)
    seizures = np.array([_count(x, "n_seizures") for x in seizures[keep]], dtype=int)
    p = p[keep]
    if np.any(caught > seizures):
        raise ValueError("cohort_chance_test: n_caught exceeds n_seizures")
    if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError(
            "cohort_chance_test: p_chance must lie in [0, 1] for patients with seizures"
        )

    patient_p = np.array(
        [binomial_p_value(n, k, q, d) for n, k, q in zip(caught, seizures, p, strict=True)]
    )
    significant = patient_p <= alpha
    sizes = []
    for k, q in zip(seizures, p, strict=True):
        c = _critical_count(k, q, alpha, d)
        sizes.append(0.0 if c is None else float(_d_corrected(stats.binom.sf(c - 1, k, q), d)))

    n_patients = int(keep.sum())
    total = int(caught.sum())
    empty = n_patients == 0
    return {
        "n_patients": n_patients,
        "n_seizures": int(seizures.sum()),
        "n_caught": total,
        "expected_caught": float((seizures * p).sum()),
        "p_value": np.nan
        if empty
        else float(_d_corrected(_poisson_binomial_tail(np.repeat(p, seizures), total), d)),
        "n_significant": int(significant.sum()),
        "p_value_n_significant": np.nan
        if empty
        else _poisson_binomial_tail(sizes, int(significant.sum())),
        "patient_p_values": patient_p,
    }


# --- Seizure-time surrogates (Andrzejak et al. 2003) ----------------------------------------------


def surrogate_p_value(observed: float, surrogate_values) -> float:
    """(1 + #{surrogates >= observed}) / (N + 1): the rank p-value of ``observed`` among N
    surrogate values, counting the observation itself (so it is never 0; with 19 surrogates the
    smallest is 0.05). Larger is better; pass negated values for a quantity like FAH.

    NaN surrogate values (e.g. a sensitivity where a surrogate left no seizure scored in the part)
    are left out, so N counts only the surrogates where the statistic is defined; NaN when
    ``observed`` is NaN or no surrogate value is left."""
    values = np.asarray(surrogate_values, dtype=float).ravel()
    values = values[~np.isnan(values)]
    if np.isnan(observed) or values.size == 0:
        return np.nan
    return (1 + int((values >= observed).sum())) / (values.size + 1)


def _with_timeline(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Case and segment of each row (one timeline, case '' segment 0, where the columns are
    absent), as in ``metrics.py``."""
    case = (
        frame.case.astype(str).to_numpy(dtype=object)
        if "case" in frame
        else np.full(len(frame), "", dtype=object)
    )
    segment = (
        frame.segment.to_numpy(dtype=np.int64) if "segment" in frame else np.zeros(len(frame), int)
    )
    return case, segment


class _RecordedAxis:
    """The recorded time of one patient laid end to end: its timelines in (case, segment) order,
    each one's recorded intervals in time order, gaps removed. Position u on the axis is the
    recorded seconds before that instant."""

    def __init__(self, timelines: list[tuple[str, int]], coverages: Mapping):
        self.coverage = {key: coverages[key] for key in timelines}
        self.offset, parts, at = {}, [], 0.0
        for key in timelines:
            cov = self.coverage[key]
            self.offset[key] = at
            lengths = cov.ends - cov.starts
            parts.append((key, cov.starts, at + np.concatenate([[0.0], np.cumsum(lengths)[:-1]])))
            at += cov.total
        self.total = at
        self.keys = [key for key, starts, _ in parts for _ in starts]
        self.starts = np.concatenate([s for _, s, _ in parts]) if parts else np.zeros(0)
        self.axis_starts = np.concatenate([a for _, _, a in parts]) if parts else np.zeros(0)

    def contains(self, key, t: float) -> bool:
        return key in self.coverage and bool(self.coverage[key].contains(np.array([t]))[0])

    def position(self, key, t: float) -> float:
        return self.offset[key] + float(self.coverage[key].measure(-np.inf, t))

    def recorded_length(self, key, lo: float, hi: float) -> float:
        return float(self.coverage[key].measure(lo, hi))

    def timeline_point(self, u: np.ndarray) -> tuple[list, np.ndarray]:
        """(case, segment) and time of axis positions; a position where one interval ends and the
        next starts goes to the later one, the end of the axis to the last interval's end."""
        j = np.clip(np.searchsorted(self.axis_starts, u, side="right") - 1, 0, None)
        return [self.keys[i] for i in j], self.starts[j] + (u - self.axis_starts[j])


def _permuted_positions(
    u: np.ndarray, lengths: np.ndarray, total: float, order: np.ndarray
) -> np.ndarray:
    """New start positions of seizures at ``u`` (sorted) occupying ``lengths`` of the axis
    [0, total], after reordering the K + 1 seizure-free intervals (before the first, between
    successive ones, after the last) by ``order``. Seizures keep their order and lengths."""
    free = np.concatenate([u, [total]]) - np.concatenate([[0.0], u + lengths])
    if np.any(free < -1e-6):
        raise ValueError("surrogate_seizure_times: seizures overlap on the recorded time")
    free = np.maximum(free, 0.0)[order]
    # Start k = free time before it + the lengths of the seizures before it.
    return np.cumsum(free[:-1]) + np.concatenate([[0.0], np.cumsum(lengths[:-1])])


def _groups(seizures: pd.DataFrame, recorded: pd.DataFrame, cases_sz, cases_rec):
    """The group (patient, or case where no patient is known) of each seizure and recorded row."""
    patient = {}
    for frame, cases in ((recorded, cases_rec), (seizures, cases_sz)):
        if "patient" in frame:
            patient.update(zip(cases, frame.patient.astype(str), strict=True))

    def group(case):
        return ("patient", patient[case]) if case in patient else ("case", case)

    return [group(c) for c in cases_sz], [group(c) for c in cases_rec]


def _ledger_flags(
    out: pd.DataFrame, case, segment, coverages: Mapping, params: LabelParams
) -> None:
    """Recompute in place the ledger columns that depend on seizure times, with the rules of
    ``labels.seizure_ledger``: lead (no seizure of the same timeline ended within ``lead_min``
    before the onset), the recorded share of the preictal period [onset - preictal_min * 60,
    onset - gap_sec] over SOP, scorable (lead and that share >= ``min_preictal_recorded``). Only
    columns the ledger has are written."""
    onset = out.onset_sec.to_numpy(dtype=float)
    end = out.end_sec.to_numpy(dtype=float)
    sop = params.sop_sec
    since = np.full(len(out), np.inf)
    recorded = np.zeros(len(out))
    for key in set(zip(case, segment, strict=True)):
        rows = np.flatnonzero((case == key[0]) & (segment == key[1]))
        for i in rows:
            before = rows[onset[rows] < onset[i]]
            if before.size:
                since[i] = onset[i] - end[before].max()
        if key in coverages:
            recorded[rows] = coverages[key].measure(
                onset[rows] - params.preictal_sec, onset[rows] - params.sph_sec
            )
    lead = since >= params.lead_min * 60
    fraction = recorded / sop if sop > 0 else np.zeros(len(out))
    values = {
        "lead": lead,
        "min_since_previous": np.where(np.isfinite(since), since / 60, np.nan),
        "preictal_recorded_sec": recorded,
        "preictal_recorded_fraction": fraction,
        "scorable": lead & (fraction >= params.min_preictal_recorded),
    }
    for column, value in values.items():
        if column in out:
            out[column] = value


def _coverages(recorded: pd.DataFrame, case: np.ndarray, segment: np.ndarray) -> dict:
    """The recorded time of each (case, segment) timeline as a ``Coverage``."""
    coverages = {}
    for key in sorted(set(zip(case, segment, strict=True))):
        rows = (case == key[0]) & (segment == key[1])
        starts, ends = merge_intervals(
            recorded.start_sec.to_numpy(dtype=float)[rows],
            recorded.end_sec.to_numpy(dtype=float)[rows],
        )
        coverages[key] = Coverage(starts, ends)
    return coverages


def ledger_under(
    seizures: pd.DataFrame, recorded: pd.DataFrame, label_params: LabelParams
) -> pd.DataFrame:
    """The ledger ``seizures`` with the same onsets but the columns that depend on the label
    parameters (lead, the recorded share of the preictal period, scorable) recomputed under
    ``label_params``: scoring stored predictions under another SOP or SPH (the seizure prediction
    characteristic). ``recorded`` as for ``surrogate_seizure_times``."""
    out = seizures.copy()
    case, segment = _with_timeline(out)
    rec_case, rec_segment = _with_timeline(recorded)
    _ledger_flags(out, case, segment, _coverages(recorded, rec_case, rec_segment), label_params)
    return out


def surrogate_seizure_times(
    seizures: pd.DataFrame,
    recorded: pd.DataFrame,
    n: int,
    seed: int,
    label_params: LabelParams,
) -> list[pd.DataFrame]:
    """``n`` seizure-time surrogates of the ledger ``seizures`` (Andrzejak et al. 2003): each
    patient's seizures moved by a random permutation of the intervals between them, on its recorded
    time. Scoring the same alarms against the surrogates gives the null distribution of a predictor
    whose alarms bear no relation to the seizure times but which faces the same number of seizures,
    spaced alike, in the same recordings.

    ``seizures``: ledger rows (onset_sec, end_sec; case, segment; optionally patient and the other
    ledger columns). ``recorded``: recorded intervals (case, segment, start_sec, end_sec; optionally
    patient). Without case/segment columns everything is one timeline.

    How, per patient (the ledger's or recorded's ``patient`` column, else each case is its own):

    1. Its recorded time, as a **recorded-time axis**: timelines in (case, segment) order, each
       one's recorded intervals in time order, gaps cut out. Each seizure becomes a block on this
       axis from its onset, as long as its recorded duration.
    2. The K + 1 seizure-free stretches of the axis (start to first onset, end of each seizure to
       the next onset, end of the last seizure to the end) are permuted at random and the blocks
       laid out again in between, in their order. All K + 1 are permuted, not only the K - 1 inner
       ones, which would pin the first and last onsets (and move nothing for K <= 2). Permuting
       the stretches between seizures rather than onset-to-onset intervals keeps the seizures
       disjoint and inside the recorded time; for point-like seizures the two are the same.
    3. Each new onset is mapped back to its timeline (its case and segment may change); the end is
       the onset plus the seizure's original duration.

    So the onsets stay in recorded time, never in a gap, and the multiset of seizure-free
    stretches on the recorded-time axis is kept. Seizures whose onset is not in the recorded time
    (nor on a timeline of ``recorded``) cannot be placed: they stay where they are.

    Returns ``n`` frames with the ledger's index and columns, row i being seizure i moved: new
    onset_sec, end_sec, case and segment; ``lead``, ``scorable``, ``min_since_previous``,
    ``preictal_recorded_sec`` and ``preictal_recorded_fraction`` (those present) recomputed by the
    rules of ``labels.seizure_ledger`` with ``label_params``, since moving
    seizures changes which ones lead and whose preictal period is recorded. Other columns (file,
    reason, ...) are carried over unchanged. Deterministic given ``seed``; 19 surrogates allow a
    smallest ``surrogate_p_value`` of 0.05."""
    params = label_params
    rng = np.random.default_rng(seed)
    sz = seizures.reset_index(drop=True)
    sz_case, sz_segment = _with_timeline(sz)
    rec_case, rec_segment = _with_timeline(recorded)
    sz_group, rec_group = _groups(sz, recorded, sz_case, rec_case)

    coverages = _coverages(recorded, rec_case, rec_segment)

    onset = sz.onset_sec.to_numpy(dtype=float)
    duration = sz.end_sec.to_numpy(dtype=float) - onset
    plans = []  # per patient: axis, its seizures' rows (in axis order), their positions and lengths
    for group in sorted(set(sz_group)):
        timelines = sorted(
            {
                k
                for k, g in zip(zip(rec_case, rec_segment, strict=True), rec_group, strict=True)
                if g == group
            }
        )
        axis = _RecordedAxis(timelines, coverages)
        rows, u, lengths = [], [], []
        for i in np.flatnonzero([g == group for g in sz_group]):
            key = (sz_case[i], int(sz_segment[i]))
            if axis.contains(key, onset[i]):
                rows.append(i)
                u.append(axis.position(key, onset[i]))
                lengths.append(axis.recorded_length(key, onset[i], onset[i] + duration[i]))
        if rows:
            order = np.argsort(u, kind="stable")
            plans.append(
                (axis, np.array(rows)[order], np.array(u)[order], np.array(lengths)[order])
            )

    surrogates = []
    for _ in range(n):
        new_case, new_segment, new_onset = sz_case.copy(), sz_segment.copy(), onset.copy()
        for axis, rows, u, lengths in plans:
            order = rng.permutation(u.size + 1)
            keys, t = axis.timeline_point(_permuted_positions(u, lengths, axis.total, order))
            new_case[rows] = [k[0] for k in keys]
            new_segment[rows] = [k[1] for k in keys]
            new_onset[rows] = t
        out = sz.copy()
        out["onset_sec"] = new_onset
        out["end_sec"] = new_onset + duration
        if "case" in out:
            out["case"] = new_case
        if "segment" in out:
            out["segment"] = new_segment
        _ledger_flags(out, new_case, new_segment, coverages, params)
        out.index = seizures.index
        surrogates.append(out)
    return surrogates
