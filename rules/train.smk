rule make_split:
    input:
        windows=lambda wc: expand(
            "results/cache/{case}/windows.parquet", case=fold_cases(wc)
        ),
        labels=lambda wc: expand("results/labels/{case}.parquet", case=fold_cases(wc)),
        files=lambda wc: expand(
            "results/index/{case}/files.parquet", case=fold_cases(wc)
        ),
        seizures=lambda wc: expand(
            "results/labels/{case}_seizures.parquet", case=fold_cases(wc)
        ),
    output:
        split="results/folds/{split}/{fold}/split.parquet",
        manifest="results/folds/{split}/{fold}/split.json",
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
        code=code_hash("splits.py", "folds.py"),
    script:
        "../scripts/make_split.py"


rule train_baseline:
    input:
        split="results/folds/{split}/{fold}/split.parquet",
        split_manifest="results/folds/{split}/{fold}/split.json",
        windows=lambda wc: expand(
            "results/cache/{case}/windows.parquet", case=fold_cases(wc)
        ),
        labels=lambda wc: expand("results/labels/{case}.parquet", case=fold_cases(wc)),
        features=lambda wc: expand(
            "results/cache/{case}/features.parquet", case=fold_cases(wc)
        ),
    output:
        model="results/folds/{split}/{fold}/{model}/model.json",
        predictions="results/folds/{split}/{fold}/{model}/predictions.parquet",
        manifest="results/folds/{split}/{fold}/{model}/manifest.json",
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
        relative_min=config["features"]["relative_min"],
        data_source=DATA_SOURCE,
        code=code_hash(
            "models/baseline.py", "folds.py", "features/relative.py", "recent.py"
        ),
    script:
        "../scripts/train_baseline.py"


rule train_fusion:
    input:
        split="results/folds/{split}/{fold}/split.parquet",
        split_manifest="results/folds/{split}/{fold}/split.json",
        windows=lambda wc: expand(
            "results/cache/{case}/windows.parquet", case=fold_cases(wc)
        ),
        labels=lambda wc: expand("results/labels/{case}.parquet", case=fold_cases(wc)),
        features=lambda wc: expand(
            "results/cache/{case}/features.parquet", case=fold_cases(wc)
        ),
        signals=lambda wc: expand(
            "results/cache/{case}/signal.npy", case=fold_cases(wc)
        ),
        seizures=lambda wc: expand(
            "results/labels/{case}_seizures.parquet", case=fold_cases(wc)
        ),
        files=lambda wc: expand(
            "results/index/{case}/files.parquet", case=fold_cases(wc)
        ),
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
    threads: 1
    resources:
        mem_mb=2000,
        gpu=config["fusion"]["gpus"],
    params:
        cases=fold_cases,
        fusion=FUSION_PARAMS,
        device=config["fusion"]["device"],
        labels=config["labels"],
        relative_min=config["features"]["relative_min"],
        data_source=DATA_SOURCE,
        code=FUSION_CODE,
    script:
        "../scripts/train_fusion.py"


use rule train_fusion as train_fusion_variant with:
    output:
        model="results/comparisons/{group}/{split}/{fold}/{variant}/model.pt",
        predictions="results/comparisons/{group}/{split}/{fold}/{variant}/predictions.parquet",
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
        labels=config["labels"],
        relative_min=config["features"]["relative_min"],
        data_source=DATA_SOURCE,
        code=FUSION_CODE,


rule compare_variants:
    input:
        predictions=lambda wc: expand(
            "results/comparisons/{group}/{split}/{fold}/{variant}/predictions.parquet",
            group=COMPARISON_TABLES[wc.table],
            split=COMPARISONS["split"],
            fold=comparison_folds(),
            variant=VARIANTS[COMPARISON_TABLES[wc.table]],
        ),
        seizures=expand("results/labels/{case}_seizures.parquet", case=CASES),
        files=expand("results/index/{case}/files.parquet", case=CASES),
    output:
        report(
            "results/tables/{table}.csv",
            caption="../report/comparisons.rst",
            category="Models",
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
        fah_target=COMPARISONS["fah_target"],
        labels=config["labels"],
        alarms=config["alarms"],
        test=lambda wc: "chosen" if wc.table == "sweep_results" else "all",
        data_source=DATA_SOURCE,
        code=code_hash("comparisons.py", "alarms"),
    script:
        "../scripts/compare_variants.py"


rule window_auroc:
    input:
        expand(
            "results/folds/{split}/{fold}/{model}/predictions.parquet",
            split=config["splits"]["modes"],
            fold=FOLDS,
            model=config["models"],
        ),
    output:
        report(
            "results/tables/window_auroc.csv",
            caption="../report/window_auroc.rst",
            category="Models",
            labels={"table": "window AUROC"},
        ),
    log:
        "logs/window_auroc.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        code=code_hash("window_metrics.py"),
    script:
        "../scripts/window_auroc.py"


rule comparisons:
    input:
        expand("results/tables/{table}.csv", table=COMPARISON_TABLES),
