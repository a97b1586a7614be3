"""Generate the synthetic CHB-MIT-like dataset (the workflow's default data_root)."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

from preictal.synthetic.dataset import generate_dataset
from preictal.synthetic.plan import SyntheticSpec

spec = SyntheticSpec.from_config(snakemake.params.synthetic, patients=snakemake.params.patients)
generate_dataset(spec, snakemake.params.out_dir, threads=snakemake.threads)
