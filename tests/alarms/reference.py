"""Window-by-window reference loops of the alarm post-processing: the definitions, written as
plainly as possible, that the vectorised code in :mod:`preictal.alarms.postprocess` is tested
against. Only tests use them."""

from __future__ import annotations

import numpy as np

from preictal.alarms.postprocess import AlarmParams, WindowSeries, _logit


def baseline_reference(series: WindowSeries, params: AlarmParams) -> np.ndarray:
    """Relative risk per window, one window at a time (see the module docstring)."""
    logit = _logit(series.score)
    out = np.full(len(series), np.nan)
    window = params.baseline_min * 60.0
    for i in range(len(series)):
        if not series.good[i]:
            continue
        earlier = np.flatnonzero(
            (series.key == series.key[i])
            & series.good
            & (series.end_sec < series.end_sec[i])
            & (series.end_sec >= series.end_sec[i] - window)
        )
        if earlier.size >= params.baseline_min_windows:
            z = logit[i] - np.median(logit[earlier])
            out[i] = 1 / (1 + np.exp(-z))
    return out


def smooth_risk_reference(series: WindowSeries, params: AlarmParams) -> np.ndarray:
    """Smoothed risk per window, one window at a time. NaN until a run's first good window."""
    out = np.full(len(series), np.nan)
    state = np.nan
    recent: list[float] = []
    for i in range(len(series)):
        if series.run_start[i]:
            state, recent = np.nan, []
        if series.good[i]:
            x = float(series.score[i])
            if params.smoothing == "none":
                state = x
            elif params.smoothing == "ema":
                a = params.ema_alpha
                state = x if np.isnan(state) else a * x + (1 - a) * state
            else:
                recent = (recent + [x])[-params.ma_windows :]
                state = sum(recent) / len(recent)
        out[i] = state  # a bad window holds the last state
    return out


def raise_alarms_reference(
    series: WindowSeries, smoothed: np.ndarray, threshold: float, params: AlarmParams
) -> np.ndarray:
    """Positions (in ``series`` order) of the windows that raise an alarm, one window at a time."""
    alarms = []
    armed, count, last_alarm = True, 0, -np.inf
    for i in range(len(series)):
        if series.run_start[i]:
            armed, count = True, 0
            if i == 0 or series.key[i] != series.key[i - 1]:
                last_alarm = -np.inf  # a new timeline: the refractory clock restarts
        if not series.good[i]:
            continue
        s = smoothed[i]
        if params.hysteresis is not None and not armed and s < params.hysteresis * threshold:
            armed = True
        count = count + 1 if s >= threshold else 0
        refractory_over = series.end_sec[i] >= last_alarm + params.refractory_sec
        if armed and count >= params.persistence_k and refractory_over:
            alarms.append(i)
            last_alarm = series.end_sec[i]
            armed = params.hysteresis is None
    return np.asarray(alarms, dtype=np.int64)
