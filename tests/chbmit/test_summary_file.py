"""Summary parser against every variant in PhysioNet's 24 real summaries."""

from __future__ import annotations

import statistics

import pytest

from preictal.chbmit.summary_file import (
    SummaryError,
    case_of_file,
    clock_to_seconds,
    find_summary,
    format_summary,
    parse_summary,
)

ALL_CASES = [f"chb{i:02d}" for i in range(1, 25)]


@pytest.fixture(scope="module")
def summaries(chbmit_meta):
    return {case: parse_summary(chbmit_meta / f"{case}-summary.txt") for case in ALL_CASES}


def test_counts_match_physionet(summaries):
    assert len(summaries) == 24
    assert sum(len(s.files) for s in summaries.values()) == 676
    assert sum(len(s.seizures) for s in summaries.values()) == 198
    assert sum(len(s.seizures) for c, s in summaries.items() if c != "chb24") == 182
    assert len(summaries["chb24"].seizures) == 16
    files_with = {(sz.case, sz.file) for s in summaries.values() for sz in s.seizures}
    assert len(files_with) == 141


def test_seizure_durations(summaries):
    durations = [sz.end_sec - sz.start_sec for s in summaries.values() for sz in s.seizures]
    assert min(durations) == 6
    assert max(durations) == 752
    assert statistics.median(durations) == 45.5


def test_numbered_unnumbered_and_mixed_seizure_lines(summaries):
    # chb01 writes 'Seizure Start Time:', chb06 'Seizure 1 Start Time:', chb04 mixes both.
    assert [(s.start_sec, s.end_sec) for s in summaries["chb01"].seizures][0] == (2996, 3036)
    chb06 = summaries["chb06"]
    assert len(chb06.seizures) == 10
    assert {s.number for s in chb06.seizures if s.file == "chb06_01.edf"} == {1, 2, 3}
    text = summaries["chb04"].path.read_text()
    assert "Seizure Start Time:" in text and "Seizure 1 Start Time:" in text
    assert len(summaries["chb04"].seizures) == 4


def test_double_spaces_chb12(summaries):
    chb12_29 = [s for s in summaries["chb12"].seizures if s.file == "chb12_29.edf"]
    assert [(s.start_sec, s.end_sec) for s in chb12_29][:2] == [(107, 146), (554, 592)]
    assert chb12_29[4].start_sec == 1884  # 'Seizure 5 Start Time:  1884 seconds'
    assert len(summaries["chb12"].seizures) == 40


def test_clock_times_past_midnight_and_without_leading_zero(summaries):
    chb09 = {f.name: f for f in summaries["chb09"].files}
    assert chb09["chb09_08.edf"].end_clock == "24:22:17"
    assert chb09["chb09_08.edf"].end_clock_sec == 24 * 3600 + 22 * 60 + 17
    assert clock_to_seconds("1:40:33") == 6033
    assert clock_to_seconds("26:02:15") == 93735
    assert any(
        f.end_clock and len(f.end_clock.split(":")[0]) == 1
        for s in summaries.values()
        for f in s.files
    )
    with pytest.raises(ValueError):
        clock_to_seconds("12:61:00")


def test_odd_file_names(summaries):
    assert "chb02_16+.edf" in {f.name for f in summaries["chb02"].files}
    chb17 = {f.name[:6] for f in summaries["chb17"].files}
    assert chb17 == {"chb17a", "chb17b", "chb17c"}
    assert case_of_file("chb17b_63.edf") == "chb17"
    assert case_of_file("chb02_16+.edf") == "chb02"


def test_montage_changes_dummies_and_typo(summaries):
    changed = {c for c, s in summaries.items() if len(s.montages) > 1}
    assert changed == {
        f"chb{i}" for i in ("04", "09", "11", "12", "13", "15", "16", "17", "18", "19")
    }
    assert "-" in summaries["chb11"].montages[1]
    assert "." in {ch for m in summaries["chb18"].montages for ch in m}
    assert summaries["chb01"].montages[0].count("T8-P8") == 2
    # chb12_28's block writes '01' for 'O1'; the parser reads it as O1 and says so.
    chb12_28 = next(f for f in summaries["chb12"].files if f.name == "chb12_28.edf")
    assert "O1" in chb12_28.channels and "01" not in chb12_28.channels
    assert any("'01' read as 'O1'" in fix for fix in summaries["chb12"].channel_fixes)
    # The montage in force follows each 'Channels changed:' block.
    chb04 = {f.name: f.montage_id for f in summaries["chb04"].files}
    assert chb04["chb04_06.edf"] == 0 and chb04["chb04_07.edf"] == 1


def test_chb24_has_no_clock_times(summaries):
    assert not summaries["chb24"].has_clock_times
    assert all(s.has_clock_times for c, s in summaries.items() if c != "chb24")


def test_numbering_slip_is_a_note_not_an_error(summaries):
    # chb09_08 closes its second seizure with 'Seizure 1 End Time' in PhysioNet's file.
    chb09_08 = [s for s in summaries["chb09"].seizures if s.file == "chb09_08.edf"]
    assert [(s.start_sec, s.end_sec) for s in chb09_08] == [(2951, 3030), (9196, 9267)]
    assert any("chb09_08.edf" in n for n in summaries["chb09"].notes)


HEADER = "Data Sampling Rate: 256 Hz\n*************************\n\nChannels in EDF Files:\n**********************\nChannel 1: FP1-F7\n\n"


def test_wrong_seizure_count_fails_naming_file_and_line(tmp_path):
    path = tmp_path / "chb99-summary.txt"
    path.write_text(
        HEADER + "File Name: chb99_01.edf\nFile Start Time: 10:00:00\nFile End Time: 11:00:00\n"
        "Number of Seizures in File: 2\nSeizure Start Time: 10 seconds\n"
        "Seizure End Time: 20 seconds\n"
    )
    with pytest.raises(
        SummaryError, match=r"chb99-summary.txt:11: chb99_01.edf: states 2 seizures but lists 1"
    ):
        parse_summary(path)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "File Name: chb99_01.edf\nNumber of Seizures in File: 0\nBogus line\n",
            "unrecognised line",
        ),
        (
            "File Name: chb99_01.edf\nNumber of Seizures in File: 1\nSeizure End Time: 5 seconds\n",
            "end time without a start",
        ),
        (
            "File Name: chb99_01.edf\nNumber of Seizures in File: 1\nSeizure Start Time: 9 seconds\nSeizure End Time: 5 seconds\n",
            "ends",
        ),
        ("File Name: chb99_01.edf\nFile Start Time: 10:00:00\n", "no 'Number of Seizures"),
    ],
)
def test_malformed_summaries_name_the_file(tmp_path, body, message):
    path = tmp_path / "chb99-summary.txt"
    path.write_text(HEADER + body)
    with pytest.raises(SummaryError, match=message) as err:
        parse_summary(path)
    assert str(path) in str(err.value)


def test_missing_summary_names_the_path(tmp_path):
    with pytest.raises(SummaryError, match="no summary for chb03"):
        find_summary(tmp_path, "chb03")
    with pytest.raises(SummaryError, match="not found"):
        parse_summary(tmp_path / "chb03-summary.txt")


def test_format_summary_round_trip(tmp_path, summaries):
    real = summaries["chb04"]
    files = [
        {
            "name": f.name,
            "montage_id": f.montage_id,
            "start_clock": f.start_clock,
            "end_clock": f.end_clock,
            "seizures": [(s.start_sec, s.end_sec) for s in real.seizures if s.file == f.name],
        }
        for f in real.files
    ]
    path = tmp_path / "chb04-summary.txt"
    path.write_text(format_summary(256, real.montages, files, numbered_seizures=False))
    again = parse_summary(path)
    assert again.montages == real.montages
    assert [(f.name, f.start_clock, f.end_clock, f.montage_id) for f in again.files] == [
        (f.name, f.start_clock, f.end_clock, f.montage_id) for f in real.files
    ]
    assert [(s.file, s.start_sec, s.end_sec) for s in again.seizures] == [
        (s.file, s.start_sec, s.end_sec) for s in real.seizures
    ]
