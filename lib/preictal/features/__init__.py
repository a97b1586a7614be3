"""Handcrafted per-window EEG features (see :mod:`preictal.features.spectral`)."""
