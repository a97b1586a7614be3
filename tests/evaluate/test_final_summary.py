"""The closing markdown: the excluded inputs section."""

from __future__ import annotations

import pandas as pd

from preictal.cache.tables import EXCLUSION_COLUMNS
from preictal.evaluate.final_summary import final_summary_md
from preictal.labels import LabelParams


def test_excluded_inputs_are_listed_with_their_reasons():
    exclusions = pd.DataFrame(
        [
            ("chb01", "chb01_02.edf", "preprocess", "EDF not on disk"),
            ("chb01", "chb01_99.edf", "index", "on disk but in neither the summary nor RECORDS"),
        ],
        columns=EXCLUSION_COLUMNS,
    )
    source = {"kind": "synthetic", "data_root": "/data"}
    text = final_summary_md({}, source, LabelParams(), 0.05, 0.5, exclusions=exclusions)
    section = text.split("## Excluded inputs\n\n")[1]
    assert section.startswith("2 input file(s) excluded (results/dataset/exclusions.csv)")
    assert "| chb01 | chb01_02.edf | preprocess | EDF not on disk |" in section
    assert "| chb01 | chb01_99.edf | index | on disk but in neither" in section
    empty = final_summary_md({}, source, LabelParams(), 0.05, 0.5, exclusions=exclusions[:0])
    assert "## Excluded inputs\n\nNone: every input file was used." in empty


def test_folds_without_a_scored_test_seizure_are_not_listed_as_missing_every_seizure():
    import numpy as np

    from preictal.evaluate.aggregate import summarise
    from tests.evaluate.test_fold import results_for

    missed = results_for(4, 1.0, "chb05").assign(test_n_caught=0, test_sensitivity=0.0)
    unscored = results_for(3, 1.0, "chb04").assign(
        test_n_caught=0, test_n_seizures_scored=0, test_sensitivity=np.nan
    )
    results = pd.concat([results_for(2, 1.0, "chb03"), missed, unscored], ignore_index=True).assign(
        val_auroc=0.9
    )
    source = {"kind": "synthetic", "data_root": "/data"}
    splits = {"loso": (results, summarise(results, n_boot=0))}
    text = final_summary_md(splits, source, LabelParams(), 0.05, 0.5)
    assert "loso: no test seizure caught at FAH 0.5 in ['chb05']." in text
