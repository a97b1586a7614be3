"""Generate one case of the CHB-MIT twin: its summary, its EDFs and its hash and event list."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

from preictal.synthetic.plan import SyntheticSpec
from preictal.synthetic.twin import generate_twin_case

spec = SyntheticSpec.from_config(snakemake.params.synthetic, patients=snakemake.params.patients)
generate_twin_case(spec, snakemake.params.case, snakemake.params.out_dir, threads=snakemake.threads)
