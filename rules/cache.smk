# The per-case cache: preprocessing (lib/preictal/signal/), signal store, windows, tables and
# figures (lib/preictal/cache/), features (lib/preictal/features/) and labels (lib/preictal/labels.py).


rule preprocess_case:
    input:
        files=layout.FILES,
        edfs=case_edfs_input,
    output:
        signal=layout.SIGNAL,
        blocks=layout.BLOCKS,
        montage=layout.MONTAGE,
        flat=layout.FLAT,
        manifest=layout.CACHE_MANIFEST,
    log:
        "logs/preprocess_case/{case}.log",
    benchmark:
        "results/benchmarks/preprocess_case/{case}.tsv"
    # Before the next case's twin, so that few cases' EDFs are on disk at once (keep_edfs: false)
    priority: 10
    conda:
        "../envs/pipeline.yaml"
    resources:
        mem_mb=1000,
    params:
        preprocess=config["preprocess"],
        data_source=DATA_SOURCE,
        code=script_code("preprocess_case"),
    script:
        "../scripts/preprocess_case.py"


rule windows_case:
    input:
        signal=layout.SIGNAL,
        blocks=layout.BLOCKS,
        flat=layout.FLAT,
    output:
        layout.WINDOWS,
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
        code=script_code("windows_case"),
    script:
        "../scripts/windows_case.py"


rule features_case:
    input:
        signal=layout.SIGNAL,
        blocks=layout.BLOCKS,
    output:
        layout.FEATURES,
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
        code=script_code("features_case"),
    script:
        "../scripts/features_case.py"


rule model_features_case:
    input:
        features=layout.FEATURES,
        windows=layout.WINDOWS,
    output:
        layout.MODEL_FEATURES,
    log:
        "logs/model_features_case/{case}.log",
    benchmark:
        "results/benchmarks/model_features_case/{case}.tsv"
    conda:
        "../envs/pipeline.yaml"
    params:
        relative_min=config["features"]["relative_min"],
        data_source=DATA_SOURCE,
        code=script_code("model_features_case"),
    script:
        "../scripts/model_features_case.py"


rule spectral_reference_case:
    input:
        signal=layout.SIGNAL,
        windows=layout.WINDOWS,
    output:
        layout.SPECTRAL_REFERENCE,
    log:
        "logs/spectral_reference_case/{case}.log",
    benchmark:
        "results/benchmarks/spectral_reference_case/{case}.tsv"
    conda:
        "../envs/pipeline.yaml"
    params:
        reference_min=config["fusion"]["reference_min"],
        sfreq=config["preprocess"]["target_sfreq"],
        w_sec=config["windows"]["w_sec"],
        code=script_code("spectral_reference_case"),
    script:
        "../scripts/spectral_reference_case.py"


rule label_case:
    input:
        windows=layout.WINDOWS,
        blocks=layout.BLOCKS,
        seizures=layout.SEIZURES,
    output:
        labels=layout.LABELS,
        seizures=layout.LEDGER,
    log:
        "logs/label_case/{case}.log",
    benchmark:
        "results/benchmarks/label_case/{case}.tsv"
    conda:
        "../envs/pipeline.yaml"
    params:
        labels=config["labels"],
        data_source=DATA_SOURCE,
        code=script_code("label_case"),
    script:
        "../scripts/label_case.py"


rule cache_tables:
    input:
        windows=expand(layout.WINDOWS, case=CASES),
        features=expand(layout.FEATURES, case=CASES),
        labels=expand(layout.LABELS, case=CASES),
        manifests=expand(layout.CACHE_MANIFEST, case=CASES),
        blocks=expand(layout.BLOCKS, case=CASES),
        signals=expand(layout.SIGNAL, case=CASES),
        montages=expand(layout.MONTAGE, case=CASES),
        flats=expand(layout.FLAT, case=CASES),
    output:
        window_counts=report(
            "results/tables/window_counts.csv",
            caption="../report/window_counts.rst",
            category="3. Cache",
            labels={"table": "window counts"},
        ),
        cache_report=report(
            "results/tables/cache_report.csv",
            caption="../report/cache_report.rst",
            category="3. Cache",
            labels={"table": "cache report"},
        ),
        channel_consistency=report(
            "results/tables/channel_consistency.csv",
            caption="../report/channel_consistency.rst",
            category="3. Cache",
            labels={"table": "channel consistency"},
        ),
    log:
        "logs/cache_tables.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        cases=CASES,
        code=script_code("cache_tables"),
    script:
        "../scripts/cache_tables.py"


rule cache_figures:
    input:
        files=expand(layout.FILES, case=CASES),
        blocks=expand(layout.BLOCKS, case=CASES),
        windows=expand(layout.WINDOWS, case=CASES),
        labels=expand(layout.LABELS, case=CASES),
        ledger=expand(layout.LEDGER, case=CASES),
        signal=expand(layout.SIGNAL, case=CASES),
        edfs=lambda wc: dataset_input(case_edf_paths(config, CASES[0])),
    output:
        **{
            name: report(
                f"results/figures/cache/{name}.png",
                caption=f"../report/{name}.rst",
                category="3. Cache",
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
        preprocess=config["preprocess"],
        labels=config["labels"],
        code=script_code("cache_figures"),
    script:
        "../scripts/cache_figures.py"


rule exclusions:
    input:
        files=expand(layout.FILES, case=CASES),
        montages=expand(layout.MONTAGE, case=CASES),
    output:
        report(
            layout.EXCLUSIONS,
            caption="../report/exclusions.rst",
            category="2. Dataset",
            labels={"table": "excluded inputs"},
        ),
    log:
        "logs/exclusions.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        cases=CASES,
        data_source=DATA_SOURCE,
        code=script_code("exclusions"),
    script:
        "../scripts/exclusions.py"
