"""preictal: seizure forecasting from continuous scalp EEG in the CHB-MIT layout."""

__version__ = "0.1.0"
