"""Figures of the cache stage (raw vs preprocessed, PSD, spectrogram, labels)."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

from pathlib import Path

from preictal.cache.figures import make_cache_figures

p = snakemake.params
make_cache_figures(
    p.cases,
    "results",
    {p.cases[0]: str(Path(snakemake.input.edfs[0]).parent)},
    dict(snakemake.output.items()),
    sfreq=p.sfreq,
    label_params=p.labels,
    notch_hz=p.notch_hz,
)
