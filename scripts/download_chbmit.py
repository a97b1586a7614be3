import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)
import logging

logging.basicConfig(
    stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
)
logging.captureWarnings(True)
from preictal.chbmit.download import download_chbmit
from preictal.io import write_json

download = snakemake.params.download
report = download_chbmit(
    snakemake.params.dest,
    base_url=download["base_url"],
    cases=download["cases"],
    jobs=snakemake.threads,
)
write_json(snakemake.output.report, report.to_dict())
