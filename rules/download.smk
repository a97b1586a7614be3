# The CHB-MIT download (lib/preictal/chbmit/download.py): the one job that can run before the
# dataset exists.


rule download_chbmit:
    output:
        report="results/dataset/download_report.json",
    log:
        "logs/download_chbmit.log",
    conda:
        "../envs/pipeline.yaml"
    threads: 4
    params:
        dest=config["data_root"],
        synthetic=SYNTHETIC,
        download=config["download"],
    script:
        "../scripts/download_chbmit.py"
