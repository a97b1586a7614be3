"""Alarms from window risks and their evaluation (docs/EVALUATION.md): smoothing, persistence,
hysteresis and refractory period; sensitivity, false alarms per interictal hour and time in
warning; threshold tuning on validation."""
