"""Start of every Snakemake script: stderr and logging go to the rule's log file.

Imported before anything heavy, so that an import error also reaches the log.
"""

from __future__ import annotations

import logging
import sys


def log_to_snakemake_log(snakemake) -> None:
    """Everything to the job's log; records of the `preictal.progress` logger (FusionNet's
    epochs) also to the console, labelled with the job's rule and wildcards."""
    sys.stderr = open(snakemake.log[0], "w", buffering=1)  # open for the whole job
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    logging.captureWarnings(True)
    console = logging.StreamHandler(sys.__stderr__)  # Snakemake's console (or a cluster job's)
    label = " ".join([snakemake.rule, *(f"{k}={v}" for k, v in snakemake.wildcards.items())])
    console.setFormatter(
        logging.Formatter(f"%(asctime)s       {label}: %(message)s", datefmt="%H:%M:%S")
    )
    logging.getLogger("preictal.progress").addHandler(console)
