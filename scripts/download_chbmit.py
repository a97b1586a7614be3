"""Download CHB-MIT into data_root, resuming and verifying every file (rule download_chbmit)."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

from preictal.chbmit.download import download_chbmit
from preictal.chbmit.errors import DatasetError
from preictal.io import write_json

if snakemake.params.synthetic:
    raise DatasetError(
        f"data_root {snakemake.params.dest} is the synthetic dataset's folder; download CHB-MIT "
        f"elsewhere: snakemake --cores 1 download_chbmit --config data_root=/data/chbmit"
    )
download = snakemake.params.download
report = download_chbmit(
    snakemake.params.dest,
    base_url=download["base_url"],
    cases=download["cases"],
    jobs=snakemake.threads,
)
write_json(snakemake.output.report, report.to_dict())
