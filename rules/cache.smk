rule preprocess_case:
    input:
        files="results/index/{case}/files.parquet",
        edfs=case_edfs_input,
    output:
        signal="results/cache/{case}/signal.npy",
        blocks="results/cache/{case}/blocks.parquet",
        montage="results/cache/{case}/montage.parquet",
        flat="results/cache/{case}/flat.parquet",
        manifest="results/cache/{case}/manifest.json",
    log:
        "logs/preprocess_case/{case}.log",
    benchmark:
        "results/benchmarks/preprocess_case/{case}.tsv"
    conda:
        "../envs/pipeline.yaml"
    resources:
        mem_mb=1000,
    params:
        preprocess=config["preprocess"],
        data_source=DATA_SOURCE,
        code=code_hash("cache.py", "signal"),
    script:
        "../scripts/preprocess_case.py"


rule windows_case:
    input:
        signal="results/cache/{case}/signal.npy",
        blocks="results/cache/{case}/blocks.parquet",
        flat="results/cache/{case}/flat.parquet",
    output:
        "results/cache/{case}/windows.parquet",
    log:
        "logs/windows_case/{case}.log",
    benchmark:
        "results/benchmarks/windows_case/{case}.tsv"
    conda:
        "../envs/pipeline.yaml"
    params:
        windows=config["windows"],
        sfreq=config["preprocess"]["target_sfreq"],
        data_source=DATA_SOURCE,
        code=code_hash("windows.py"),
    script:
        "../scripts/windows_case.py"


rule features_case:
    input:
        signal="results/cache/{case}/signal.npy",
        blocks="results/cache/{case}/blocks.parquet",
    output:
        "results/cache/{case}/features.parquet",
    log:
        "logs/features_case/{case}.log",
    benchmark:
        "results/benchmarks/features_case/{case}.tsv"
    conda:
        "../envs/pipeline.yaml"
    params:
        feature_set=config["features"]["feature_set"],
        w_sec=config["windows"]["w_sec"],
        step_sec=config["windows"]["step_sec"],
        sfreq=config["preprocess"]["target_sfreq"],
        data_source=DATA_SOURCE,
        code=code_hash(  # not features/relative.py: the models apply it when they load
            "features/__init__.py",
            "features/spectral.py",
            "features/temporal.py",
            "features/table.py",
            "windows.py",
        ),
    script:
        "../scripts/features_case.py"


rule label_case:
    input:
        windows="results/cache/{case}/windows.parquet",
        files="results/index/{case}/files.parquet",
        seizures="results/index/{case}/seizures.parquet",
    output:
        labels="results/labels/{case}.parquet",
        seizures="results/labels/{case}_seizures.parquet",
    log:
        "logs/label_case/{case}.log",
    benchmark:
        "results/benchmarks/label_case/{case}.tsv"
    conda:
        "../envs/pipeline.yaml"
    params:
        labels=config["labels"],
        data_source=DATA_SOURCE,
        code=code_hash("labels.py"),
    script:
        "../scripts/label_case.py"


rule cache_tables:
    input:
        windows=expand("results/cache/{case}/windows.parquet", case=CASES),
        features=expand("results/cache/{case}/features.parquet", case=CASES),
        labels=expand("results/labels/{case}.parquet", case=CASES),
        manifests=expand("results/cache/{case}/manifest.json", case=CASES),
    output:
        window_counts=report(
            "results/tables/window_counts.csv",
            caption="../report/window_counts.rst",
            category="Cache",
            labels={"table": "window counts"},
        ),
        cache_report=report(
            "results/tables/cache_report.csv",
            caption="../report/cache_report.rst",
            category="Cache",
            labels={"table": "cache report"},
        ),
        channel_consistency=report(
            "results/tables/channel_consistency.csv",
            caption="../report/channel_consistency.rst",
            category="Cache",
            labels={"table": "channel consistency"},
        ),
    log:
        "logs/cache_tables.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        cases=CASES,
        code=code_hash("cache_report.py"),
    script:
        "../scripts/cache_tables.py"


rule cache_figures:
    input:
        manifests=expand("results/cache/{case}/manifest.json", case=CASES),
        windows=expand("results/cache/{case}/windows.parquet", case=CASES),
        labels=expand("results/labels/{case}.parquet", case=CASES),
        edfs=lambda wc: dataset_input(case_edf_paths(config, CASES[0])),
    output:
        **{
            name: report(
                f"results/figures/cache/{name}.png",
                caption=f"../report/{name}.rst",
                category="Cache",
                labels={"figure": name.replace("_", " ")},
            )
            for name in CACHE_FIGURES
        },
    log:
        "logs/cache_figures.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        cases=CASES,
        sfreq=config["preprocess"]["target_sfreq"],
        notch_hz=config["preprocess"]["notch_hz"],
        labels=config["labels"],
        code=code_hash("plots/cache.py", "plots/dataset.py"),
    script:
        "../scripts/cache_figures.py"
