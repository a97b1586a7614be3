"""Parse one case's summary, check its EDF headers and write its gap-aware timeline."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

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
write_parquet(
    snakemake.output.files, files, metadata={**meta, "ignored_edfs": files.attrs["ignored_edfs"]}
)
write_parquet(snakemake.output.seizures, seizures, metadata=meta)
