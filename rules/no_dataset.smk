# In place of the other stages when data_root holds no usable dataset (DATASET_ERROR): every
# target but the download stops with the dataset's error, before any job runs.


def dataset_error(wildcards):
    raise WorkflowError(DATASET_ERROR)


rule dataset_missing:
    input:
        dataset_error,
    output:
        "results/{target}",


ruleorder: download_chbmit > dataset_missing
