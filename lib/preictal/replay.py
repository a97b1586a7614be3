"""What the replay app (``app/app.py``) shows, read from ``results/`` only.

The app is a thin Streamlit layer over this module, so everything it computes is tested here:
which folds and models have predictions, a patient's gap-aware timeline (files, gaps, seizures),
the EEG of the time window in view (read from the per-case float16 memmap, never the whole
signal), and the alarms at any threshold, computed with the evaluation's own code
(:class:`preictal.alarms.PartEvaluator`), so that a tuned threshold gives the evaluation's numbers.
Nothing is written, and nothing is unpickled: Parquet, CSV, JSON and ``.npy`` (``allow_pickle``
off) only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from preictal import layout
from preictal.alarms.postprocess import AlarmParams
from preictal.alarms.scoring import PartEvaluator
from preictal.io import read_parquet_metadata
from preictal.labels import LabelParams

MAIN_TARGET = "results/loso_summary.csv"
RUN_COMMAND = f"snakemake --cores 8 {MAIN_TARGET}"
MAX_POINTS_PER_CHANNEL = 4000  # EEG samples drawn per channel; longer views are decimated


class MissingResults(Exception):
    """The results the app needs are not there; the message says which target builds them."""


@dataclass(frozen=True)
class Run:
    split: str
    fold: str
    model: str


class Results:
    """Paths and readers of one ``results/`` folder."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, template: str, **wildcards: str) -> Path:
        return layout.path(template, self.root, **wildcards)

    def _run_path(self, template: str, run: Run) -> Path:
        return self._path(template, split=run.split, fold=run.fold, model=run.model)

    # --- What is there --------------------------------------------------------------------------

    def runs(self) -> list[Run]:
        """Every (split, fold, model) with predictions and tuned thresholds (skipped folds are
        left out), sorted."""
        found = []
        pattern = layout.PREDICTIONS.format(split="*", fold="*", model="*")
        for pred in sorted(self.root.glob(pattern.removeprefix(f"{layout.ROOT}/"))):
            model, fold, split = pred.parent.name, pred.parent.parent.name, pred.parents[2].name
            evaluated = self._path(layout.EVAL_RESULTS, split=split, fold=fold, model=model)
            if evaluated.is_file() and _has_thresholds(pd.read_csv(evaluated)):
                found.append(Run(split, fold, model))
        if not found:
            raise MissingResults(
                f"No evaluated predictions under {self.root}/folds and {self.root}/eval. "
                f"Run `{RUN_COMMAND}` first (or `snakemake --cores 8` for every split)."
            )
        return found

    def predictions(self, run: Run) -> pd.DataFrame:
        """The fold's scored windows (validation and test), sorted by case and time."""
        path = self._run_path(layout.PREDICTIONS, run)
        preds = pd.read_parquet(path)
        if preds.empty:
            raise MissingResults(f"{path}: no predictions (the fold was skipped)")
        return preds.sort_values(["case", "start_sec"], kind="stable").reset_index(drop=True)

    def operating_points(self, run: Run) -> pd.DataFrame:
        """The evaluation's tuned thresholds, one row per FAH target, with the test metrics."""
        path = self._run_path(layout.EVAL_RESULTS, run)
        table = pd.read_csv(path)
        if not _has_thresholds(table):
            raise MissingResults(f"{path}: no tuned thresholds ({table.skipped.iloc[0]})")
        return table

    def candidate_thresholds(self, run: Run) -> np.ndarray:
        """The thresholds the validation sweep tried, plus the tuned ones: the slider's stops."""
        curve = pd.read_csv(self._run_path(layout.VAL_CURVE, run))
        tuned = self.operating_points(run).threshold.dropna().to_numpy()
        values = np.unique(np.concatenate([curve.threshold.to_numpy(dtype=float), tuned]))
        return values[np.isfinite(values)]

    def alarm_params(self, run: Run) -> AlarmParams:
        """The evaluation's post-processing, as recorded with its alarms."""
        path = self._run_path(layout.TEST_ALARMS, run)
        recorded = read_parquet_metadata(path).get("alarms")
        if recorded is None:
            raise MissingResults(
                f"{path} does not record its post-processing; rerun `{RUN_COMMAND}`"
            )
        return AlarmParams(**recorded)

    def files(self, cases: list[str]) -> pd.DataFrame:
        return self._stack([self._path(layout.FILES, case=c) for c in cases])

    def seizures(self, cases: list[str]) -> pd.DataFrame:
        return self._stack([self._path(layout.LEDGER, case=c) for c in cases])

    def label_params(self, case: str) -> LabelParams:
        """The labels' parameters, as recorded with the case's seizure ledger."""
        meta = read_parquet_metadata(self._path(layout.LEDGER, case=case))
        return LabelParams(**meta["labels"])

    def data_source(self, run: Run) -> dict:
        path = self._run_path(layout.PREDICTIONS, run)
        return read_parquet_metadata(path).get("data_source", {})

    def cache_manifest(self, case: str) -> dict:
        return json.loads((self._path(layout.CACHE_MANIFEST, case=case)).read_text())

    def blocks(self, case: str) -> pd.DataFrame:
        return pd.read_parquet(self._path(layout.BLOCKS, case=case))

    def signal(self, case: str) -> np.ndarray:
        """The case's preprocessed signal as a read-only memmap ([channels, samples], µV)."""
        path = self._path(layout.SIGNAL, case=case)
        if not path.is_file():
            raise MissingResults(f"{path} is missing; rerun `{RUN_COMMAND}`")
        return np.load(path, mmap_mode="r", allow_pickle=False)

    def _stack(self, paths: list[Path]) -> pd.DataFrame:
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise MissingResults(f"missing {', '.join(missing)}; rerun `{RUN_COMMAND}`")
        return pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)


def _has_thresholds(results: pd.DataFrame) -> bool:
    """A fold's results.csv with tuned thresholds (a skipped fold has none)."""
    return "threshold" in results and bool(results.threshold.notna().any())


# --- The EEG in view -----------------------------------------------------------------------------


@dataclass
class EegPiece:
    """One recorded stretch inside the view: times (s on the timeline) and data [channels, n]."""

    file: str
    times: np.ndarray
    data: np.ndarray


def eeg_in_view(
    signal: np.ndarray,
    blocks: pd.DataFrame,
    sfreq: float,
    t0: float,
    t1: float,
    channels: list[int],
    segment: int | None = None,
    max_points: int = MAX_POINTS_PER_CHANNEL,
) -> list[EegPiece]:
    """The selected channels of every block (file) overlapping [t0, t1), read from ``signal`` (a
    memmap: only those columns are read) and decimated to at most ``max_points`` samples per
    channel over the whole view. Gaps between blocks stay gaps (separate pieces)."""
    if t1 <= t0:
        raise ValueError(f"empty view: [{t0}, {t1})")
    step = max(1, int(np.ceil((t1 - t0) * sfreq / max_points)))
    pieces = []
    for b in blocks.sort_values("start_sec").itertuples():
        if segment is not None and b.segment != segment:
            continue
        lo = max(t0, b.start_sec)
        hi = min(t1, b.start_sec + b.n_samples / sfreq)
        if hi <= lo:
            continue
        a = int(np.ceil((lo - b.start_sec) * sfreq))
        z = int(np.floor((hi - b.start_sec) * sfreq))
        if z <= a:
            continue
        # Row by row with a basic slice: only the columns in view are read from the memmap.
        cut = slice(b.offset + a, b.offset + z, step)
        data = np.stack([np.asarray(signal[c, cut], dtype=np.float32) for c in channels])
        times = b.start_sec + np.arange(a, z, step) / sfreq
        pieces.append(EegPiece(b.file, times, data))
    return pieces


# --- Alarms at a threshold -----------------------------------------------------------------------


def part_of(
    preds: pd.DataFrame, part: str, cases: list[str] | None = None, file: str | None = None
) -> pd.DataFrame:
    """The windows of ``part``, of ``cases`` (all when None) and of ``file`` (all when None)."""
    rows = preds[preds.part == part]
    if cases is not None:
        rows = rows[rows.case.isin(cases)]
    return rows[rows.file == file] if file is not None else rows


def evaluator(
    preds_part: pd.DataFrame,
    seizures: pd.DataFrame,
    files: pd.DataFrame,
    label_params: LabelParams,
    alarm_params: AlarmParams,
) -> PartEvaluator:
    """The evaluation's own scorer for one part: smoothing and detection prepared once, so that
    each threshold costs a few array operations."""
    return PartEvaluator(preds_part, seizures, files, label_params, alarm_params)


def alarms_at(part: PartEvaluator, threshold: float) -> tuple[pd.DataFrame, dict]:
    """The alarms (case, segment, time_sec, kind: true / false / excluded) and the metrics
    summary (FAH, sensitivity, time to warning, time in warning, counts) at ``threshold``."""
    m = part.metrics(threshold)
    return m.alarms, m.summary()


def smoothed_risk(part: PartEvaluator, preds_part: pd.DataFrame) -> pd.DataFrame:
    """The post-processed risk per window of the part (the value compared with the threshold),
    in the order of ``preds_part``, with the window times and the bad flag."""
    s = part.series
    risk = np.full(len(preds_part), np.nan)
    risk[s.row] = part.smoothed
    return preds_part[["case", "segment", "start_sec", "end_sec", "bad", "score"]].assign(risk=risk)


def clock_time(t_sec: float, seconds: bool = True) -> str:
    """A time on a case's timeline (seconds from midnight of the day its first recording starts)
    as the summaries write it, with the day: `day 1 14:15:11` (day 1 = that first day)."""
    if not np.isfinite(t_sec):
        return "n/a"
    t = int(round(t_sec))
    day, rest = divmod(t, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    return f"day {day + 1} {h:02d}:{m:02d}" + (f":{s:02d}" if seconds else "")


# The tuned operating points table of the app, in words with units.
POINT_COLUMNS = {
    "target_fah": "FAH target (per h)",
    "threshold": "threshold",
    "val_fah": "validation FAH (per interictal h)",
    "val_sensitivity": "validation sensitivity",
    "test_fah": "test FAH (per interictal h)",
    "test_sensitivity": "test sensitivity",
    "test_mean_time_to_warning_sec": "test mean warning time (min)",
    "test_time_in_warning": "test time in warning (%)",
    "significant": "above chance",
}


def readable_points(points: pd.DataFrame) -> pd.DataFrame:
    """The operating points with the columns of POINT_COLUMNS in words, times in minutes and
    time in warning in percent, rounded."""
    out = points[[c for c in POINT_COLUMNS if c in points]].copy()
    if "test_mean_time_to_warning_sec" in out:
        out["test_mean_time_to_warning_sec"] = out["test_mean_time_to_warning_sec"] / 60
    if "test_time_in_warning" in out:
        out["test_time_in_warning"] = 100 * out["test_time_in_warning"]
    for c in out.columns:
        if c not in ("threshold", "significant") and pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].round(2)
    return out.rename(columns=POINT_COLUMNS)


def risk_for_chart(risk: pd.DataFrame, span: tuple[float, float], max_points: int = 4000):
    """The post-processed risk of a span for the interactive chart: hours from the span's start,
    clock time and risk, at most `max_points` rows (the highest risk of each bin, so that no
    excursion above a threshold is lost), with a break (NaN) at recording gaps."""
    r = risk[(risk.end_sec >= span[0]) & (risk.start_sec <= span[1])].dropna(subset=["risk"])
    r = r.sort_values("end_sec")
    gap = np.flatnonzero(r.start_sec.to_numpy()[1:] > r.end_sec.to_numpy()[:-1] + 1.0) + 1
    segment = np.zeros(len(r), dtype=int)
    if len(gap):
        segment[gap] = 1
        segment = np.cumsum(segment)
    r = r.assign(segment=segment)
    if len(r) > max_points:
        bins = np.floor(
            (r.end_sec - span[0]) / max(span[1] - span[0], 1e-9) * (max_points - 1)
        ).astype(int)
        r = r.loc[r.groupby([r.segment, bins]).risk.idxmax()].sort_values("end_sec")
    return pd.DataFrame(
        {
            "hours": (r.end_sec.to_numpy(float) - span[0]) / 3600,
            "clock": [clock_time(t) for t in r.end_sec],
            "risk": r.risk.to_numpy(float),
            "segment": r.segment.to_numpy(int),
        }
    )
