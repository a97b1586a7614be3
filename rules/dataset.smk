if SYNTHETIC:

    rule synthetic_dataset:
        output:
            edfs=SYNTHETIC_FILES["edfs"],
            summaries=SYNTHETIC_FILES["summaries"],
            top_level=SYNTHETIC_FILES["top_level"],
        log:
            "logs/synthetic_dataset.log",
        benchmark:
            "results/benchmarks/synthetic_dataset.tsv"
        threads: workflow.cores
        resources:
            mem_mb=lambda wc, threads: 1500 * threads,
        params:
            out_dir=config["synthetic"]["out_dir"],
            synthetic=config["synthetic"],
            patients=config["patients"],
            code=code_hash("synthetic", "chbmit/summary.py"),
        script:
            "../scripts/synthetic_dataset.py"


rule download_chbmit:
    output:
        report="results/dataset/download_report.json",
    log:
        "logs/download_chbmit.log",
    params:
        data_root=config["data_root"],
        download=config["download"],
    script:
        "../scripts/download_chbmit.py"


rule index_case:
    input:
        summary=case_summary_input,
        edfs=case_edfs_input,
        metadata=dataset_input(dataset_metadata_paths(config)),
    output:
        files="results/index/{case}/files.parquet",
        seizures="results/index/{case}/seizures.parquet",
    log:
        "logs/index_case/{case}.log",
    benchmark:
        "results/benchmarks/index_case/{case}.tsv"
    params:
        data_root=config["data_root"],
        patients=config["patients"],
        timeline=config["timeline"],
        code=code_hash("chbmit"),
    script:
        "../scripts/index_case.py"


rule verify_dataset:
    input:
        files=expand("results/index/{case}/files.parquet", case=CASES),
        seizures=expand("results/index/{case}/seizures.parquet", case=CASES),
        metadata=dataset_input(dataset_metadata_paths(config)),
    output:
        json="results/dataset/verification.json",
        md="results/dataset/verification.md",
        table=report(
            "results/dataset/cases.csv",
            caption="../report/dataset_cases.rst",
            category="Dataset",
            labels={"table": "cases"},
        ),
    log:
        "logs/verify_dataset.log",
    threads: 2
    params:
        data_root=config["data_root"],
        cases=CASES,
        patients=config["patients"],
        verification=config["verification"],
        code=code_hash("chbmit"),
    script:
        "../scripts/verify_dataset.py"


rule plot_dataset_timeline:
    input:
        files=expand("results/index/{case}/files.parquet", case=CASES),
        seizures=expand("results/index/{case}/seizures.parquet", case=CASES),
    output:
        report(
            "results/dataset/timeline.png",
            caption="../report/dataset_timeline.rst",
            category="Dataset",
            labels={"figure": "recording timeline"},
        ),
    log:
        "logs/plot_dataset_timeline.log",
    params:
        code=code_hash("plots"),
    script:
        "../scripts/plot_dataset_timeline.py"
