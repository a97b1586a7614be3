"""Handcrafted per-window EEG features (see :mod:`preictal.features.spectral`)."""

from preictal.features.spectral import (
    BANDS,
    BASIC_FEATURES,
    CANONICAL_CHANNELS,
    COHERENCE_BANDS,
    DEFAULT_CHANNEL_PAIRS,
    FEATURE_SETS,
    PLUS_FEATURES,
    compute_channel_features,
    compute_features,
    feature_names,
)

__all__ = [
    "BANDS",
    "BASIC_FEATURES",
    "CANONICAL_CHANNELS",
    "COHERENCE_BANDS",
    "DEFAULT_CHANNEL_PAIRS",
    "FEATURE_SETS",
    "PLUS_FEATURES",
    "compute_channel_features",
    "compute_features",
    "feature_names",
]
