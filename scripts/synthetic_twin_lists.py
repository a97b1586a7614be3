"""Write the CHB-MIT twin's RECORDS, RECORDS-WITH-SEIZURES, SUBJECT-INFO and ANNOTATORS."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

from preictal.synthetic.plan import SyntheticSpec
from preictal.synthetic.twin import write_twin_lists

spec = SyntheticSpec.from_config(snakemake.params.synthetic, patients=snakemake.params.patients)
write_twin_lists(spec, snakemake.params.out_dir)
