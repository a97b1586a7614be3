"""What verifying one case reads from its EDFs (names on disk, header labels, SHA-256), read while
they exist: the CHB-MIT twin's EDFs may be deleted once cached (synthetic.keep_edfs)."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

from preictal.chbmit.verify import run_case_files

run_case_files(
    snakemake.params.data_root,
    snakemake.wildcards.case,
    check_sha256=snakemake.params.sha256,
    out_json=snakemake.output[0],
)
