rule evaluate_fold:
    input:
        predictions="results/folds/{split}/{fold}/{model}/predictions.parquet",
        model_manifest="results/folds/{split}/{fold}/{model}/manifest.json",
        split_manifest="results/folds/{split}/{fold}/split.json",
        seizures=lambda wc: expand(
            "results/labels/{case}_seizures.parquet", case=fold_cases(wc)
        ),
        files=lambda wc: expand(
            "results/index/{case}/files.parquet", case=fold_cases(wc)
        ),
    output:
        results="results/eval/{split}/{fold}/{model}/results.csv",
        curve="results/eval/{split}/{fold}/{model}/val_curve.csv",
        seizures="results/eval/{split}/{fold}/{model}/test_seizures.parquet",
        alarms="results/eval/{split}/{fold}/{model}/test_alarms.parquet",
        calibration="results/eval/{split}/{fold}/{model}/calibration.csv",
    log:
        "logs/evaluate_fold/{split}.{fold}.{model}.log",
    benchmark:
        "results/benchmarks/evaluate_fold/{split}.{fold}.{model}.tsv"
    conda:
        "../envs/pipeline.yaml"
    params:
        patients=config["patients"],
        labels=config["labels"],
        alarms=config["alarms"],
        evaluation=config["evaluation"],
        data_source=DATA_SOURCE,
        code=code_hash(
            "evaluation.py",
            "alarms",
            "recent.py",
            "window_metrics.py",
            "calibration.py",
        ),
    script:
        "../scripts/evaluate_fold.py"


rule aggregate_split:
    input:
        lambda wc: expand(
            "results/eval/{split}/{fold}/{model}/results.csv",
            split=wc.split,
            fold=FOLDS,
            model=config["models"],
        ),
    output:
        results=report(
            "results/{split}_results.csv",
            caption="../report/results.rst",
            category="Evaluation",
            labels={"table": "{split} results"},
        ),
        summary=report(
            "results/{split}_summary.csv",
            caption="../report/summary.rst",
            category="Evaluation",
            labels={"table": "{split} summary"},
        ),
    log:
        "logs/aggregate_split/{split}.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        evaluation=config["evaluation"],
        code=code_hash("summary.py", "alarms/chance.py"),
    script:
        "../scripts/aggregate_split.py"


rule alarm_ablation:
    input:
        predictions=expand(
            "results/folds/{split}/{fold}/{model}/predictions.parquet",
            split=config["splits"]["modes"],
            fold=FOLDS,
            model=config["models"],
        ),
        seizures=expand("results/labels/{case}_seizures.parquet", case=CASES),
        files=expand("results/index/{case}/files.parquet", case=CASES),
    output:
        report(
            "results/tables/alarm_ablation.csv",
            caption="../report/alarm_ablation.rst",
            category="Evaluation",
            labels={"table": "alarm ablation"},
        ),
    log:
        "logs/alarm_ablation.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        patients=config["patients"],
        labels=config["labels"],
        alarms=config["alarms"],
        evaluation=config["evaluation"],
        code=code_hash("evaluation.py", "summary.py", "alarms", "recent.py"),
    script:
        "../scripts/alarm_ablation.py"


rule final_summary:
    input:
        results=expand("results/{split}_results.csv", split=config["splits"]["modes"]),
        summaries=expand("results/{split}_summary.csv", split=config["splits"]["modes"]),
        calibrations=expand(
            "results/eval/{split}/{fold}/{model}/calibration.csv",
            split=config["splits"]["modes"],
            fold=FOLDS,
            model=config["models"],
        ),
        split_manifests=expand(
            "results/folds/{split}/{fold}/split.json",
            split=config["splits"]["modes"],
            fold=FOLDS,
        ),
    output:
        summary_results=report(
            "results/summary_results.csv",
            caption="../report/summary_results.rst",
            category="Evaluation",
            labels={"table": "summary results"},
        ),
        calibration=report(
            "results/tables/calibration_comparison.csv",
            caption="../report/calibration.rst",
            category="Evaluation",
            labels={"table": "calibration"},
        ),
        final_summary=report(
            "results/final_summary.md",
            caption="../report/final_summary.rst",
            category="Evaluation",
            labels={"table": "final summary"},
        ),
    log:
        "logs/final_summary.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        splits=config["splits"]["modes"],
        labels=config["labels"],
        evaluation=config["evaluation"],
        data_source=DATA_SOURCE,
        metrics_log="results/tables/metrics.csv",  # appended, so not an output
        code=code_hash("final_summary.py"),
    script:
        "../scripts/final_summary.py"


rule evaluation_figures:
    input:
        results="results/{split}_results.csv",
        curves=lambda wc: expand(
            "results/eval/{split}/{fold}/{model}/val_curve.csv",
            split=wc.split,
            fold=FOLDS,
            model=FIGURE_MODEL,
        ),
        seizures=lambda wc: expand(
            "results/eval/{split}/{fold}/{model}/test_seizures.parquet",
            split=wc.split,
            fold=FOLDS,
            model=config["models"],
        ),
        alarms=lambda wc: expand(
            "results/eval/{split}/{fold}/{model}/test_alarms.parquet",
            split=wc.split,
            fold=FOLDS,
            model=FIGURE_MODEL,
        ),
        predictions=lambda wc: expand(
            "results/folds/{split}/{fold}/{model}/predictions.parquet",
            split=wc.split,
            fold=FOLDS,
            model=FIGURE_MODEL,
        ),
        train_curves=lambda wc: expand(
            "results/folds/{split}/{fold}/fusion/manifest.json",
            split=wc.split,
            fold=FOLDS if "fusion" in config["models"] else [],
        ),
        split_manifests=lambda wc: expand(
            "results/folds/{split}/{fold}/split.json", split=wc.split, fold=FOLDS
        ),
        files=expand("results/index/{case}/files.parquet", case=CASES),
        ledgers=expand("results/labels/{case}_seizures.parquet", case=CASES),
    output:
        **{
            name: report(
                f"results/figures/eval/{{split}}/{name}.png",
                caption=f"../report/eval_{name}.rst",
                category="Evaluation",
                subcategory="{split}",
                labels={"split": "{split}", "figure": name.replace("_", " ")},
            )
            for name in EVALUATION_FIGURES
        },
    log:
        "logs/evaluation_figures/{split}.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        folds=FOLDS,
        models=config["models"],
        model=FIGURE_MODEL,
        target_fah=FIGURE_FAH,
        labels=config["labels"],
        alarms=config["alarms"],
        alpha=config["evaluation"]["alpha"],
        data_source=DATA_SOURCE,
        code=code_hash("plots/evaluation.py", "plots/dataset.py", "calibration.py"),
    script:
        "../scripts/evaluation_figures.py"
