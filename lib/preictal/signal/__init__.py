"""Signal layer: fast EDF signal reading (µV) and the preprocessing filters (zero-phase band-pass
plus mains notch, polyphase resampling)."""
