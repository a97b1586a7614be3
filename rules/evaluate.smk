# Alarm evaluation (lib/preictal/alarms/ and lib/preictal/evaluate/): thresholds tuned on
# validation, test metrics, chance tests, summaries, ablation and figures (lib/preictal/plots/).


rule evaluate_fold:
    input:
        predictions=layout.PREDICTIONS,
        model_manifest=layout.MODEL_MANIFEST,
        split_manifest=layout.SPLIT_MANIFEST,
        seizures=lambda wc: expand(layout.LEDGER, case=fold_cases(wc)),
        files=lambda wc: expand(layout.FILES, case=fold_cases(wc)),
    output:
        results=layout.EVAL_RESULTS,
        curve=layout.VAL_CURVE,
        seizures=layout.TEST_SEIZURES,
        alarms=layout.TEST_ALARMS,
        calibration=layout.CALIBRATION,
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
        evaluation=FOLD_EVALUATION,
        data_source=DATA_SOURCE,
        code=script_code("evaluate_fold"),
    script:
        "../scripts/evaluate_fold.py"


rule aggregate_split:
    input:
        folds=lambda wc: expand(
            layout.EVAL_RESULTS,
            split=wc.split,
            fold=FOLDS,
            model=config["models"],
        ),
        exclusions=layout.EXCLUSIONS,
        # In the main target: a twin's EDFs (keep_edfs: false) are checked before they go.
        verification="results/dataset/verification.json",
    output:
        results=report(
            layout.SPLIT_RESULTS,
            caption="../report/results.rst",
            category="5. Evaluation",
            labels={"table": "{split} results"},
        ),
        summary=report(
            layout.SPLIT_SUMMARY,
            caption="../report/summary.rst",
            category="1. Results",
            labels={"table": "{split} summary"},
        ),
    log:
        "logs/aggregate_split/{split}.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        alpha=config["evaluation"]["alpha"],
        interval=config["evaluation"]["interval"],
        n_boot=config["evaluation"]["n_boot"],
        seed=config["evaluation"]["seed"],
        code=script_code("aggregate_split"),
    script:
        "../scripts/aggregate_split.py"


rule alarm_ablation:
    input:
        predictions=expand(
            layout.PREDICTIONS,
            split=config["splits"]["modes"],
            fold=FOLDS,
            model=config["models"],
        ),
        seizures=expand(layout.LEDGER, case=CASES),
        files=expand(layout.FILES, case=CASES),
    output:
        report(
            "results/tables/alarm_ablation.csv",
            caption="../report/alarm_ablation.rst",
            category="5. Evaluation",
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
        evaluation=FOLD_EVALUATION,
        selection_fah=config["evaluation"]["selection_fah"],
        code=script_code("alarm_ablation"),
    script:
        "../scripts/alarm_ablation.py"


rule threshold_transfer:
    input:
        predictions=expand(
            layout.PREDICTIONS,
            split=config["splits"]["modes"],
            fold=FOLDS,
            model=config["models"],
        ),
        seizures=expand(layout.LEDGER, case=CASES),
        files=expand(layout.FILES, case=CASES),
    output:
        report(
            "results/tables/threshold_transfer.csv",
            caption="../report/threshold_transfer.rst",
            category="5. Evaluation",
            labels={"table": "threshold transfer"},
        ),
    log:
        "logs/threshold_transfer.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        patients=config["patients"],
        labels=config["labels"],
        alarms=config["alarms"],
        evaluation=FOLD_EVALUATION,
        code=script_code("threshold_transfer"),
    script:
        "../scripts/threshold_transfer.py"


rule spc:
    input:
        predictions=lambda wc: expand(
            layout.PREDICTIONS,
            split=wc.split,
            fold=FOLDS,
            model=config["models"],
        ),
        seizures=expand(layout.LEDGER, case=CASES),
        files=expand(layout.FILES, case=CASES),
    output:
        folds="results/tables/spc_{split}_folds.csv",
        characteristic=report(
            "results/tables/spc_{split}.csv",
            caption="../report/spc.rst",
            category="5. Evaluation",
            labels={"table": "{split} seizure prediction characteristic"},
        ),
        figure=report(
            "results/figures/spc/{split}.png",
            caption="../report/eval_spc.rst",
            category="5. Evaluation",
            subcategory="{split}",
            labels={"split": "{split}", "figure": "seizure prediction characteristic"},
        ),
    log:
        "logs/spc/{split}.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        patients=config["patients"],
        labels=config["labels"],
        alarms=config["alarms"],
        evaluation={
            key: config["evaluation"][key]
            for key in ("fah_targets", "n_thresholds", "tie_break")
        },
        spc=config["evaluation"]["spc"],
        data_source=DATA_SOURCE,
        code=script_code("spc"),
    script:
        "../scripts/spc.py"


rule final_summary:
    input:
        results=expand(layout.SPLIT_RESULTS, split=config["splits"]["modes"]),
        summaries=expand(layout.SPLIT_SUMMARY, split=config["splits"]["modes"]),
        calibrations=expand(
            layout.CALIBRATION,
            split=config["splits"]["modes"],
            fold=FOLDS,
            model=config["models"],
        ),
        split_manifests=expand(
            layout.SPLIT_MANIFEST,
            split=config["splits"]["modes"],
            fold=FOLDS,
        ),
        exclusions=layout.EXCLUSIONS,
    output:
        summary_results=report(
            "results/summary_results.csv",
            caption="../report/summary_results.rst",
            category="5. Evaluation",
            labels={"table": "summary results"},
        ),
        calibration=report(
            "results/tables/calibration_comparison.csv",
            caption="../report/calibration.rst",
            category="5. Evaluation",
            labels={"table": "calibration"},
        ),
        final_summary=report(
            "results/final_summary.md",
            caption="../report/final_summary.rst",
            category="1. Results",
            labels={"table": "markdown of the final summary"},
        ),
        headline=report(
            "results/headline.html",
            caption="../report/headline.rst",
            category="1. Results",
            labels={"table": "headline: every model at every FAH target"},
        ),
    log:
        "logs/final_summary.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        splits=config["splits"]["modes"],
        labels=config["labels"],
        alpha=config["evaluation"]["alpha"],
        selection_fah=config["evaluation"]["selection_fah"],
        data_source=DATA_SOURCE,
        metrics_log="results/tables/metrics.csv",  # appended, so not an output
        code=script_code("final_summary"),
    script:
        "../scripts/final_summary.py"


rule evaluation_figures:
    input:
        results=layout.SPLIT_RESULTS,
        curves=lambda wc: expand(
            layout.VAL_CURVE,
            split=wc.split,
            fold=FOLDS,
            model=FIGURE_MODELS,
        ),
        seizures=lambda wc: expand(
            layout.TEST_SEIZURES,
            split=wc.split,
            fold=FOLDS,
            model=config["models"],
        ),
        alarms=lambda wc: expand(
            layout.TEST_ALARMS,
            split=wc.split,
            fold=FOLDS,
            model=FIGURE_MODELS,
        ),
        predictions=lambda wc: expand(
            layout.PREDICTIONS,
            split=wc.split,
            fold=FOLDS,
            model=FIGURE_MODELS,
        ),
        train_curves=lambda wc: expand(
            "results/folds/{split}/{fold}/fusion/manifest.json",
            split=wc.split,
            fold=FOLDS if "fusion" in config["models"] else [],
        ),
        split_manifests=lambda wc: expand(
            layout.SPLIT_MANIFEST, split=wc.split, fold=FOLDS
        ),
        files=expand(layout.FILES, case=CASES),
        ledgers=expand(layout.LEDGER, case=CASES),
    output:
        **{
            name: report(
                f"results/figures/eval/{{split}}/{name}.png",
                caption=f"../report/eval_{name}.rst",
                category="5. Evaluation",
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
        figure_models=FIGURE_MODELS,
        selection_fah=config["evaluation"]["selection_fah"],
        model_label=(
            "the model chosen on validation (named in the figure's title)"
            if FIGURE_MODEL == "chosen"
            else FIGURE_MODEL
        ),
        target_fah=FIGURE_FAH,
        labels=config["labels"],
        alarms=config["alarms"],
        alpha=config["evaluation"]["alpha"],
        data_source=DATA_SOURCE,
        code=script_code("evaluation_figures"),
    script:
        "../scripts/evaluation_figures.py"
