"""Alarm-based evaluation of one part: sensitivity, false alarms per interictal hour, time in warning.

Definitions (docs/EVALUATION.md), with SPH = ``gap_sec`` and SOP = ``preictal_min * 60 - gap_sec``:

- an alarm at t is **true** when the onset of a seizure that the part recorded (scored or not)
  lies in [t + SPH, t + SPH + SOP]; an onset outside the part's recorded time (in another part's
  files, as at a within-patient part boundary, or in a gap) never makes an alarm true: the
  boundary acts as a recording gap. A scored seizure is **caught** when a true alarm precedes it
  by that much, and its time to warning is onset minus the first such alarm;
- the **interictal time** (the FAH denominator) is the part's recorded time minus, for every
  seizure, [onset - SOP - SPH, end + postictal]: its preictal horizon, the seizure and the
  postictal period. A non-true alarm in interictal time is a **false alarm**; one elsewhere (too
  late before an onset, during a seizure or postictal) is counted as ``alarms_excluded``;
- **time in warning** is the share of recorded time inside the union of [t + SPH, t + SPH + SOP].

A *part* is the set of windows scored together (``val`` or ``test`` of one fold); its recorded time
is the files that have windows in it. A seizure is scored in a part when it is a scorable lead
seizure of the ledger, its onset lies in the part's recorded time, and at least
``min_preictal_recorded`` of its preictal period [onset - SPH - SOP, onset - SPH] lies there too.

Each (case, segment) is its own timeline. To score all of them in one vectorised pass they are
laid end to end on one axis, each shifted so that none comes within reach of another.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from preictal.alarms.postprocess import (
    AlarmDetector,
    AlarmParams,
    WindowSeries,
    smooth_risk,
    with_baseline,
)
from preictal.labels import LabelParams

SECONDS_PER_HOUR = 3600.0
EXCLUSION_REASONS = (
    "onset_not_in_part",
    "not_lead",
    "preictal_not_recorded",
    "preictal_not_in_part",
)


@dataclass(frozen=True, eq=False)
class AlarmMetrics:
    n_seizures_scored: int
    n_caught: int
    sensitivity: float  # NaN when no seizure is scored
    n_alarms: int
    n_true_alarms: int
    n_false_alarms: int  # non-true alarms in interictal time
    alarms_excluded: int  # non-true alarms outside interictal time
    interictal_hours: float
    recorded_hours: float
    fah: float  # false alarms per interictal hour (NaN without interictal time)
    fah_total_time: float  # all non-true alarms per recorded hour
    time_in_warning: float  # share of recorded time under a warning
    mean_time_to_warning_sec: float
    median_time_to_warning_sec: float
    excluded_seizures: dict[str, int]  # seizures of the part's cases not scored, by reason
    seizures: pd.DataFrame = field(repr=False)  # one row per seizure of the part's cases
    alarms: pd.DataFrame = field(repr=False)  # one row per alarm, with its kind

    def summary(self) -> dict:
        """The scalar results, with the exclusion counts as ``excluded_<reason>``."""
        out = {
            k: v
            for k, v in self.__dict__.items()
            if k not in ("excluded_seizures", "seizures", "alarms")
        }
        out.update({f"excluded_{k}": v for k, v in self.excluded_seizures.items()})
        return out


def merge_intervals(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted, disjoint intervals covering the same points; touching ones are joined and empty
    ones dropped."""
    starts, ends = np.asarray(starts, dtype=float), np.asarray(ends, dtype=float)
    keep = ends > starts
    starts, ends = starts[keep], ends[keep]
    if starts.size == 0:
        return starts, ends
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], np.maximum.accumulate(ends[order])
    opens = np.r_[True, starts[1:] > ends[:-1]]
    closes = np.r_[opens[1:], True]
    return starts[opens], ends[closes]


class Coverage:
    """A union of intervals: membership of points and measure of the part inside [lo, hi]."""

    def __init__(self, starts: np.ndarray, ends: np.ndarray):
        self.starts, self.ends = merge_intervals(starts, ends)
        lengths = self.ends - self.starts
        before = np.concatenate([[0.0], np.cumsum(lengths)])
        self.total = float(before[-1])
        # Piecewise-linear cumulative measure, knots at every start and end.
        self._knots = np.column_stack([self.starts, self.ends]).ravel()
        self._cumulative = np.column_stack([before[:-1], before[1:]]).ravel()

    def measure(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Covered seconds inside each [lo, hi]."""
        if self._knots.size == 0:
            return np.zeros(np.shape(lo))
        return np.interp(hi, self._knots, self._cumulative) - np.interp(
            lo, self._knots, self._cumulative
        )

    def contains(self, t: np.ndarray) -> np.ndarray:
        """Whether each point lies in a (closed) interval."""
        t = np.asarray(t, dtype=float)
        i = np.searchsorted(self.starts, t, side="right") - 1
        inside = i >= 0
        inside[inside] = t[inside] <= self.ends[i[inside]]
        return inside


def _timeline_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with case and segment columns (one timeline when they are absent)."""
    frame = frame.reset_index(drop=True)
    return frame.assign(
        case=frame.case.astype(str) if "case" in frame else "",
        segment=frame.segment.astype(np.int64) if "segment" in frame else 0,
    )


@dataclass(frozen=True)
class _Classified:
    true: np.ndarray  # per alarm: an onset lies in its horizon
    excluded_time: np.ndarray  # per alarm: it lies outside interictal time
    time_to_warning: np.ndarray  # per scored seizure: onset - first true alarm, NaN if missed
    warned_sec: float  # recorded seconds under a warning


class PartScorer:
    """The part's recorded time, interictal time and seizures, prepared once; ``score`` and the
    fast ``counts`` then evaluate any set of alarms.

    ``recorded``: intervals (start_sec, end_sec; case, segment) of the part's files. ``seizures``:
    the ledger (onset_sec, end_sec, lead, scorable; case, segment, seizure); only the cases of
    ``recorded`` are used. Without case/segment columns everything is one timeline."""

    def __init__(
        self,
        recorded: pd.DataFrame,
        seizures: pd.DataFrame,
        label_params: LabelParams,
    ):
        p = label_params
        self.sph = p.sph_sec
        self.sop = p.sop_sec
        self.min_preictal_recorded = float(p.min_preictal_recorded)
        postictal = float(p.postictal_min * 60)

        recorded = _timeline_columns(recorded)
        self.recorded_intervals = recorded
        seizures = _timeline_columns(seizures)
        seizures = seizures[seizures.case.isin(set(recorded.case))].reset_index(drop=True)
        if "seizure" not in seizures:
            seizures["seizure"] = np.arange(len(seizures))

        # One axis: timelines in (case, segment) order, each shifted past the one before by more
        # than a horizon or an excluded period can reach.
        self._recorded_keys = list(
            recorded[["case", "segment"]].drop_duplicates().itertuples(index=False, name=None)
        )
        keys = pd.concat([recorded[["case", "segment"]], seizures[["case", "segment"]]])
        self._keys = pd.MultiIndex.from_frame(
            keys.drop_duplicates().sort_values(["case", "segment"])
        )
        times = np.concatenate(
            [recorded.start_sec, recorded.end_sec, seizures.onset_sec, seizures.end_sec]
        ).astype(float)
        self._origin = float(times.min()) if times.size else 0.0
        span = float(times.max()) - self._origin if times.size else 0.0
        self._stride = span + 2 * (self.sph + self.sop + postictal) + 1.0

        self.recorded = Coverage(
            self.to_axis(recorded.case, recorded.segment, recorded.start_sec),
            self.to_axis(recorded.case, recorded.segment, recorded.end_sec),
        )
        onset = self.to_axis(seizures.case, seizures.segment, seizures.onset_sec)
        s_end = self.to_axis(seizures.case, seizures.segment, seizures.end_sec)
        # Every seizure's horizon and postictal period leave interictal time, but only onsets
        # the part recorded can make an alarm true.
        in_part = self.recorded.contains(onset)
        self._onsets = np.sort(onset[in_part])
        self._excluded_time = Coverage(onset - self.sph - self.sop, s_end + postictal)
        zones = self._excluded_time
        self.recorded_sec = self.recorded.total
        self.interictal_sec = self.recorded_sec - float(
            self.recorded.measure(zones.starts, zones.ends).sum()
        )

        fraction = self.recorded.measure(onset - self.sph - self.sop, onset - self.sph) / self.sop
        lead = seizures.lead.to_numpy(dtype=bool)
        scorable = seizures.scorable.to_numpy(dtype=bool)
        reason = np.select(
            [~in_part, ~lead, ~scorable, fraction < self.min_preictal_recorded],
            EXCLUSION_REASONS,
            default="",
        )
        self.seizures = pd.DataFrame(
            {
                "case": seizures.case,
                "segment": seizures.segment,
                "seizure": seizures.seizure,
                "onset_sec": seizures.onset_sec.astype(float),
                "preictal_in_part_fraction": fraction,
                "scored": reason == "",
                "excluded_reason": reason,
            }
        )
        self._scored = np.flatnonzero(reason == "")
        self._scored_onsets = onset[self._scored]
        self.excluded_seizures = {r: int((reason == r).sum()) for r in EXCLUSION_REASONS}

    def to_axis(self, case, segment, t) -> np.ndarray:
        """Times on the common axis."""
        where = self._keys.get_indexer(
            pd.MultiIndex.from_arrays(
                [np.asarray(case, dtype=str), np.asarray(segment, dtype=np.int64)]
            )
        )
        if np.any(where < 0):
            raise ValueError("a time on a (case, segment) timeline the part does not record")
        return np.asarray(t, dtype=float) - self._origin + where * self._stride

    def _classify(self, alarms: np.ndarray) -> _Classified:
        if not np.all(self.recorded.contains(alarms)):
            raise ValueError("an alarm lies outside the part's recorded time")
        true = np.zeros(alarms.size, dtype=bool)
        if self._onsets.size:
            hit = np.minimum(
                np.searchsorted(self._onsets, alarms + self.sph), self._onsets.size - 1
            )
            ahead = self._onsets[hit] - alarms
            true = (ahead >= self.sph) & (ahead <= self.sph + self.sop)

        ttw = np.full(self._scored_onsets.size, np.nan)
        if alarms.size:
            first = np.searchsorted(alarms, self._scored_onsets - self.sph - self.sop)
            ahead = self._scored_onsets - alarms[np.minimum(first, alarms.size - 1)]
            caught = (first < alarms.size) & (ahead >= self.sph)
            ttw[caught] = ahead[caught]

        # Horizons all last SOP, so in time order one joins the previous when they overlap.
        opens = np.r_[True, np.diff(alarms) > self.sop][: alarms.size]
        closes = np.r_[opens[1:], True][: alarms.size]
        lo, hi = alarms[opens] + self.sph, alarms[closes] + self.sph + self.sop
        warned = float(self.recorded.measure(lo, hi).sum())
        return _Classified(true, self._excluded_time.contains(alarms), ttw, warned)

    def _counts(self, c: _Classified) -> dict:
        n_alarms = c.true.size
        n_true = int(c.true.sum())
        n_false = int((~c.true & ~c.excluded_time).sum())
        n_scored = self._scored.size
        n_caught = int(np.isfinite(c.time_to_warning).sum())
        return {
            "n_alarms": n_alarms,
            "n_true_alarms": n_true,
            "n_false_alarms": n_false,
            "alarms_excluded": n_alarms - n_true - n_false,
            "n_seizures_scored": n_scored,
            "n_caught": n_caught,
            "sensitivity": n_caught / n_scored if n_scored else np.nan,
            "fah": _per_hour(n_false, self.interictal_sec),
            "fah_total_time": _per_hour(n_alarms - n_true, self.recorded_sec),
            "time_in_warning": c.warned_sec / self.recorded_sec if self.recorded_sec else np.nan,
        }

    def counts(self, alarms: np.ndarray) -> dict:
        """The scalar results for alarms given as sorted axis times (see ``to_axis``): what a
        threshold sweep needs, without the per-seizure and per-alarm tables."""
        return self._counts(self._classify(alarms))

    def score(self, alarms: pd.DataFrame | np.ndarray) -> AlarmMetrics:
        """Full metrics. ``alarms``: a frame with time_sec, case and segment, or plain times when
        the part records a single timeline."""
        if not isinstance(alarms, pd.DataFrame):
            alarms = pd.DataFrame({"time_sec": np.asarray(alarms, dtype=float)})
        if not {"case", "segment"} <= set(alarms.columns):
            if len(self._recorded_keys) != 1:
                raise ValueError("alarms need case and segment columns: the part has timelines")
            case, segment = self._recorded_keys[0]
            alarms = alarms.assign(case=case, segment=segment)
        alarms = _timeline_columns(alarms)
        axis = self.to_axis(alarms.case, alarms.segment, alarms.time_sec)
        order = np.argsort(axis, kind="stable")
        alarms, axis = alarms.iloc[order].reset_index(drop=True), axis[order]
        c = self._classify(axis)
        counts = self._counts(c)

        seizures = self.seizures.copy()
        ttw = np.full(len(seizures), np.nan)
        ttw[self._scored] = c.time_to_warning
        seizures["caught"] = np.isfinite(ttw)
        seizures["first_true_alarm_sec"] = seizures.onset_sec - ttw
        seizures["time_to_warning_sec"] = ttw
        caught_ttw = ttw[np.isfinite(ttw)]

        alarms["kind"] = np.where(c.true, "true", np.where(c.excluded_time, "excluded", "false"))
        return AlarmMetrics(
            **counts,
            interictal_hours=self.interictal_sec / SECONDS_PER_HOUR,
            recorded_hours=self.recorded_sec / SECONDS_PER_HOUR,
            mean_time_to_warning_sec=float(caught_ttw.mean()) if caught_ttw.size else np.nan,
            median_time_to_warning_sec=(
                float(np.median(caught_ttw)) if caught_ttw.size else np.nan
            ),
            excluded_seizures=dict(self.excluded_seizures),
            seizures=seizures,
            alarms=alarms,
        )


def _per_hour(count: int, seconds: float) -> float:
    return count / (seconds / SECONDS_PER_HOUR) if seconds > 0 else np.nan


def score_alarms(
    alarms: pd.DataFrame | np.ndarray,
    recorded: pd.DataFrame,
    seizures: pd.DataFrame,
    label_params: LabelParams,
) -> AlarmMetrics:
    """Metrics of ``alarms`` (times, or a frame with time_sec, case, segment) over the ``recorded``
    intervals of one part, given the seizure ledger. See the module docstring."""
    return PartScorer(recorded, seizures, label_params).score(alarms)


def part_recorded_intervals(pred_part: pd.DataFrame, files: pd.DataFrame) -> pd.DataFrame:
    """The recorded intervals (case, segment, file, start_sec, end_sec) of the files that have
    windows in ``pred_part``; ``files`` is the index (results/index/{case}/files.parquet), one or
    several cases concatenated."""
    used = pred_part[["case", "file"]].astype(str).drop_duplicates()
    index = files.assign(case=files.case.astype(str), file=files.file.astype(str))
    out = used.merge(index, on=["case", "file"], how="left", validate="one_to_one")
    if out.start_sec.isna().any():
        lost = out.loc[out.start_sec.isna(), ["case", "file"]].to_records(index=False).tolist()
        raise ValueError(f"files with windows but no index row: {lost}")
    return out[["case", "segment", "file", "start_sec", "end_sec"]].reset_index(drop=True)


def _single_part(pred_part: pd.DataFrame) -> pd.DataFrame:
    if "part" in pred_part and pred_part.part.nunique() > 1:
        raise ValueError(
            f"evaluate one part at a time, not {sorted(pred_part.part.unique())} together"
        )
    return pred_part


class PartEvaluator:
    """One part's predictions prepared once (series, smoothed risk, alarm detector, scorer), to be
    evaluated at one threshold or swept over many."""

    def __init__(
        self,
        pred_part: pd.DataFrame,
        seizures: pd.DataFrame,
        files: pd.DataFrame,
        label_params: LabelParams,
        alarm_params: AlarmParams,
    ):
        self.alarm_params = alarm_params
        pred_part = _single_part(pred_part)
        self.series = with_baseline(
            WindowSeries.from_predictions(pred_part, alarm_params.gap_tolerance_sec), alarm_params
        )
        self.smoothed = smooth_risk(self.series, alarm_params)
        self.detector = AlarmDetector(self.series, self.smoothed, alarm_params)
        self.scorer = PartScorer(part_recorded_intervals(pred_part, files), seizures, label_params)
        s = self.series
        self._alarm_axis = self.scorer.to_axis(s.case, s.segment, s.end_sec)

    def with_seizures(self, seizures: pd.DataFrame, label_params: LabelParams) -> PartEvaluator:
        """The same predictions and alarms scored against other seizures (e.g. surrogate onsets):
        only the scorer is rebuilt, the series, smoothing and alarm detector are shared."""
        new = copy.copy(self)
        new.scorer = PartScorer(self.scorer.recorded_intervals, seizures, label_params)
        s = self.series
        new._alarm_axis = new.scorer.to_axis(s.case, s.segment, s.end_sec)
        return new

    def counts_of(self, alarm_rows: np.ndarray) -> dict:
        """``counts`` for alarms already detected (``detector.alarms(threshold)``), which do not
        depend on the seizures: a sweep against many surrogates detects them once."""
        return self.scorer.counts(self._alarm_axis[alarm_rows])

    def alarms(self, threshold: float) -> pd.DataFrame:
        """The alarms at ``threshold``: case, segment, time_sec (end of the raising window) and
        the raising window's row in the predictions frame."""
        i = self.detector.alarms(threshold)
        s = self.series
        return pd.DataFrame(
            {"case": s.case[i], "segment": s.segment[i], "time_sec": s.end_sec[i], "row": s.row[i]}
        )

    def counts(self, threshold: float) -> dict:
        return self.scorer.counts(self._alarm_axis[self.detector.alarms(threshold)])

    def metrics(self, threshold: float) -> AlarmMetrics:
        return self.scorer.score(self.alarms(threshold))


def evaluate_predictions(
    pred_part: pd.DataFrame,
    seizures: pd.DataFrame,
    files: pd.DataFrame,
    label_params: LabelParams,
    alarm_params: AlarmParams,
    threshold: float,
) -> AlarmMetrics:
    """Alarm metrics of one part's predictions (one or several cases) at ``threshold``.
    ``seizures``: the ledgers of the cases; ``files``: their file indexes (concatenated)."""
    return PartEvaluator(pred_part, seizures, files, label_params, alarm_params).metrics(threshold)
