"""Train FusionNet (or a comparison variant of it) on one fold and score its validation and test
windows."""

from preictal.jobs import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

import json

from preictal.features.relative import with_relative_features
from preictal.folds import read_case_tables, run_train_model
from preictal.io import read_parquets
from preictal.models.fusion_fold import AlarmContext, FusionParams

i, p, w, o = snakemake.input, snakemake.params, snakemake.wildcards, snakemake.output
run_train_model(
    "fusion",
    w.split,
    w.fold,
    i.split,
    json.loads(open(i.split_manifest).read()),
    with_relative_features(
        read_case_tables(p.cases, windows=i.windows, labels=i.labels, features=i.features),
        p.relative_min,
    ),
    params=FusionParams(**p.fusion),
    data_source=p.data_source,
    out_model=o.model,
    out_predictions=o.predictions,
    out_manifest=o.manifest,
    signal_paths=dict(zip(p.cases, i.signals, strict=True)),
    threads=snakemake.threads,
    device=p.device,
    alarm_context=AlarmContext(
        seizures=read_parquets(i.seizures),
        files=read_parquets(i.files),
        label_params=p.labels,
    ),
)
