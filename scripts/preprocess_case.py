"""Preprocess every EDF of one case into its float16 signal cache."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

from pathlib import Path

import pandas as pd

from preictal.cache.store import PreprocessParams, build_case_cache

files = pd.read_parquet(snakemake.input.files)
edf_dirs = {str(Path(p).parent) for p in snakemake.input.edfs}
build_case_cache(
    snakemake.wildcards.case,
    files,
    edf_dirs.pop() if edf_dirs else "",
    Path(snakemake.output.manifest).parent,
    PreprocessParams(**snakemake.params.preprocess),
    data_source=snakemake.params.data_source,
)
