from snakemake.utils import min_version

min_version("9.0")


configfile: "workflow_config.yaml"


include: "rules/common.smk"
include: "rules/dataset.smk"


report: "report/workflow.rst"


rule all:
    default_target: True
    input:
        DATASET_REPORT,
