from snakemake.utils import min_version

min_version("9.0")


# Relative to the Snakefile, so that runs with --directory elsewhere get the same defaults.
configfile: f"{workflow.basedir}/workflow_config.yaml"


include: "rules/common.smk"
include: "rules/download.smk"


if DATASET_ERROR:

    include: "rules/no_dataset.smk"

else:

    include: "rules/chbmit.smk"
    include: "rules/cache.smk"
    include: "rules/models.smk"
    include: "rules/evaluate.smk"


report: "report/workflow.rst"


rule all:
    default_target: True
    input:
        all_targets,


onsuccess:
    # Imported here: pandas is not needed at parse time.
    from preictal.cache.tables import exclusions_note

    note = exclusions_note(layout.EXCLUSIONS)
    if note:
        logger.warning(note)
    summary = warnings_summary("logs", since=RUN_STARTED)
    if summary:
        logger.warning(summary)


onerror:
    summary = warnings_summary("logs", since=RUN_STARTED)
    if summary:
        logger.warning(summary)
