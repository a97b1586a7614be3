"""The Streamlit replay app (app/app.py) on the tiny workflow's results: every control with
streamlit's AppTest, the missing-results path, and the app in a real headless Chromium.

Alarm counts are checked against the evaluation's own scorer (`preictal.alarms.PartEvaluator`)
on the same windows, threshold and post-processing, and the presets against the evaluation's
results table.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from preictal.alarms.scoring import PartEvaluator
from preictal.replay import RUN_COMMAND, Results, Run, clock_time, part_of
from tests.test_app_server import LAUNCHER, listening_addresses, serving
from tests.workflow.test_workflow import BROWSER, snakemake

pytestmark = pytest.mark.workflow

REPO = Path(__file__).resolve().parents[2]
APP = str(REPO / "app" / "app.py")
RUN = Run("within", "chb01", "logreg")


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    """The tiny workflow's within-patient results (its loso folds are skipped: 2 patients)."""
    work = tmp_path_factory.mktemp("app")
    snakemake(work, "results/within_summary.csv")
    return work / "results"


def open_app(results: Path, monkeypatch) -> AppTest:
    """The app on ``results``, run once, with streamlit's caches cleared."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    monkeypatch.setenv("PREICTAL_RESULTS", str(results))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


@pytest.fixture
def app(results, monkeypatch):
    return open_app(results, monkeypatch)


def shown(at) -> dict:
    """The alarm count and exact threshold the app wrote into its markdown."""
    text = next(m.value for m in at.markdown if 'id="app-alarm-count"' in m.value)
    count = int(text.split('<span id="app-alarm-count">')[1].split("<")[0])
    threshold = float(text.split('<span id="app-threshold">')[1].split("<")[0])
    return {"alarms": count, "threshold": threshold}


def expected(results: Path, run: Run, case: str, part: str, threshold: float, params, file=None):
    """The evaluation's scorer on the windows the app shows."""
    r = Results(results)
    preds = part_of(r.predictions(run), part, [case], file)
    cases = sorted(r.predictions(run).case.unique())
    ev = PartEvaluator(preds, r.seizures(cases), r.files(cases), r.label_params(case), params)
    return ev.metrics(threshold).summary()


def selection(at) -> tuple[Run, str, str]:
    s = at.session_state
    case, part = s["case"]
    return Run(s["split"], s["fold"], s["model"]), case, part


def test_missing_results_name_the_target(tmp_path, monkeypatch):
    monkeypatch.setenv("PREICTAL_RESULTS", str(tmp_path / "results"))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert any("Results are missing" in e.value for e in at.error)
    assert any(RUN_COMMAND in c.value for c in at.code)


def test_selection_banner_and_alarm_count(app, results):
    assert any("Synthetic data" in w.value for w in app.warning)
    assert app.selectbox(key="split").value == "within"
    app.selectbox(key="model").select("logreg").run()
    run, case, part = selection(app)
    assert run == RUN and part == "test"  # test parts first
    params = Results(results).alarm_params(run)
    got = shown(app)
    assert got["alarms"] == expected(results, run, case, part, got["threshold"], params)["n_alarms"]
    # One file of the selection: its windows only.
    files = app.selectbox(key="file").options
    app.selectbox(key="file").select(files[-1]).run()
    got = shown(app)
    want = expected(results, run, case, part, got["threshold"], params, files[-1])
    assert got["alarms"] == want["n_alarms"]
    assert not app.exception


def test_threshold_slider_and_presets(app, results):
    app.selectbox(key="model").select("logreg").run()
    app.toggle(key="refr").set_value(False).run()  # the tiny test part is one 20-min file
    # Hysteresis makes the count non-monotone in the threshold: a lower one re-arms later.
    evaluated_hysteresis = app.toggle(key="hyst").value
    app.toggle(key="hyst").set_value(False).run()
    run, case, part = selection(app)
    params = replace(Results(results).alarm_params(run), refractory_min=0.0, hysteresis=None)
    stops = [float(x) for x in Results(results).candidate_thresholds(run)]  # the slider's stops
    assert len(app.select_slider(key="threshold").options) == len(stops)
    counts = []
    for value in (stops[0], stops[len(stops) // 2], stops[-1]):
        app.select_slider(key="threshold").set_value(value).run()
        got = shown(app)
        assert got["threshold"] == pytest.approx(float(value), abs=5e-5)
        counts.append(got["alarms"])
        assert (
            got["alarms"]
            == expected(results, run, case, part, got["threshold"], params)["n_alarms"]
        )
    assert counts[0] >= counts[1] >= counts[2] and counts[0] > counts[2]
    # A preset jumps to the tuned threshold; with the evaluation's post-processing the whole test
    # part then shows the evaluation's numbers.
    app.toggle(key="refr").set_value(True).run()
    app.toggle(key="hyst").set_value(evaluated_hysteresis).run()
    points = Results(results).operating_points(run).set_index("target_fah")
    app.button(key="preset_0.5").click().run()
    assert app.session_state["threshold"] == points.loc[0.5, "threshold"]
    text = next(m.value for m in app.markdown if 'id="app-alarm-count"' in m.value)
    whole = f"FAH {points.loc[0.5, 'test_fah']:.2f}"
    assert whole in text


def test_postprocessing_toggles_recompute_alarms(app, results):
    app.selectbox(key="model").select("logreg").run()
    run, case, part = selection(app)
    evaluated = Results(results).alarm_params(run)
    app.toggle(key="ema").set_value(False).run()
    app.toggle(key="refr").set_value(False).run()
    got = shown(app)
    raw = replace(evaluated, smoothing="none", refractory_min=0.0)
    assert got["alarms"] == expected(results, run, case, part, got["threshold"], raw)["n_alarms"]
    app.toggle(key="persist").set_value(True).run()
    app.slider(key="k").set_value(3).run()
    app.toggle(key="hyst").set_value(True).run()
    got = shown(app)
    strict = replace(raw, persistence_k=3, hysteresis=0.8)
    assert got["alarms"] == expected(results, run, case, part, got["threshold"], strict)["n_alarms"]
    assert not app.exception


def test_play_pause_and_speed_move_the_cursor(app):
    start = app.session_state["cursor"]
    end = app.slider(key="cursor_slider").max
    app.select_slider(key="speed").set_value(600).run()
    app.button(key="play").click().run()  # each run of the app is one replay tick in AppTest
    assert app.session_state["playing"]
    assert "cursor_slider" not in [s.key for s in app.slider]  # no seek slider while playing
    assert len(app.get("progress")) == 1
    first = app.session_state["cursor"]
    # While playing, the progress bar (the cursor control then) and "now" say the same time.
    playing_at = clock_time(first)
    now = next(m.value for m in app.markdown if 'id="app-clock"' in m.value)
    assert playing_at in app.get("progress")[0].proto.text and playing_at in now
    app.run()
    assert app.session_state["cursor"] == min(first + 600, end)
    assert first > start
    app.button(key="play").click().run()  # pause
    paused = app.session_state["cursor"]
    assert app.slider(key="cursor_slider").value == paused  # the seek slider is back, at the cursor
    app.run()
    assert not app.session_state["playing"] and app.session_state["cursor"] == paused
    by_hand = app.slider(key="cursor_slider").min + 600
    app.slider(key="cursor_slider").set_value(by_hand).run()
    assert app.session_state["cursor"] == by_hand
    now = next(m.value for m in app.markdown if 'id="app-cursor"' in m.value)
    assert f'<span id="app-cursor">{by_hand:.0f}</span>' in now
    assert f'<b id="app-clock">{clock_time(by_hand)}</b>' in now  # clock time, as in the summaries


def test_late_ticks_do_not_move_the_cursor(app):
    """The browser asks for each replay tick with the values of the widgets on its page, and the
    app may run it after the page has changed. In Chromium, a tick run after Pause sent the
    cursor back to where Play started: it carried the cursor slider of an older page, still at
    that value, and the app took the difference from the cursor for a seek. Here late ticks are
    older pages run again with their own widget values (an element's run() runs its page)."""
    app.select_slider(key="speed").set_value(60).run()  # 60 s a tick: far from the end
    slider_before_play = app.slider(key="cursor_slider")
    start = slider_before_play.value
    app.run()  # a new page to click Play on; slider_before_play keeps its own page
    app.button(key="play").click().run()
    page_while_playing = app.button(key="play")
    app.run()  # a tick
    # A tick asked for while Play's page was still arriving, with the old slider at start:
    ticked = app.session_state["cursor"]
    slider_before_play.set_value(start).run()
    assert app.session_state["playing"] and app.session_state["cursor"] == ticked + 60
    app.button(key="play").click().run()  # pause
    paused = app.session_state["cursor"]
    page_while_playing.run()  # a tick asked for just before Pause, run after it
    assert not app.session_state["playing"] and app.session_state["cursor"] == paused
    assert any(f'<span id="app-cursor">{paused:.0f}</span>' in m.value for m in app.markdown)


def test_the_replay_stops_at_the_end(app):
    end = app.slider(key="cursor_slider").max
    app.slider(key="cursor_slider").set_value(end - 5).run()
    app.button(key="play").click().run()  # the tick reaches the end and reruns the page
    assert not app.session_state["playing"] and app.session_state["cursor"] == end
    assert app.button(key="play").label == "Play" and app.slider(key="cursor_slider").value == end


def test_channels_and_view(app):
    app.multiselect(key="channels").set_value(["FP1-F7", "CZ-PZ"]).run()
    app.selectbox(key="view").select("5 min").run()
    assert len(app.get("image")) == 1  # the EEG and risk figure (st.pyplot)
    assert not app.exception


def snapshot(folder: Path) -> dict:
    return {
        str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()
    }


def test_app_in_headless_chromium(results, tmp_path):
    """The app started by `preictal-app` from another folder, driven by Debian's chromium: it
    listens on 127.0.0.1 only, moving the threshold changes the alarm count exactly as the
    evaluation's scorer says, Play and Pause move and hold the cursor, and no request leaves the
    host. Fails (never skips) when the browser cannot start."""
    assert shutil.which("node"), "node is needed for the browser test (see .ci/run)"
    assert (BROWSER / "node_modules" / "playwright-core").is_dir(), (
        "run npm ci --prefix tests/browser"
    )
    before = snapshot(results)
    r = Results(results)
    first = r.runs()[0]  # the app's default selection: first split, fold and model
    # Off for the check, as in test_threshold_slider_and_presets: hysteresis makes the count
    # non-monotone in the threshold.
    hysteresis_on = r.alarm_params(first).hysteresis is not None
    toggles = ["Refractory period"] + ["Hysteresis"] * hysteresis_on
    # Started the documented way, from another folder: the launcher's own settings, no config.
    with serving([str(LAUNCHER), "--server.fileWatcherType", "none"], tmp_path, results) as port:
        assert listening_addresses(port) == {"0100007F"}
        proc = subprocess.run(
            ["node", str(BROWSER / "check_app.js"), f"http://127.0.0.1:{port}", "40",
             str(tmp_path), *toggles],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["offHost"] == [] and out["errors"] == []
    assert snapshot(results) == before  # the app wrote nothing under results/
    preds = r.predictions(first)
    case = sorted({(c, p) for c, p in zip(preds.case, preds.part, strict=True)},
                  key=lambda cp: (cp[1] != "test", cp[0]))[0]  # fmt: skip
    params = replace(r.alarm_params(first), refractory_min=0.0, hysteresis=None)  # its toggles
    for state in ("before", "after"):
        t = float(out[state]["threshold"])
        want = expected(results, first, case[0], case[1], t, params)["n_alarms"]
        assert out[state]["alarms"] == want, (state, out[state], want)
    assert float(out["after"]["threshold"]) < float(out["before"]["threshold"])
    assert out["after"]["alarms"] != out["before"]["alarms"]
    assert (tmp_path / "app_after.png").stat().st_size > 10_000  # the screenshot, kept there
    replay = out["replay"]  # Play moved the cursor on the app's own timer; Pause held it
    assert replay["playing"] > replay["start"] and replay["paused"] == replay["playing"]


def test_risk_chart_is_interactive_in_clock_time(app):
    """The selection's risk as a Vega-Lite chart with zoom on time (scales bound) and clock-time
    tooltips, beside the replay's static plots."""
    charts = app.get("vega_lite_chart")
    assert len(charts) == 1
    spec = json.loads(charts[0].proto.spec)
    text = json.dumps(spec)
    assert '"bind": "scales"' in text and '"field": "clock"' in text  # rows: test_replay.py
