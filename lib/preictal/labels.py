"""Preictal / interictal labels of windows on a patient's gap-aware timeline, and the seizure ledger.

Definitions (docs/LABELING_SCHEMA.md), with times in seconds on the case timeline:

- preictal: the next onset after the window's end lies ``gap_sec`` (the SPH) to ``preictal_min``
  minutes (SPH + SOP) ahead: ``window_end in [onset - preictal_min*60, onset - gap_sec]``;
- excluded: the window overlaps a seizure or its postictal period (``postictal_min`` after its end);
- interictal: at least ``interictal_buffer_min`` from every seizure start and end;
- everything else is excluded (the SPH itself, and the margins around seizures).

Only seizures of the window's segment count: segments are runs of files whose relative timing is
known, so nothing crosses an unknown gap. Windows never span a recording gap (they are cut inside
one file), and a window found to do so is excluded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

PREICTAL, INTERICTAL, EXCLUDED = 1, 0, -1
LABEL_NAMES = {PREICTAL: "preictal", INTERICTAL: "interictal", EXCLUDED: "excluded"}


@dataclass(frozen=True)
class LabelParams:
    preictal_min: float = 10.0  # SPH + SOP (Maiwald et al. 2004), in minutes
    gap_sec: float = 30.0  # SPH: the last seconds before onset, too late for a warning
    postictal_min: float = 10.0
    interictal_buffer_min: float = 30.0
    tau_sec: float = 120.0  # y_soft = exp(-(onset - window_end) / tau) for preictal windows
    lead_min: float = 30.0  # a seizure is a lead seizure if no seizure ended this soon before it
    min_preictal_recorded: float = 0.5  # fraction of the preictal period that must be recorded

    def __post_init__(self) -> None:
        if not 0 <= self.gap_sec < self.preictal_min * 60:
            raise ValueError("labels: need 0 <= gap_sec < preictal_min * 60")

    @property
    def sph_sec(self) -> float:
        """Seizure prediction horizon (s): an alarm this close to onset is too late."""
        return float(self.gap_sec)

    @property
    def sop_sec(self) -> float:
        """Seizure occurrence period (s): an alarm in [onset - SPH - SOP, onset - SPH] is true.
        The one definition of SOP in the workflow."""
        return float(self.preictal_min * 60 - self.gap_sec)

    @property
    def preictal_sec(self) -> float:
        """SPH + SOP (s): how far before an onset a window can end and still be preictal."""
        return float(self.preictal_min * 60)


FAH_DENOMINATOR = (
    "interictal hours: recorded time minus [onset - SOP - SPH, end + postictal] of every seizure"
)
PROTOCOL_COLUMNS = (
    "sop_min",
    "sph_sec",
    "postictal_min",
    "interictal_buffer_min",
    "lead_seizure_rule",
    "fah_denominator",
)


def protocol_columns(params: LabelParams) -> dict:
    """What a results table measured, as columns: SOP, SPH, the postictal exclusion, the
    interictal distance, the lead-seizure rule and the FAH denominator (docs/EVALUATION.md)."""
    return {
        "sop_min": params.sop_sec / 60,
        "sph_sec": params.sph_sec,
        "postictal_min": float(params.postictal_min),
        "interictal_buffer_min": float(params.interictal_buffer_min),
        "lead_seizure_rule": (
            f"no seizure ended within {params.lead_min:g} min before the onset; at least "
            f"{100 * params.min_preictal_recorded:g} % of the SOP recorded"
        ),
        "fah_denominator": FAH_DENOMINATOR,
    }


def label_windows(
    windows: pd.DataFrame, seizures: pd.DataFrame, params: LabelParams
) -> pd.DataFrame:
    """Labels of ``windows`` (columns start_sec, end_sec, segment, spans_gap) given the case's
    ``seizures`` (onset_sec, end_sec, segment). Returns one row per window, in order:
    y_cls (1/0/-1), label, reason, y_tte (s to the next onset in the segment, -1 if none),
    y_soft, seizure (index into ``seizures`` of the onset that makes a window preictal, else -1)."""
    n = len(windows)
    y = np.full(n, EXCLUDED, dtype=np.int8)
    reason = np.full(n, "near_seizure", dtype=object)
    tte = np.full(n, -1.0)
    target = np.full(n, -1, dtype=np.int64)
    start = windows.start_sec.to_numpy(dtype=float)
    end = windows.end_sec.to_numpy(dtype=float)
    seg = windows.segment.to_numpy()
    spans_gap = (
        windows.spans_gap.to_numpy(dtype=bool) if "spans_gap" in windows else np.zeros(n, bool)
    )
    sz = seizures.reset_index(drop=True)
    for segment in np.unique(seg):
        w = np.flatnonzero(seg == segment)
        in_seg = sz.index[sz.segment.to_numpy() == segment].to_numpy()
        if in_seg.size == 0:
            y[w], reason[w] = INTERICTAL, "interictal"
            continue
        onset = sz.onset_sec.to_numpy(dtype=float)[in_seg]
        s_end = sz.end_sec.to_numpy(dtype=float)[in_seg]
        ws, we = start[w, None], end[w, None]

        ictal = ((onset < we) & (s_end > ws)).any(axis=1)
        postictal = ((s_end < we) & (s_end + params.postictal_min * 60 > ws)).any(axis=1)
        # Distance from the window interval to each seizure start and end.
        d_on = np.where(onset > we, onset - we, np.where(onset < ws, ws - onset, 0.0))
        d_end = np.where(s_end > we, s_end - we, np.where(s_end < ws, ws - s_end, 0.0))
        far = np.minimum(d_on, d_end).min(axis=1) >= params.interictal_buffer_min * 60

        ahead = onset[None, :] - we  # seconds from window end to each onset
        ahead_pos = np.where(ahead >= 0, ahead, np.inf)
        nxt = ahead_pos.argmin(axis=1)
        lead_time = ahead_pos[np.arange(len(w)), nxt]
        has_next = np.isfinite(lead_time)
        pre = has_next & (lead_time >= params.sph_sec) & (lead_time <= params.preictal_sec)

        y_w = np.full(len(w), EXCLUDED, dtype=np.int8)
        r_w = np.full(len(w), "near_seizure", dtype=object)
        r_w[has_next & (lead_time < params.sph_sec)] = "sph"
        y_w[far], r_w[far] = INTERICTAL, "interictal"
        y_w[pre], r_w[pre] = PREICTAL, "preictal"
        y_w[postictal], r_w[postictal] = EXCLUDED, "postictal"
        y_w[ictal], r_w[ictal] = EXCLUDED, "ictal"
        y[w], reason[w] = y_w, r_w
        tte[w] = np.where(has_next, lead_time, -1.0)
        target[w] = np.where(pre & ~ictal & ~postictal, in_seg[nxt], -1)
    y[spans_gap], reason[spans_gap] = EXCLUDED, "spans_gap"
    target[y != PREICTAL] = -1
    soft = np.where(y == PREICTAL, np.exp(-np.clip(tte, 0, None) / params.tau_sec), 0.0)
    return pd.DataFrame(
        {
            "y_cls": y,
            "label": [LABEL_NAMES[v] for v in y],
            "reason": reason.astype(str),
            "y_tte": tte,
            "y_soft": soft.astype(np.float32),
            "seizure": target,
        }
    )


def recorded_overlap(intervals: pd.DataFrame, lo: float, hi: float) -> float:
    """Seconds of [lo, hi] covered by the recorded files (start_sec, end_sec)."""
    s = np.clip(intervals.start_sec.to_numpy(dtype=float), lo, hi)
    e = np.clip(intervals.end_sec.to_numpy(dtype=float), lo, hi)
    return float(np.clip(e - s, 0, None).sum())


def seizure_ledger(
    recorded: pd.DataFrame,
    seizures: pd.DataFrame,
    labels: pd.DataFrame | None,
    params: LabelParams,
) -> pd.DataFrame:
    """One row per seizure: lead status, how much of its preictal period was recorded, its
    preictal window count, and whether it can be scored (a lead seizure with at least
    ``min_preictal_recorded`` of its preictal period on record). ``recorded`` holds the spans
    with data (start_sec, end_sec, segment): the workflow passes the cached blocks, so a file
    excluded from the cache (missing, or its channels unusable) counts as not recorded."""
    rows = []
    sz = seizures.reset_index(drop=True)
    sop_sec = params.sop_sec
    for i, s in sz.iterrows():
        same = sz[(sz.segment == s.segment) & (sz.onset_sec < s.onset_sec)]
        since_prev = float(s.onset_sec - same.end_sec.max()) if len(same) else np.inf
        lead = since_prev >= params.lead_min * 60
        lo, hi = s.onset_sec - params.preictal_sec, s.onset_sec - params.sph_sec
        on_record = recorded_overlap(recorded[recorded.segment == s.segment], lo, hi)
        fraction = on_record / sop_sec if sop_sec > 0 else 0.0
        n_pre = int((labels.seizure == i).sum()) if labels is not None else -1
        reasons = []
        if not lead:
            reasons.append(
                f"not a lead seizure: the previous one ended {since_prev / 60:.1f} min before"
            )
        if fraction < params.min_preictal_recorded:
            reasons.append(
                f"{100 * fraction:.0f}% of its preictal period recorded "
                f"(< {100 * params.min_preictal_recorded:.0f}%)"
            )
        rows.append(
            {
                "seizure": i,
                "case": s.case,
                "patient": s.patient,
                "file": s.file,
                "seizure_in_file": s.seizure_in_file,
                "onset_sec": s.onset_sec,
                "end_sec": s.end_sec,
                "segment": s.segment,
                "lead": bool(lead),
                "min_since_previous": since_prev / 60 if np.isfinite(since_prev) else np.nan,
                "preictal_recorded_sec": on_record,
                "preictal_recorded_fraction": fraction,
                "n_preictal_windows": n_pre,
                "scorable": bool(lead and fraction >= params.min_preictal_recorded),
                "reason": "; ".join(reasons),
            }
        )
    return pd.DataFrame(rows)
