"""Figure: every case's files, gaps and seizures on its timeline."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

from preictal.plots.dataset import plot_timeline_files

plot_timeline_files(snakemake.input.files, snakemake.input.seizures, snakemake.output[0])
