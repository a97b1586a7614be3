"""Gap-aware timeline: real metadata, midnight roll-over, gaps, unknown times and EDF headers."""

from __future__ import annotations

import numpy as np
import pytest

from preictal.chbmit.edf import EdfError, read_edf_header
from preictal.chbmit.summary_file import format_summary, parse_summary
from preictal.chbmit.timeline import DAY_SEC, TimelineError, TimelineParams, build_timeline
from preictal.synthetic.dataset import write_edf


def _timeline(meta, case):
    return build_timeline(parse_summary(meta / f"{case}-summary.txt"))


def test_real_hours_chb01_to_chb23(chbmit_meta):
    hours = sum(
        _timeline(chbmit_meta, f"chb{i:02d}")[0].duration_sec.sum() / 3600 for i in range(1, 24)
    )
    assert hours == pytest.approx(961.6, abs=0.05)


def test_real_midnight_rollover_chb09(chbmit_meta):
    files, seizures = _timeline(chbmit_meta, "chb09")
    f = files.set_index("file")
    # chb09_08: 20:22:17 - 24:22:17; chb09_09 starts 00:22:25, i.e. 8 s later on the next day.
    assert f.loc["chb09_08.edf", "end_sec"] == f.loc["chb09_08.edf", "start_sec"] + 4 * 3600
    assert f.loc["chb09_09.edf", "start_sec"] - f.loc["chb09_08.edf", "end_sec"] == 8
    assert f.loc["chb09_09.edf", "start_sec"] >= DAY_SEC
    assert (np.diff(files.start_sec) > 0).all()
    s = seizures.set_index(["file", "seizure_in_file"])
    assert s.loc[("chb09_08.edf", 2), "onset_sec"] == f.loc["chb09_08.edf", "start_sec"] + 9196


def test_real_gaps_and_overlaps(chbmit_meta):
    files, _ = _timeline(chbmit_meta, "chb01")
    f = files.set_index("file")
    assert f.loc["chb01_02.edf", "gap_before_sec"] == 3  # 12:42:54 -> 12:42:57
    assert np.isnan(files.gap_before_sec.iloc[0])
    assert files.segment.nunique() == 1
    # PhysioNet's own clock times overlap here; the timeline keeps them and says so.
    chb18, _ = _timeline(chbmit_meta, "chb18")
    assert chb18.set_index("file").loc["chb18_36.edf", "gap_before_sec"] == -3369


def test_real_chb24_segments_do_not_touch(chbmit_meta):
    files, seizures = _timeline(chbmit_meta, "chb24")
    assert (files.time_source == "none").all()
    assert files.segment.tolist() == list(range(12))
    assert (np.diff(files.start_sec) >= DAY_SEC).all()
    assert len(seizures) == 16
    assert seizures.groupby("file").segment.nunique().max() == 1


def _summary(tmp_path, files, montage=("FP1-F7", "F7-T7")):
    path = tmp_path / "chb99-summary.txt"
    path.write_text(format_summary(256, [tuple(montage)], files, numbered_seizures=True))
    return parse_summary(path)


def _file(name, start, end, seizures=()):
    return {
        "name": name,
        "montage_id": 0,
        "start_clock": start,
        "end_clock": end,
        "seizures": list(seizures),
    }


def test_hand_built_midnight_gap_and_seizure_near_file_start(tmp_path):
    summary = _summary(
        tmp_path,
        [
            _file("chb99_01.edf", "22:30:00", "23:30:00"),
            _file("chb99_02.edf", "23:30:05", "24:30:05"),  # written past 24:00
            _file("chb99_03.edf", "00:30:15", "1:30:15", [(200, 260)]),  # rolled over silently
            _file("chb99_04.edf", "02:00:00", "2:10:00"),  # 29 min 45 s gap
        ],
    )
    files, seizures = build_timeline(summary)
    assert files.start_sec.tolist() == [81000, 84605, 88215, 93600]
    assert files.duration_sec.tolist() == [3600, 3600, 3600, 600]
    assert files.gap_before_sec.tolist()[1:] == [5, 10, 1785]
    assert seizures.onset_sec.tolist() == [88215 + 200]
    assert seizures.end_sec.tolist() == [88215 + 260]
    # The seizure comes 200 s into its file: its 10-minute preictal period lies in chb99_02.
    pre_start = seizures.onset_sec[0] - 600
    prev = files.set_index("file").loc["chb99_02.edf"]
    assert prev.start_sec <= pre_start < prev.end_sec


def test_file_crossing_midnight_without_24h_clock(tmp_path):
    summary = _summary(tmp_path, [_file("chb99_01.edf", "23:30:00", "0:30:00")])
    files, _ = build_timeline(summary)
    assert files.duration_sec.tolist() == [3600]


def test_edf_header_cross_check(tmp_path):
    summary = _summary(
        tmp_path,
        [
            _file("chb99_01.edf", "10:00:00", "10:00:20"),
            _file("chb99_02.edf", "10:00:25", "10:00:45"),
        ],
    )
    data = np.zeros((2, 20 * 256), dtype=np.float32)
    write_edf(tmp_path / "chb99_01.edf", data, ["FP1-F7", "F7-T7"], 256, start_sec=36000)
    write_edf(tmp_path / "chb99_02.edf", data, ["FP1-F7", "F7-T7"], 256, start_sec=36025)
    headers = {p.name: read_edf_header(p) for p in tmp_path.glob("*.edf")}
    files, _ = build_timeline(summary, headers)
    assert files.edf_present.all()
    assert files.edf_duration_sec.tolist() == [20, 20]
    assert files.edf_sfreq_hz.tolist() == [256, 256]

    # A header that starts 60 s later than the summary says: a clear error naming the EDF.
    write_edf(tmp_path / "chb99_02.edf", data, ["FP1-F7", "F7-T7"], 256, start_sec=36085)
    headers["chb99_02.edf"] = read_edf_header(tmp_path / "chb99_02.edf")
    with pytest.raises(TimelineError, match=r"chb99_02.edf: EDF header starts at 10:01:25"):
        build_timeline(summary, headers)
    # ... unless the tolerance allows it.
    build_timeline(summary, headers, params=TimelineParams(header_tolerance_sec=120))

    # A header whose duration disagrees with the summary.
    write_edf(
        tmp_path / "chb99_02.edf", data[:, : 10 * 256], ["FP1-F7", "F7-T7"], 256, start_sec=36025
    )
    headers["chb99_02.edf"] = read_edf_header(tmp_path / "chb99_02.edf")
    with pytest.raises(TimelineError, match=r"chb99_02.edf: EDF header lasts 10 s"):
        build_timeline(summary, headers)


def test_unknown_times_use_edf_header_when_present(tmp_path):
    summary = _summary(
        tmp_path,
        [
            {
                "name": "chb99_01.edf",
                "montage_id": 0,
                "start_clock": None,
                "end_clock": None,
                "seizures": [],
            },
            {
                "name": "chb99_02.edf",
                "montage_id": 0,
                "start_clock": None,
                "end_clock": None,
                "seizures": [(3, 5)],
            },
        ],
    )
    files, seizures = build_timeline(summary)
    assert files.time_source.tolist() == ["none", "none"]
    assert files.segment.tolist() == [0, 1]
    data = np.zeros((2, 10 * 256), dtype=np.float32)
    write_edf(tmp_path / "chb99_01.edf", data, ["FP1-F7", "F7-T7"], 256, start_sec=3600)
    write_edf(tmp_path / "chb99_02.edf", data, ["FP1-F7", "F7-T7"], 256, start_sec=3620)
    headers = {p.name: read_edf_header(p) for p in tmp_path.glob("*.edf")}
    files, seizures = build_timeline(summary, headers)
    assert files.time_source.tolist() == ["edf_header", "edf_header"]
    assert files.start_sec.tolist() == [3600, 3620]
    assert files.gap_before_sec.tolist()[1] == 10
    assert seizures.onset_sec.tolist() == [3623]


def test_seizure_after_file_end_is_an_error(tmp_path):
    summary = _summary(tmp_path, [_file("chb99_01.edf", "10:00:00", "10:01:00", [(50, 90)])])
    with pytest.raises(TimelineError, match="after the end of chb99_01.edf"):
        build_timeline(summary)


def test_edf_header_matches_edfio_and_mne(tmp_path):
    import edfio
    import mne

    labels = ["FP1-F7", "T8-P8", "-", "T8-P8"]
    data = np.random.default_rng(0).normal(0, 30, (4, 7 * 256)).astype(np.float32)
    path = tmp_path / "x.edf"
    write_edf(path, data, labels, 256, start_sec=86400 + 3723)
    h = read_edf_header(path)
    ref = edfio.read_edf(path, lazy_load_data=True)
    assert h.labels == tuple(s.label for s in ref.signals)
    assert h.duration_sec == ref.duration == 7
    assert (
        h.start_clock_sec
        == 3723
        == ref.starttime.hour * 3600 + ref.starttime.minute * 60 + ref.starttime.second
    )
    raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
    assert raw.info["sfreq"] == h.sampling_rates_hz[0] == 256
    assert raw.n_times == h.n_records * h.samples_per_record[0]
    # 16-bit round trip through EDF costs at most half a digital step (0.05 uV).
    np.testing.assert_allclose(raw.get_data()[0] * 1e6, data[0], atol=0.06)


def test_truncated_and_garbage_edf(tmp_path):
    path = tmp_path / "chb99_01.edf"
    write_edf(path, np.zeros((2, 10 * 256), dtype=np.float32), ["FP1-F7", "F7-T7"], 256)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) - 1000])
    with pytest.raises(EdfError, match=r"chb99_01.edf: truncated EDF"):
        read_edf_header(path)
    path.write_bytes(raw[:100])
    with pytest.raises(EdfError, match=r"chb99_01.edf: truncated EDF"):
        read_edf_header(path)
    path.write_bytes(b"PK\x03\x04" + raw[4:])
    with pytest.raises(EdfError, match="not an EDF"):
        read_edf_header(path)


def test_latin1_micro_sign_in_physical_dimension(tmp_path):
    from preictal.signal.edf_read import read_edf_signals

    path = tmp_path / "x.edf"
    data = np.random.default_rng(3).normal(0, 20, (2, 4 * 256)).astype(np.float32)
    write_edf(path, data, ["FP1-F7", "F7-T7"], 256)
    raw = bytearray(path.read_bytes())
    dims_at = 256 + 2 * (16 + 80)  # physical dimension fields of both signals
    raw[dims_at : dims_at + 16] = b"\xb5V      \xb5V      "
    path.write_bytes(bytes(raw))
    header = read_edf_header(path)
    assert header.physical_dimensions == ("µV", "µV")
    x, _, _ = read_edf_signals(path)
    np.testing.assert_allclose(x, data, atol=0.06)
