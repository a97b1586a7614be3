"""Generate the synthetic CHB-MIT-like dataset (the workflow's default data_root)."""

import sys

sys.stderr = open(
    snakemake.log[0], "w", buffering=1
)  # before heavy imports, so errors reach the log

import logging

logging.basicConfig(
    stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
)
logging.captureWarnings(True)

from preictal.synthetic.dataset import generate_dataset
from preictal.synthetic.plan import SyntheticSpec

spec = SyntheticSpec.from_config(snakemake.params.synthetic, patients=snakemake.params.patients)
generate_dataset(spec, snakemake.params.out_dir, threads=snakemake.threads)
