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


def test_label_sanity_shows_seconds_of_eeg_sample_by_sample_beside_the_envelope():
    """Thirty minutes in one panel are a per-second envelope; beside it, 10 s of the preictal
    period and 10 s from the onset are drawn sample by sample, at the right times; a detail in a
    gap says so."""
    from preictal.cache.figures import (
        DETAIL_SEC,
        SHOW,
        _cached_span,
        _envelope,
        label_sanity_details,
        plot_label_sanity,
    )
    from preictal.signal.montage import CANONICAL_CHANNELS

    params, sfreq = LabelParams(), 64.0
    n = int(3600 * sfreq)
    t = np.arange(n) / sfreq
    signal = np.tile(50 * np.sin(2 * np.pi * t), (len(CANONICAL_CHANNELS), 1)).astype(np.float16)
    blocks = pd.DataFrame(
        {"start_sec": [0.0], "end_sec": [3600.0], "n_samples": [n], "offset": [0]}
    )
    onset, end = 2400.0, 2460.0
    details = label_sanity_details(signal, blocks, onset, sfreq, params)
    assert [d["period"] for d in details] == ["preictal", "ictal"]
    ((times, x),) = details[1]["parts"]
    assert times[0] == onset and len(times) == DETAIL_SEC * sfreq and x.shape[0] == len(SHOW)
    mid = onset - (params.preictal_sec + params.sph_sec) / 2
    assert details[0]["start"] == mid - DETAIL_SEC / 2
    parts, gaps = _cached_span(signal, blocks, onset - 900, end + 600, sfreq)
    gap_details = label_sanity_details(
        signal, blocks, 3600.0, sfreq, params
    )  # onset after the data
    example = {
        "case": "chb01", "patient": "chb01", "file": "chb01_03.edf", "onset": onset, "end": end,
        "envelopes": [_envelope(tt, xx, sfreq) for tt, xx in parts], "gaps": gaps,
    }  # fmt: skip
    fig = plot_label_sanity(
        [{**example, "details": details}, {**example, "details": gap_details}],
        {"kind": "synthetic"},
        params,
    )
    assert len(fig.axes) == 6
    detail_ax = fig.axes[2]  # first row, onset detail
    assert detail_ax.get_title() == "from the onset"
    assert {len(line.get_xdata()) for line in detail_ax.get_lines()} == {int(DETAIL_SEC * sfreq)}
    assert len(detail_ax.get_lines()) == len(SHOW)
    assert "no EEG here (gap)" in [txt.get_text() for txt in fig.axes[5].texts]
    plt.close(fig)
