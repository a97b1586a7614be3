"""Train FusionNet (or a comparison variant of it) on one fold and score its validation and test
windows."""

from preictal.workflow.job import log_to_snakemake_log

log_to_snakemake_log(snakemake)  # first, so that import errors reach the log

import json
from pathlib import Path

from preictal.io import read_case_tables, read_parquets
from preictal.labels import LabelParams
from preictal.models.fusion.fit import AlarmContext, FusionParams, FusionTrainer
from preictal.models.fusion.window import FusionWindow, fusion_torch_threads
from preictal.models.runner import run_train_model

i, p, w, o = snakemake.input, snakemake.params, snakemake.wildcards, snakemake.output
label_params = LabelParams(**p.labels)
params = FusionParams(**p.fusion, fah_target=p.selection_fah)
trainer = FusionTrainer(
    params=params,
    window=FusionWindow.of(p.sfreq, p.w_sec),
    label_params=label_params,
    signal_paths=dict(zip(p.cases, i.signals, strict=True)),
    out_dir=Path(o.model).parent,
    alarm_context=AlarmContext(
        seizures=read_parquets(i.seizures), files=read_parquets(i.files), label_params=label_params
    ),
    reference_paths=dict(zip(p.cases, i.references, strict=True)),
    threads=fusion_torch_threads(snakemake.threads, params.train),
    device=p.device,
    code=p.code,
)
run_train_model(
    trainer,
    w.split,
    w.fold,
    i.split,
    json.loads(open(i.split_manifest).read()),
    read_case_tables(
        p.cases,
        windows=i.windows,
        labels=i.labels,
        features=i.absolute_features if params.features == "absolute" else i.features,
    ),
    data_source=p.data_source,
    out_model=o.model,
    out_predictions=o.predictions,
    out_manifest=o.manifest,
)
