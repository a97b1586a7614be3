"""Window counts, cache report and channel-consistency tables."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

from preictal.cache.tables import write_cache_tables

i = snakemake.input
cache_files = [i.signals, i.blocks, i.montages, i.flats, i.manifests, i.windows, i.features]
paths = {
    case: {
        "windows": i.windows[k],
        "features": i.features[k],
        "labels": i.labels[k],
        "manifest": i.manifests[k],
        "blocks": i.blocks[k],
        "cache_files": [files[k] for files in cache_files],
    }
    for k, case in enumerate(snakemake.params.cases)
}
write_cache_tables(paths, dict(snakemake.output.items()))
