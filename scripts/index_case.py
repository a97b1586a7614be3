"""Parse one case's summary, check its EDF headers and write its gap-aware timeline."""

import sys

sys.stderr = open(
    snakemake.log[0], "w", buffering=1
)  # before heavy imports, so errors reach the log

import logging

logging.basicConfig(
    stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
)
logging.captureWarnings(True)

from preictal.chbmit.index import build_case_index
from preictal.chbmit.timeline import TimelineParams
from preictal.io import write_parquet

case = snakemake.wildcards.case
files, seizures = build_case_index(
    case,
    snakemake.input.summary,
    snakemake.input.edfs,
    records=snakemake.input.get("records"),
    seizure_records=snakemake.input.get("seizure_records"),
    patients=snakemake.params.patients,
    params=TimelineParams(**snakemake.params.timeline),
)
meta = {"data_source": snakemake.params.data_source, "case": case}
write_parquet(snakemake.output.files, files, metadata=meta)
write_parquet(snakemake.output.seizures, seizures, metadata=meta)
