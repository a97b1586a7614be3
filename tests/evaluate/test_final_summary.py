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
