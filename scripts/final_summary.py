"""The closing tables (summary_results, calibration comparison), final_summary.md and one new row
of the run log results/tables/metrics.csv."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

import json

import pandas as pd

from preictal.evaluate.final_summary import (
    append_metrics_row,
    calibration_comparison,
    final_summary_md,
    metrics_row,
    summary_results,
)
from preictal.evaluate.headline import headline_html
from preictal.io import atomic_path, write_text
from preictal.labels import LabelParams

i, p, o = snakemake.input, snakemake.params, snakemake.output
splits = {
    split: (pd.read_csv(results), pd.read_csv(summary))
    for split, results, summary in zip(p.splits, i.results, i.summaries, strict=True)
}
manifests = {}
for path in i.split_manifests:
    m = json.loads(open(path).read())
    manifests[(m["split"], m["fold"])] = m
table = pd.concat(
    [summary_results(results, manifests, p.selection_fah) for results, _ in splits.values()],
    ignore_index=True,
)
with atomic_path(o.summary_results) as tmp:
    table.to_csv(tmp, index=False)
calibration = calibration_comparison(
    [pd.read_csv(path) if open(path).read().strip() else pd.DataFrame() for path in i.calibrations]
)
with atomic_path(o.calibration) as tmp:
    calibration.to_csv(tmp, index=False)
label_params = LabelParams(**p.labels)
summary_md = final_summary_md(
    splits,
    p.data_source,
    label_params,
    p.alpha,
    p.selection_fah,
    exclusions=pd.read_csv(i.exclusions),
)
write_text(o.final_summary, summary_md)
write_text(
    o.headline,
    headline_html(splits, p.data_source, label_params, p.selection_fah, summary_md),
)
append_metrics_row(
    p.metrics_log, metrics_row(snakemake.config, p.data_source, splits, p.selection_fah)
)
