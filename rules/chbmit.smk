# Data: the synthetic CHB-MIT-like dataset (lib/preictal/synthetic/), each case's index and
# timeline, and the dataset verification (lib/preictal/chbmit/).


if TWIN:
    # The CHB-MIT twin: one rule per case (`snakemake synthetic_twin_chb12` builds one case's
    # twin), the lists that RECORDS-based indexing needs, and the top level from the cases'
    # hash lists (no EDF is read twice).
    for twin_case, paths in TWIN_FILES["cases"].items():

        rule:
            name:
                f"synthetic_twin_{twin_case}"
            output:
                edfs=(
                    paths["edfs"]
                    if config["synthetic"]["keep_edfs"]
                    else temp(paths["edfs"])
                ),
                summary=paths["summary"],
                part=paths["part"],
            log:
                f"logs/synthetic_twin/{twin_case}.log",
            benchmark:
                f"results/benchmarks/synthetic_twin/{twin_case}.tsv"
            conda:
                "../envs/pipeline.yaml"
            threads: 8  # capped by --cores
            resources:
                mem_mb=lambda wc, threads: 1500 * threads,
            params:
                **twin_case_params(twin_case),
                out_dir=DATA_ROOT,
                case=twin_case,
                code=script_code("synthetic_twin_case"),
            script:
                "../scripts/synthetic_twin_case.py"

    rule synthetic_twin_lists:
        output:
            TWIN_FILES["lists"],
        log:
            "logs/synthetic_twin_lists.log",
        priority: 10  # first: every case's index_case reads the lists
        conda:
            "../envs/pipeline.yaml"
        params:
            out_dir=DATA_ROOT,
            synthetic=config["synthetic"],
            patients=config["patients"],
            code=script_code("synthetic_twin_lists"),
        script:
            "../scripts/synthetic_twin_lists.py"

    rule synthetic_twin_top_level:
        input:
            lists=TWIN_FILES["lists"],
            parts=[paths["part"] for paths in TWIN_FILES["cases"].values()],
        output:
            TWIN_FILES["top_level"],
        log:
            "logs/synthetic_twin_top_level.log",
        conda:
            "../envs/pipeline.yaml"
        params:
            out_dir=DATA_ROOT,
            synthetic=config["synthetic"],
            patients=config["patients"],
            code=script_code("synthetic_twin_top_level"),
        script:
            "../scripts/synthetic_twin_top_level.py"

elif SYNTHETIC:

    rule synthetic_dataset:
        output:
            edfs=SYNTHETIC_FILES["edfs"],
            summaries=SYNTHETIC_FILES["summaries"],
            top_level=SYNTHETIC_FILES["top_level"],
        log:
            "logs/synthetic_dataset.log",
        benchmark:
            "results/benchmarks/synthetic_dataset.tsv"
        conda:
            "../envs/pipeline.yaml"
        threads: 8  # capped by --cores
        resources:
            mem_mb=lambda wc, threads: 1500 * threads,
        params:
            out_dir=lambda wc, output: Path(output.top_level[0]).parent,
            synthetic=PLANTED_PARAMS,
            patients=config["patients"],
            code=script_code("synthetic_dataset"),
        script:
            "../scripts/synthetic_dataset.py"


rule index_case:
    input:
        unpack(case_raw_inputs),
    output:
        files=layout.FILES,
        seizures=layout.SEIZURES,
    log:
        "logs/index_case/{case}.log",
    benchmark:
        "results/benchmarks/index_case/{case}.tsv"
    # Before the next case's twin, so that few cases' EDFs are on disk at once (keep_edfs: false)
    priority: 10
    conda:
        "../envs/pipeline.yaml"
    params:
        patients=config["patients"],
        timeline=config["timeline"],
        data_source=DATA_SOURCE,
        raw_files=case_raw_fingerprint,
        code=script_code("index_case"),
    script:
        "../scripts/index_case.py"


rule verify_case:
    input:
        unpack(case_raw_inputs),
    output:
        layout.FILE_CHECKS,
    log:
        "logs/verify_case/{case}.log",
    benchmark:
        "results/benchmarks/verify_case/{case}.tsv"
    # Before the next case's twin, so that few cases' EDFs are on disk at once (keep_edfs: false)
    priority: 10
    conda:
        "../envs/pipeline.yaml"
    params:
        data_root=lambda wc: config["data_root"],
        sha256=config["verification"]["sha256"],
        raw_files=case_raw_fingerprint,
        code=script_code("verify_case"),
    script:
        "../scripts/verify_case.py"


rule verify_dataset:
    input:
        files=expand(layout.FILES, case=CASES),
        seizures=expand(layout.SEIZURES, case=CASES),
        case_files=expand(layout.FILE_CHECKS, case=CASES),
        metadata=dataset_input(dataset_metadata_paths(config).values()),
    output:
        json="results/dataset/verification.json",
        md="results/dataset/verification.md",
        table=report(
            "results/dataset/cases.csv",
            caption="../report/dataset_cases.rst",
            category="2. Dataset",
            labels={"table": "cases"},
        ),
    log:
        "logs/verify_dataset.log",
    conda:
        "../envs/pipeline.yaml"
    threads: 2
    params:
        # The folder itself is scanned for EDFs that no list names, and hashed file by file.
        data_root=lambda wc: config["data_root"],
        cases=CASES,
        patients=config["patients"],
        verification=config["verification"],
        code=script_code("verify_dataset"),
    script:
        "../scripts/verify_dataset.py"


rule plot_dataset_timeline:
    input:
        files=expand(layout.FILES, case=CASES),
        seizures=expand(layout.SEIZURES, case=CASES),
    output:
        report(
            "results/dataset/timeline.png",
            caption="../report/dataset_timeline.rst",
            category="2. Dataset",
            labels={"figure": "recording timeline"},
        ),
    log:
        "logs/plot_dataset_timeline.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        code=script_code("plot_dataset_timeline"),
    script:
        "../scripts/plot_dataset_timeline.py"
