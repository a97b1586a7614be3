"""Figure: every case's files, gaps and seizures on its timeline."""

import sys

sys.stderr = open(
    snakemake.log[0], "w", buffering=1
)  # before heavy imports, so errors reach the log

import logging

logging.basicConfig(
    stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
)
logging.captureWarnings(True)

from preictal.plots.dataset import plot_timeline_files

plot_timeline_files(snakemake.input.files, snakemake.input.seizures, snakemake.output[0])
