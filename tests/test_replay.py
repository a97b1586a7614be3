"""The replay app's logic (preictal.replay): EEG reads bounded by the view, missing results named
with the target to run, thresholds and alarms from the evaluation's own code."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from preictal.replay import RUN_COMMAND, MissingResults, Results, eeg_in_view, part_of

SF = 256.0


class RecordingSignal:
    """A memmap stand-in that records every read, so a test can bound what was loaded."""

    def __init__(self, array: np.ndarray):
        self.array, self.reads = array, []

    def __getitem__(self, index):
        row, cut = index
        assert isinstance(row, int | np.integer) and isinstance(cut, slice), index
        out = self.array[row, cut]
        self.reads.append(out.size)
        return out


@pytest.fixture
def two_blocks(tmp_path):
    """Two files of 60 s on one timeline with a 30 s gap, 3 channels, in one float16 .npy."""
    n = int(60 * SF)
    signal = np.arange(3 * 2 * n, dtype=np.float32).reshape(3, 2 * n) % 1000
    np.save(tmp_path / "signal.npy", signal.astype(np.float16))
    blocks = pd.DataFrame(
        {
            "file": ["a.edf", "b.edf"],
            "offset": [0, n],
            "n_samples": [n, n],
            "start_sec": [1000.0, 1090.0],
            "segment": [0, 0],
        }
    )
    return np.load(tmp_path / "signal.npy", mmap_mode="r"), blocks


def test_eeg_in_view_reads_only_the_view_and_keeps_gaps(two_blocks):
    memmap, blocks = two_blocks
    recorder = RecordingSignal(memmap)
    pieces = eeg_in_view(recorder, blocks, SF, 1050.0, 1100.0, [0, 2], max_points=100_000)
    assert [p.file for p in pieces] == ["a.edf", "b.edf"]  # the gap splits the view
    a, b = pieces
    assert a.times[0] == 1050.0 and a.times[-1] < 1060.0 and b.times[0] == 1090.0
    assert b.times[-1] < 1100.0
    np.testing.assert_array_equal(a.data, memmap[[0, 2], int(50 * SF) : int(60 * SF)])
    np.testing.assert_array_equal(b.data, memmap[[0, 2], int(60 * SF) : int(70 * SF)])
    # 20 s of recorded EEG in view, two channels: nothing else was read.
    assert sum(recorder.reads) == 2 * int(20 * SF)


def test_eeg_in_view_decimates_long_views(two_blocks):
    memmap, blocks = two_blocks
    recorder = RecordingSignal(memmap)
    pieces = eeg_in_view(recorder, blocks, SF, 1000.0, 1150.0, [1], max_points=1000)
    assert sum(p.data.shape[1] for p in pieces) <= 1000
    step = int(np.ceil(150 * SF / 1000))
    np.testing.assert_array_equal(pieces[0].data[0], memmap[1, 0 : int(60 * SF) : step])
    np.testing.assert_allclose(np.diff(pieces[0].times), step / SF)
    assert sum(recorder.reads) <= 1000
    with pytest.raises(ValueError, match="empty view"):
        eeg_in_view(memmap, blocks, SF, 1100.0, 1100.0, [0])


def test_missing_results_name_the_target(tmp_path):
    with pytest.raises(MissingResults) as err:
        Results(tmp_path / "results").runs()
    assert RUN_COMMAND in str(err.value) and "results/loso_summary.csv" in RUN_COMMAND
    with pytest.raises(MissingResults, match="signal.npy is missing"):
        Results(tmp_path / "results").signal("chb01")


def test_part_of_selects_part_cases_and_file():
    preds = pd.DataFrame(
        {
            "part": ["val", "test", "test", "test"],
            "case": ["chb02", "chb01", "chb21", "chb01"],
            "file": ["x", "chb01_01.edf", "chb21_01.edf", "chb01_02.edf"],
        }
    )
    assert len(part_of(preds, "test")) == 3
    assert list(part_of(preds, "test", ["chb01"]).file) == ["chb01_01.edf", "chb01_02.edf"]
    assert list(part_of(preds, "test", ["chb01"], "chb01_02.edf").index) == [3]


def test_clock_time_is_day_and_time_of_day_as_the_summaries_write_it():
    from preictal.replay import clock_time

    assert clock_time(51311) == "day 1 14:15:11"
    assert clock_time(86400 + 3 * 3600 + 59.6) == "day 2 03:01:00"
    assert clock_time(51311, seconds=False) == "day 1 14:15"
    assert clock_time(float("nan")) == "n/a"


def test_operating_points_in_words_with_units():
    from preictal.replay import POINT_COLUMNS, readable_points

    points = pd.DataFrame(
        {
            "target_fah": [0.5],
            "threshold": [0.987654321],
            "val_fah": [0.4567],
            "test_mean_time_to_warning_sec": [301.0],
            "test_time_in_warning": [0.04321],
            "significant": [True],
            "internal_column": [1],
        }
    )
    out = readable_points(points)
    assert list(out.columns) == [POINT_COLUMNS[c] for c in points.columns if c in POINT_COLUMNS]
    row = out.iloc[0]
    assert row["threshold"] == 0.987654321  # the exact threshold, as tuned
    assert row["validation FAH (per interictal h)"] == 0.46
    assert row["test mean warning time (min)"] == 5.02
    assert row["test time in warning (%)"] == 4.32


def test_risk_for_chart_keeps_peaks_breaks_at_gaps_and_stays_small():
    from preictal.replay import risk_for_chart

    start = np.concatenate([np.arange(0, 36000, 5.0), np.arange(40000, 76000, 5.0)])  # a gap
    risk = pd.DataFrame({"start_sec": start, "end_sec": start + 10, "risk": 0.1})
    risk.loc[1234, "risk"] = 0.99  # one excursion must survive the thinning
    data = risk_for_chart(risk, (0.0, 76010.0), max_points=1000)
    assert len(data) <= 2 * 1000 and data.risk.max() == 0.99
    assert sorted(data.segment.unique()) == [0, 1]
    assert data.hours.is_monotonic_increasing and data.clock.iloc[0] == "day 1 00:00:10"
