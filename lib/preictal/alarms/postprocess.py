"""From a window risk series to alarms: smoothing, persistence, hysteresis and a refractory period.

Definitions (docs/EVALUATION.md). The risk of a window is its predicted probability (``score``);
windows of one part are taken in time order per timeline (a case segment).

- **Runs.** A run is a stretch of windows without unrecorded time between them: a new run starts
  at a new case or segment, or where a window starts more than ``gap_tolerance_sec`` after the
  previous one ended. At a run start, smoothing, persistence and hysteresis restart.
- **Bad windows carry no evidence.** They are transparent: the smoothed risk is held at its last
  value through them, and they neither count toward persistence nor interrupt it, nor raise an
  alarm. So the alarms equal those of the series with the bad windows dropped, except that dropping
  them does not split a run. A window with a non-finite score is treated as bad.
- **Persistence.** An alarm needs the smoothed risk at or above the threshold in the last
  ``persistence_k`` good windows of the current run.
- **Hysteresis.** After an alarm the detector is disarmed until a good window's smoothed risk falls
  below ``hysteresis * threshold``, or a new run starts. Without hysteresis it stays armed, so a
  sustained high risk raises an alarm every refractory period.
- **Refractory period.** No alarm within ``refractory_min`` of the previous one. Its clock runs on
  the timeline, so it spans recording gaps (a warning issued before a gap still holds after it);
  only a new case or segment, whose timeline is unrelated, resets it.
- The alarm time is the end of the window that raises it: the alarm uses no later data.
- **Baseline (optional, ``baseline_min``).** Before smoothing, each window's risk can be taken
  relative to the patient's own recent level: its logit minus the median logit of the good
  windows of the same timeline that ended in the previous ``baseline_min`` minutes (causal: only
  earlier data), mapped back through the sigmoid. A window with fewer than
  ``baseline_min_windows`` such windows has no risk (treated as bad). Cross-patient models shift
  each patient's scores by a patient-specific offset, so a threshold tuned on validation patients
  does not transfer to a test patient; the baseline removes that offset. It spans recording gaps
  within a timeline (it estimates the patient's level, not a state that a gap would make stale).

``smooth_risk_reference`` and ``raise_alarms_reference`` are plain loops written straight from
these rules; ``smooth_risk`` and ``AlarmDetector`` are the vectorised versions used for threshold
sweeps, and the tests check that both agree.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from preictal.recent import recent_median

SMOOTHING = ("none", "ema", "moving_average")


@dataclass(frozen=True)
class AlarmParams:
    smoothing: str = "ema"  # "none", "ema" or "moving_average"
    ema_alpha: float = 0.3  # weight of the newest window in the exponential moving average
    ma_windows: int = 6  # moving average over this many good windows (6 x 5 s step = 30 s)
    persistence_k: int = 1  # consecutive good windows at or above threshold; 1 = off
    hysteresis: float | None = None  # re-arm below hysteresis * threshold; None = off
    refractory_min: float = 20.0  # no alarm this soon after the previous one (timeline minutes)
    gap_tolerance_sec: float = 1.0  # unrecorded time between windows tolerated within a run
    baseline_min: float | None = None  # risk relative to the previous minutes' median; None = off
    baseline_min_windows: int = 12  # good windows the baseline needs (12 x 5 s = 1 min)

    def __post_init__(self) -> None:
        if self.smoothing not in SMOOTHING:
            raise ValueError(
                f"alarms: smoothing must be one of {SMOOTHING}, not {self.smoothing!r}"
            )
        if not 0 < self.ema_alpha <= 1:
            raise ValueError("alarms: need 0 < ema_alpha <= 1")
        if int(self.ma_windows) != self.ma_windows or self.ma_windows < 1:
            raise ValueError("alarms: ma_windows must be a positive integer")
        if int(self.persistence_k) != self.persistence_k or self.persistence_k < 1:
            raise ValueError("alarms: persistence_k must be a positive integer")
        if self.hysteresis is not None and not 0 < self.hysteresis <= 1:
            raise ValueError("alarms: hysteresis must be None or in (0, 1]")
        if self.baseline_min is not None and self.baseline_min <= 0:
            raise ValueError("alarms: baseline_min must be None or > 0")
        if (
            int(self.baseline_min_windows) != self.baseline_min_windows
            or self.baseline_min_windows < 1
        ):
            raise ValueError("alarms: baseline_min_windows must be a positive integer")
        if self.refractory_min < 0 or self.gap_tolerance_sec < 0:
            raise ValueError("alarms: refractory_min and gap_tolerance_sec must be >= 0")
        # Counts read from YAML/JSON may arrive as floats (6.0); they are used as slice lengths.
        object.__setattr__(self, "ma_windows", int(self.ma_windows))
        object.__setattr__(self, "persistence_k", int(self.persistence_k))
        object.__setattr__(self, "baseline_min_windows", int(self.baseline_min_windows))

    @property
    def refractory_sec(self) -> float:
        return self.refractory_min * 60.0


# Plain threshold crossings with a 20-min refractory period: what FusionNet's best_by_fah
# checkpoint is chosen with, so that changing the evaluation's `alarms` settings never retrains.
PLAIN_ALARMS = AlarmParams(
    smoothing="none", persistence_k=1, hysteresis=None, refractory_min=20.0, baseline_min=None
)


@dataclass(frozen=True, eq=False)
class WindowSeries:
    """The windows of one part in time order (by case, segment, start), as arrays.

    ``key`` numbers the (case, segment) timelines; ``row`` is each window's position in the frame it
    came from, so results can be put back in that frame's order."""

    case: np.ndarray
    segment: np.ndarray
    key: np.ndarray
    start_sec: np.ndarray
    end_sec: np.ndarray
    score: np.ndarray
    good: np.ndarray
    run_start: np.ndarray
    row: np.ndarray

    def __len__(self) -> int:
        return len(self.score)

    @classmethod
    def from_predictions(cls, pred: pd.DataFrame, gap_tolerance_sec: float = 1.0) -> WindowSeries:
        """From a frame with columns case, segment, start_sec, end_sec, bad, score."""
        missing = {"case", "segment", "start_sec", "end_sec", "bad", "score"} - set(pred.columns)
        if missing:
            raise ValueError(f"predictions lack columns {sorted(missing)}")
        frame = pd.DataFrame(
            {
                "case": pred.case.astype(str).to_numpy(),
                "segment": pred.segment.to_numpy(dtype=np.int64),
                "start_sec": pred.start_sec.to_numpy(dtype=float),
                "row": np.arange(len(pred)),
            }
        ).sort_values(["case", "segment", "start_sec", "row"], kind="stable")
        order = frame.row.to_numpy()
        frame = pred.iloc[order]
        case = frame.case.astype(str).to_numpy()
        segment = frame.segment.to_numpy(dtype=np.int64)
        new_timeline = np.ones(len(frame), dtype=bool)
        new_timeline[1:] = (case[1:] != case[:-1]) | (segment[1:] != segment[:-1])
        key = np.cumsum(new_timeline) - 1
        start = frame.start_sec.to_numpy(dtype=float)
        end = frame.end_sec.to_numpy(dtype=float)
        same_key = key[1:] == key[:-1]
        if np.any(same_key & (np.diff(end) < 0)):
            raise ValueError("window ends must not decrease within a timeline (case, segment)")
        score = frame.score.to_numpy(dtype=float)
        good = ~frame.bad.to_numpy(dtype=bool) & np.isfinite(score)
        run_start = np.ones(len(frame), dtype=bool)
        run_start[1:] = ~same_key | (start[1:] - end[:-1] > gap_tolerance_sec)
        return cls(case, segment, key, start, end, score, good, run_start, order)


# --- Baseline ------------------------------------------------------------------------------------


def _logit(score: np.ndarray) -> np.ndarray:
    p = np.clip(score, 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def with_baseline(series: WindowSeries, params: AlarmParams) -> WindowSeries:
    """``series`` with the relative risk as its score (and windows without a baseline marked not
    good); ``series`` itself when ``baseline_min`` is None."""
    if params.baseline_min is None:
        return series
    logit = np.where(series.good, _logit(series.score), np.nan)
    base = recent_median(
        logit,
        series.end_sec,
        series.key,
        series.good,
        params.baseline_min,
        params.baseline_min_windows,
    )
    z = logit - base
    score = np.where(np.isfinite(z), 1 / (1 + np.exp(-np.where(np.isfinite(z), z, 0))), np.nan)
    return replace(series, score=score, good=series.good & np.isfinite(score))


# --- Smoothing -----------------------------------------------------------------------------------


def _good_runs(series: WindowSeries) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the good windows, and for each the position (among the good windows) of the
    first good window of its run."""
    good_pos = np.flatnonzero(series.good)
    run_id = np.cumsum(series.run_start)[good_pos]
    first = np.ones(len(good_pos), dtype=bool)
    first[1:] = run_id[1:] != run_id[:-1]
    first_of_run = np.maximum.accumulate(np.where(first, np.arange(len(good_pos)), 0))
    return good_pos, first_of_run


def smooth_risk(series: WindowSeries, params: AlarmParams) -> np.ndarray:
    """Vectorised ``smooth_risk_reference``: smooth the good windows run by run, then hold the last
    value through bad windows."""
    n = len(series)
    good_pos, first_of_run = _good_runs(series)
    x = series.score[good_pos]
    if params.smoothing == "none":
        smoothed = x.copy()
    elif params.smoothing == "ema":
        a = params.ema_alpha
        smoothed = np.empty_like(x)
        bounds = np.append(np.flatnonzero(first_of_run == np.arange(len(x))), len(x))
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            # zi makes the first output equal the first input: the average starts there.
            smoothed[lo:hi] = lfilter([a], [1.0, a - 1.0], x[lo:hi], zi=[(1 - a) * x[lo]])[0]
    else:
        csum = np.concatenate([[0.0], np.cumsum(x)])
        j = np.arange(len(x))
        lo = np.maximum(j - params.ma_windows + 1, first_of_run)
        smoothed = (csum[j + 1] - csum[lo]) / (j + 1 - lo)

    out = np.full(n, np.nan)
    idx = np.arange(n)
    last_good = np.maximum.accumulate(np.where(series.good, idx, -1))
    run_first = np.maximum.accumulate(np.where(series.run_start, idx, 0))
    held = (last_good >= 0) & (last_good >= run_first)
    rank_among_good = np.cumsum(series.good) - 1
    out[held] = smoothed[rank_among_good[last_good[held]]]
    return out


# --- Alarms --------------------------------------------------------------------------------------


class AlarmDetector:
    """Alarm generation prepared once per smoothed series, so a threshold sweep costs a few array
    operations and a short loop over the alarms per threshold.

    A window is *eligible* at threshold t when the smallest smoothed risk over the last k good
    windows of its run is >= t, a threshold-free quantity computed here. Refractory period and
    hysteresis then pick alarms among the eligible windows greedily: after an alarm at i, the next
    is the first eligible window at or after both the end of the refractory period and the next
    re-arming window (a new run, or a good window below the reset threshold)."""

    def __init__(self, series: WindowSeries, smoothed: np.ndarray, params: AlarmParams):
        self.params = params
        self.n = len(series)
        self._good = series.good
        self._smoothed = smoothed
        self._run_start = series.run_start
        self._persistent_risk = self._persistent_min(series, smoothed, params.persistence_k)
        # First window whose end is a refractory period after this one's, within its timeline
        # (the next timeline's first window if none): the refractory clock stops at a new timeline.
        refractory_next = np.empty(self.n, dtype=np.int64)
        bounds = np.append(np.flatnonzero(np.r_[True, series.key[1:] != series.key[:-1]]), self.n)
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            end = series.end_sec[lo:hi]
            refractory_next[lo:hi] = lo + np.searchsorted(
                end, end + params.refractory_sec, side="left"
            )
        self._refractory_next = refractory_next.tolist()  # indexed one at a time in a loop

    @staticmethod
    def _persistent_min(series: WindowSeries, smoothed: np.ndarray, k: int) -> np.ndarray:
        """Per window: the smallest smoothed risk over the last k good windows of the run, or -inf
        for a bad window or one with fewer than k good windows in its run so far."""
        out = np.full(len(series), -np.inf)
        good_pos, first_of_run = _good_runs(series)
        s = smoothed[good_pos]
        if k == 1:
            out[good_pos] = s
            return out
        if len(s) < k:
            return out
        lowest = np.full(len(s), -np.inf)
        lowest[k - 1 :] = np.lib.stride_tricks.sliding_window_view(s, k).min(axis=1)
        lowest[np.arange(len(s)) - first_of_run < k - 1] = -np.inf
        out[good_pos] = lowest
        return out

    def alarms(self, threshold: float) -> np.ndarray:
        """Positions (in series order) of the windows that raise an alarm at ``threshold``."""
        eligible = np.flatnonzero(self._persistent_risk >= threshold)
        hysteresis = self.params.hysteresis
        if eligible.size == 0 or (self.params.refractory_sec == 0 and hysteresis is None):
            return eligible
        if hysteresis is not None:
            below_reset = self._good & (self._smoothed < hysteresis * threshold)
            rearm = np.flatnonzero(below_reset | self._run_start)
            if self.params.refractory_sec == 0:
                # Only hysteresis: the first eligible window after each re-arming one alarms.
                since = np.searchsorted(rearm, eligible, side="right")
                return eligible[np.r_[True, since[1:] != since[:-1]]]
        # The refractory period leaves few alarms: jump from one to the next.
        candidates = eligible.tolist()
        rearm_at = rearm.tolist() if hysteresis is not None else []
        alarms = [candidates[0]]
        while True:
            i = alarms[-1]
            earliest = max(i + 1, self._refractory_next[i])
            if hysteresis is not None:
                r = bisect_right(rearm_at, i)
                earliest = max(earliest, rearm_at[r] if r < len(rearm_at) else self.n)
            nxt = bisect_left(candidates, earliest)
            if nxt == len(candidates):
                return np.asarray(alarms, dtype=np.int64)
            alarms.append(candidates[nxt])


def raise_alarms(
    series: WindowSeries, smoothed: np.ndarray, threshold: float, params: AlarmParams
) -> np.ndarray:
    """Vectorised ``raise_alarms_reference``."""
    return AlarmDetector(series, smoothed, params).alarms(threshold)
