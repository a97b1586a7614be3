"""Write the CHB-MIT twin's SYNTHETIC.json and SHA256SUMS.txt from the cases' hash lists."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

from preictal.synthetic.plan import SyntheticSpec
from preictal.synthetic.twin import write_twin_top_level

spec = SyntheticSpec.from_config(snakemake.params.synthetic, patients=snakemake.params.patients)
write_twin_top_level(spec, snakemake.params.out_dir, snakemake.input.parts)
