from snakemake.utils import min_version

min_version("9.0")


# Relative to the Snakefile, so that runs with --directory elsewhere get the same defaults.
configfile: f"{workflow.basedir}/workflow_config.yaml"


include: "rules/common.smk"
include: "rules/chbmit.smk"
include: "rules/cache.smk"
include: "rules/models.smk"
include: "rules/evaluate.smk"


report: "report/workflow.rst"


rule all:
    default_target: True
    input:
        all_targets,
