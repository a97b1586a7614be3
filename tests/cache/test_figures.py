"""Cache-stage figures (preictal.cache.figures): what the label timeline shows and names."""

from __future__ import annotations

from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from preictal.cache.figures import plot_label_timeline
from preictal.labels import LabelParams


def test_label_timeline_reaches_interictal_windows_and_names_every_label():
    params = LabelParams()
    onset, end = 4 * 3600.0, 4 * 3600.0 + 60
    start = np.arange(0, 6 * 3600 - 10, 5.0)
    windows = pd.DataFrame({"start_sec": start, "end_sec": start + 10})
    y = np.where(
        (windows.end_sec <= onset - params.sph_sec)
        & (windows.end_sec > onset - params.preictal_sec),
        1,
        np.where(
            (windows.end_sec < onset - params.interictal_buffer_min * 60)
            | (windows.start_sec > end + params.interictal_buffer_min * 60),
            0,
            -1,
        ),
    )
    labels = pd.DataFrame({"y_cls": y})
    files = pd.DataFrame(
        {
            "file": ["a.edf", "b.edf"],
            "start_sec": [0.0, 3.9 * 3600],
            "end_sec": [3.9 * 3600, 6 * 3600.0],
        }
    )
    seizure = SimpleNamespace(case="chb01", onset_sec=onset, end_sec=end)
    fig = plot_label_timeline(files, windows, labels, seizure, {"kind": "synthetic"}, params)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    counts = {
        name.split(" (")[0]: int(name.split("(")[1].rstrip(")"))
        for name in legend
        if "windows" in name
    }
    assert set(counts) == {"preictal windows", "interictal windows", "excluded windows"}
    assert counts["interictal windows"] > 0 and counts["preictal windows"] > 0
    plt.close(fig)
