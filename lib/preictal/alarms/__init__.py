"""Alarms from window risks and their evaluation (docs/EVALUATION.md): smoothing, persistence,
hysteresis and refractory period; sensitivity, false alarms per interictal hour and time in
warning; threshold tuning on validation."""

from preictal.alarms.metrics import (
    AlarmMetrics,
    Coverage,
    PartEvaluator,
    PartScorer,
    evaluate_predictions,
    merge_intervals,
    part_recorded_intervals,
    score_alarms,
)
from preictal.alarms.postprocess import (
    AlarmDetector,
    AlarmParams,
    WindowSeries,
    baseline_reference,
    raise_alarms,
    raise_alarms_reference,
    smooth_risk,
    smooth_risk_reference,
    with_baseline,
)
from preictal.alarms.tuning import (
    candidate_thresholds,
    sensitivity_at_fah,
    threshold_curve,
    tune_thresholds,
)

__all__ = [
    "AlarmDetector",
    "AlarmMetrics",
    "AlarmParams",
    "Coverage",
    "PartEvaluator",
    "PartScorer",
    "WindowSeries",
    "baseline_reference",
    "candidate_thresholds",
    "evaluate_predictions",
    "merge_intervals",
    "part_recorded_intervals",
    "raise_alarms",
    "raise_alarms_reference",
    "score_alarms",
    "sensitivity_at_fah",
    "smooth_risk",
    "smooth_risk_reference",
    "threshold_curve",
    "tune_thresholds",
    "with_baseline",
]
