"""FusionNet's spectral reference store of one cached case: each window's recent spectrum."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

import pandas as pd

from preictal.models.fusion.reference import write_spectral_reference
from preictal.models.fusion.window import FusionWindow

i, p = snakemake.input, snakemake.params
window = FusionWindow.of(p.sfreq, p.w_sec)
write_spectral_reference(
    i.signal,
    pd.read_parquet(i.windows),
    snakemake.output[0],
    sfreq=window.sfreq,
    window_samples=window.samples,
    minutes=p.reference_min,
)
