"""Signal layer: fast EDF signal reading (µV) and the preprocessing filters (zero-phase band-pass
plus mains notch, polyphase resampling)."""

from preictal.signal.edf_read import read_edf_signals
from preictal.signal.filters import bandpass_notch, design_response, design_sos, resample

__all__ = ["bandpass_notch", "design_response", "design_sos", "read_edf_signals", "resample"]
