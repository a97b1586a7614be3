"""Figures of the cache stage (raw vs preprocessed, PSD, spectrogram, labels)."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

from pathlib import Path

from preictal.cache.figures import make_cache_figures
from preictal.cache.store import PreprocessParams
from preictal.labels import LabelParams

i, p = snakemake.input, snakemake.params
names = ("files", "blocks", "windows", "labels", "ledger", "signal")
paths = {case: {name: getattr(i, name)[k] for name in names} for k, case in enumerate(p.cases)}
make_cache_figures(
    paths,
    {p.cases[0]: str(Path(i.edfs[0]).parent)},
    dict(snakemake.output.items()),
    preprocess=PreprocessParams(**p.preprocess),
    label_params=LabelParams(**p.labels),
)
