"""Start of every Snakemake script: stderr and logging go to the rule's log file.

Imported before anything heavy, so that an import error also reaches the log.
"""

from __future__ import annotations

import logging
import os
import sys

# Caches that libraries would otherwise write under $HOME (matplotlib's font cache, torch's
# kernels): inside the working directory, so that a job writes nowhere else (on a cluster, the
# shared folder the workflow runs in).
CACHE_DIR = ".snakemake/cache"


def log_to_snakemake_log(snakemake) -> None:
    """Everything to the job's log; records of the `preictal.progress` logger (FusionNet's
    epochs) also to the console, labelled with the job's rule and wildcards. Library caches go
    under the working directory (:data:`CACHE_DIR`) unless the user has placed them."""
    cache = os.path.abspath(CACHE_DIR)
    os.environ.setdefault("MPLCONFIGDIR", os.path.join(cache, "matplotlib"))
    os.environ.setdefault("XDG_CACHE_HOME", cache)
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
