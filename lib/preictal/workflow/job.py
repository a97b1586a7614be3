"""Start of every Snakemake script: stderr and logging go to the rule's log file.

Imported before anything heavy, so that an import error also reaches the log.
"""

from __future__ import annotations

import logging
import sys


def log_to_snakemake_log(snakemake) -> None:
    sys.stderr = open(snakemake.log[0], "w", buffering=1)  # open for the whole job
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    logging.captureWarnings(True)
