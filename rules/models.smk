# Splits (lib/preictal/splits.py) and the per-fold models (lib/preictal/models/): feature
# baselines, FusionNet and its comparison variants.


rule make_split:
    input:
        windows=lambda wc: expand(layout.WINDOWS, case=fold_cases(wc)),
        labels=lambda wc: expand(layout.LABELS, case=fold_cases(wc)),
        files=lambda wc: expand(layout.FILES, case=fold_cases(wc)),
        seizures=lambda wc: expand(layout.LEDGER, case=fold_cases(wc)),
    output:
        split=layout.SPLIT,
        manifest=layout.SPLIT_MANIFEST,
    log:
        "logs/make_split/{split}.{fold}.log",
    benchmark:
        "results/benchmarks/make_split/{split}.{fold}.tsv"
    conda:
        "../envs/pipeline.yaml"
    params:
        cases=fold_cases,
        splits=SPLIT_PARAMS,
        patients=config["patients"],
        data_source=DATA_SOURCE,
        code=script_code("make_split"),
    script:
        "../scripts/make_split.py"


rule train_baseline:
    input:
        split=layout.SPLIT,
        split_manifest=layout.SPLIT_MANIFEST,
        windows=lambda wc: expand(layout.WINDOWS, case=fold_cases(wc)),
        labels=lambda wc: expand(layout.LABELS, case=fold_cases(wc)),
        features=lambda wc: expand(layout.MODEL_FEATURES, case=fold_cases(wc)),
    output:
        model="results/folds/{split}/{fold}/{model}/model.json",
        predictions=layout.PREDICTIONS,
        manifest=layout.MODEL_MANIFEST,
    log:
        "logs/train_baseline/{split}.{fold}.{model}.log",
    benchmark:
        "results/benchmarks/train_baseline/{split}.{fold}.{model}.tsv"
    wildcard_constraints:
        model="logreg|mlp|xgboost",
    conda:
        "../envs/pipeline.yaml"
    params:
        cases=fold_cases,
        baseline=config["baseline"],
        data_source=DATA_SOURCE,
        code=script_code("train_baseline"),
    script:
        "../scripts/train_baseline.py"


rule train_fusion:
    input:
        split=layout.SPLIT,
        split_manifest=layout.SPLIT_MANIFEST,
        windows=lambda wc: expand(layout.WINDOWS, case=fold_cases(wc)),
        labels=lambda wc: expand(layout.LABELS, case=fold_cases(wc)),
        features=lambda wc: expand(layout.MODEL_FEATURES, case=fold_cases(wc)),
        absolute_features=lambda wc: expand(layout.FEATURES, case=fold_cases(wc)),
        references=lambda wc: expand(layout.SPECTRAL_REFERENCE, case=fold_cases(wc)),
        signals=lambda wc: expand(layout.SIGNAL, case=fold_cases(wc)),
        seizures=lambda wc: expand(layout.LEDGER, case=fold_cases(wc)),
        files=lambda wc: expand(layout.FILES, case=fold_cases(wc)),
    output:
        model="results/folds/{split}/{fold}/fusion/model.pt",
        predictions="results/folds/{split}/{fold}/fusion/predictions.parquet",
        manifest="results/folds/{split}/{fold}/fusion/manifest.json",
    log:
        "logs/train_fusion/{split}.{fold}.log",
    benchmark:
        "results/benchmarks/train_fusion/{split}.{fold}.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: fusion_job_threads(FUSION_PARAMS["train"])
    resources:
        mem_mb=2000,
        gpu=config["fusion"]["gpus"],
    params:
        cases=fold_cases,
        fusion=FUSION_PARAMS,
        device=config["fusion"]["device"],
        sfreq=config["preprocess"]["target_sfreq"],
        w_sec=config["windows"]["w_sec"],
        selection_fah=config["evaluation"]["selection_fah"],
        labels=config["labels"],
        data_source=DATA_SOURCE,
        code=script_code("train_fusion"),
    script:
        "../scripts/train_fusion.py"


use rule train_fusion as train_fusion_variant with:
    output:
        model="results/comparisons/{group}/{split}/{fold}/{variant}/model.pt",
        predictions=layout.VARIANT_PREDICTIONS,
        manifest="results/comparisons/{group}/{split}/{fold}/{variant}/manifest.json",
    log:
        "logs/train_fusion_variant/{group}.{variant}.{split}.{fold}.log",
    benchmark:
        "results/benchmarks/train_fusion_variant/{group}.{variant}.{split}.{fold}.tsv"
    params:
        cases=fold_cases,
        fusion=lambda wc: fusion_params(
            config["fusion"], VARIANTS[wc.group][wc.variant]
        ),
        device=config["fusion"]["device"],
        sfreq=config["preprocess"]["target_sfreq"],
        w_sec=config["windows"]["w_sec"],
        selection_fah=config["evaluation"]["selection_fah"],
        labels=config["labels"],
        data_source=DATA_SOURCE,
        code=script_code("train_fusion"),


rule compare_variants:
    input:
        predictions=lambda wc: expand(
            layout.VARIANT_PREDICTIONS,
            group=COMPARISON_TABLES[wc.table],
            split=COMPARISONS["split"],
            fold=comparison_folds(),
            variant=VARIANTS[COMPARISON_TABLES[wc.table]],
        ),
        seizures=expand(layout.LEDGER, case=CASES),
        files=expand(layout.FILES, case=CASES),
    output:
        report(
            "results/tables/{table}.csv",
            caption="../report/comparisons.rst",
            category="4. Models",
            labels={"table": "{table}"},
        ),
    log:
        "logs/compare_variants/{table}.log",
    wildcard_constraints:
        table="|".join(COMPARISON_TABLES),
    conda:
        "../envs/pipeline.yaml"
    params:
        group=lambda wc: COMPARISON_TABLES[wc.table],
        split=COMPARISONS["split"],
        folds=lambda wc: comparison_folds(),
        cases=CASES,
        fah_target=config["evaluation"]["selection_fah"],
        tie_break=config["evaluation"]["tie_break"],
        labels=config["labels"],
        alarms=config["alarms"],
        test=lambda wc: "chosen" if wc.table in CHOSEN_ONLY_TABLES else "all",
        data_source=DATA_SOURCE,
        code=script_code("compare_variants"),
    script:
        "../scripts/compare_variants.py"


rule window_auroc:
    input:
        expand(
            layout.PREDICTIONS,
            split=config["splits"]["modes"],
            fold=FOLDS,
            model=config["models"],
        ),
    output:
        report(
            "results/tables/window_auroc.csv",
            caption="../report/window_auroc.rst",
            category="4. Models",
            labels={"table": "window AUROC"},
        ),
    log:
        "logs/window_auroc.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        code=script_code("window_auroc"),
    script:
        "../scripts/window_auroc.py"


rule comparisons:
    input:
        expand("results/tables/{table}.csv", table=COMPARISON_TABLES),
