"""Replay the EEG of a fold with its risk score and alarms: `preictal-app` (from any folder), or
`streamlit run app/app.py` from the repository root.

Reads only `results/` (or the folder in PREICTAL_RESULTS, or `-- --results DIR`), writes nothing,
loads no pickles. The logic lives in `preictal.replay`; this file only lays it out.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import altair as alt
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import streamlit as st
from matplotlib.ticker import FuncFormatter

from preictal.alarms.postprocess import AlarmParams
from preictal.app_server import exposing_defaults, exposure_warning
from preictal.labels import LabelParams
from preictal.replay import (
    RUN_COMMAND,
    MissingResults,
    Results,
    Run,
    alarms_at,
    clock_time,
    eeg_in_view,
    evaluator,
    part_of,
    readable_points,
    risk_for_chart,
    smoothed_risk,
)

log = logging.getLogger("preictal.app")
SPEEDS = [1, 10, 60, 600]  # replay speed: timeline seconds per wall-clock second
TICK_SEC = 1.0  # how often the replay advances
VIEW_SEC = {"10 s": 10, "30 s": 30, "1 min": 60, "5 min": 300, "30 min": 1800}
KIND_COLOURS = {"true": "tab:green", "false": "tab:red", "excluded": "tab:gray"}


def results_root() -> Path:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--results", default=os.environ.get("PREICTAL_RESULTS"))
    args, _ = parser.parse_known_args(sys.argv[1:])
    return Path(args.results or Path(__file__).resolve().parents[1] / "results")


# --- Cached readers (keyed on the results folder and the selection) -----------------------------


@st.cache_data(show_spinner=False)
def runs(root: str) -> list[Run]:
    return Results(root).runs()


@st.cache_data(show_spinner=False)
def predictions(root: str, run: Run) -> pd.DataFrame:
    return Results(root).predictions(run)


@st.cache_data(show_spinner=False)
def fold_tables(root: str, run: Run, cases: tuple[str, ...]):
    r = Results(root)
    return (
        r.operating_points(run),
        r.candidate_thresholds(run),
        r.alarm_params(run),
        r.files(list(cases)),
        r.seizures(list(cases)),
        r.label_params(cases[0]),
        r.data_source(run),
    )


@st.cache_resource(show_spinner=False)
def part_evaluator(
    root: str,
    run: Run,
    part: str,
    cases: tuple[str, ...],
    params: AlarmParams,
    file: str | None = None,
):
    """The evaluation's scorer for the windows of ``part`` in ``cases`` (and ``file``)."""
    preds = part_of(predictions(root, run), part, list(cases), file)
    fold_cases = tuple(sorted(predictions(root, run).case.unique()))
    _, _, _, files, seizures, labels, _ = fold_tables(root, run, fold_cases)
    return evaluator(preds, seizures, files, labels, params), preds


@st.cache_resource(show_spinner=False)
def case_signal(root: str, case: str):
    r = Results(root)
    manifest = r.cache_manifest(case)
    return r.signal(case), r.blocks(case), manifest


# --- Layout --------------------------------------------------------------------------------------


def sidebar_selection(root: str) -> tuple[Run, str, str, pd.DataFrame]:
    """Split, fold, model, then a patient's case and part (within-patient, one case can hold
    validation and test files)."""
    available = runs(root)
    st.sidebar.header("Selection")
    split = st.sidebar.selectbox("Split", sorted({r.split for r in available}), key="split")
    folds = sorted({r.fold for r in available if r.split == split})
    fold = st.sidebar.selectbox("Fold", folds, key="fold")
    models = sorted({r.model for r in available if r.split == split and r.fold == fold})
    model = st.sidebar.selectbox("Model", models, key="model")
    run = Run(split, fold, model)
    preds = predictions(root, run)
    pairs = sorted(
        {(c, p) for c, p in zip(preds.case, preds.part, strict=True)},
        key=lambda cp: (cp[1] != "test", cp[0]),
    )
    case, part = st.sidebar.selectbox(
        "Patient (case, part)", pairs, format_func=lambda cp: f"{cp[0]} ({cp[1]})", key="case"
    )
    return run, case, part, preds


def postprocessing_controls(evaluated: AlarmParams) -> AlarmParams:
    """Toggles that start at the evaluation's post-processing."""
    st.sidebar.header("Post-processing")
    ema = st.sidebar.toggle("EMA smoothing", evaluated.smoothing == "ema", key="ema")
    alpha = st.sidebar.slider("EMA alpha", 0.05, 1.0, evaluated.ema_alpha, 0.05, key="alpha")
    persist = st.sidebar.toggle("Persistence", evaluated.persistence_k > 1, key="persist")
    k = st.sidebar.slider(
        "Persistence k (windows)", 2, 12, max(2, evaluated.persistence_k), 1, key="k"
    )
    hyst = st.sidebar.toggle("Hysteresis", evaluated.hysteresis is not None, key="hyst")
    h = st.sidebar.slider(
        "Re-arm below x threshold", 0.5, 1.0, evaluated.hysteresis or 0.8, 0.05, key="h"
    )
    refr = st.sidebar.toggle("Refractory period", evaluated.refractory_min > 0, key="refr")
    minutes = st.sidebar.slider(
        "Refractory (min)", 1, 60, int(evaluated.refractory_min or 20), 1, key="refr_min"
    )
    smoothing = "ema" if ema else ("none" if evaluated.smoothing == "ema" else evaluated.smoothing)
    return replace(
        evaluated,
        smoothing=smoothing,
        ema_alpha=alpha,
        persistence_k=k if persist else 1,
        hysteresis=h if hyst else None,
        refractory_min=minutes if refr else 0.0,
    )


def threshold_controls(points: pd.DataFrame, stops: np.ndarray) -> float:
    """In the sidebar, so that the replay's plots are the first thing on the page: a preset per
    tuned FAH target, and a slider over the evaluation's candidate thresholds."""
    stops = [float(x) for x in stops]
    tuned = points.dropna(subset=["threshold"])
    if "threshold" not in st.session_state or st.session_state.threshold not in stops:
        default = tuned[np.isclose(tuned.target_fah, 0.5)].threshold
        st.session_state.threshold = (
            float(default.iloc[0]) if len(default) else stops[len(stops) // 2]
        )
    st.sidebar.header("Threshold")
    cols = st.sidebar.columns(len(tuned))
    for col, row in zip(cols, tuned.itertuples(), strict=True):
        col.button(
            f"{row.target_fah:g}",
            key=f"preset_{row.target_fah:g}",
            on_click=lambda t=float(row.threshold): st.session_state.update(threshold=t),
            help=f"the threshold tuned on validation for at most {row.target_fah:g} false "
            "alarms per hour",
        )
    st.sidebar.caption("Presets: the thresholds tuned on validation for these false alarms/h.")
    return st.sidebar.select_slider(
        "Threshold on the post-processed risk",
        options=stops,
        key="threshold",
        format_func=lambda x: f"{x:.4f}",
    )


def replay_controls(t_lo: float, t_hi: float) -> None:
    """Play / pause, speed and, while paused, a slider that seeks. ``cursor`` is plain state
    that the replay advances; the player shows it.

    The seek slider is off the page while playing. The browser sends every widget's value with
    each replay tick it asks for, and a tick asked for just before Pause can run after it: a
    slider kept on the page would send its value from before Play, streamlit would take the
    difference from the cursor that Pause wrote into it for a seek, and the cursor would jump back
    to where Play started. A slider that is not on the page has no value to send late."""
    if st.session_state.get("cursor") is None or not t_lo <= st.session_state.cursor <= t_hi:
        st.session_state.cursor = t_lo
    st.session_state.setdefault("playing", False)
    c1, c2, c3 = st.columns([1, 2, 4])
    c1.button(
        "Pause" if st.session_state.playing else "Play",
        key="play",
        on_click=lambda: st.session_state.update(playing=not st.session_state.playing),
    )
    c2.select_slider("Speed (x)", options=SPEEDS, value=60, key="speed")
    if st.session_state.playing:
        return
    st.session_state.cursor_slider = float(st.session_state.cursor)  # before the widget exists
    c3.slider(
        "Cursor (s on the case's timeline; clock time under the plots)",
        t_lo,
        t_hi,
        step=5.0,
        key="cursor_slider",
        on_change=seek,
    )


def seek() -> None:
    # A value that comes in while playing is from a page rendered before Play, sent with a tick
    # the browser asked for before Play's page arrived: not a seek.
    if not st.session_state.playing:
        st.session_state.cursor = st.session_state.cursor_slider


def advance(t_hi: float) -> bool:
    """One replay tick: the cursor moves speed x TICK_SEC seconds. True when this tick reached
    the end and stopped the replay."""
    if not st.session_state.playing:
        return False
    st.session_state.cursor = min(t_hi, st.session_state.cursor + st.session_state.speed * TICK_SEC)
    st.session_state.playing = st.session_state.cursor < t_hi
    return not st.session_state.playing


def draw(
    root: str,
    case: str,
    channels: list[str],
    view: tuple[float, float],
    span: tuple[float, float],
    risk: pd.DataFrame,
    alarms: pd.DataFrame,
    seizures: pd.DataFrame,
    files: pd.DataFrame,
    labels: LabelParams,
    threshold: float,
    cursor: float,
):
    signal, blocks, manifest = case_signal(root, case)
    names = manifest["channels"]
    idx = [names.index(c) for c in channels]
    sfreq = float(manifest["signal"]["sfreq_hz"])
    fig, (ax_eeg, ax_risk) = plt.subplots(
        2, 1, figsize=(12, 7), gridspec_kw={"height_ratios": [3, 2]}, constrained_layout=True
    )
    spacing = 150.0  # µV between channel traces
    for piece in eeg_in_view(signal, blocks, sfreq, view[0], view[1], idx):
        for j in range(len(idx)):
            ax_eeg.plot(piece.times, piece.data[j] - j * spacing, lw=0.5, color="k")
    ax_eeg.set_yticks([-j * spacing for j in range(len(idx))], channels)
    ax_eeg.set_xlim(*view)
    # The scale bar in the right margin, clear of the traces and the channel names.
    x_bar = view[1] + 0.01 * (view[1] - view[0])
    ax_eeg.plot([x_bar, x_bar], [0, -100], color="tab:blue", lw=2, clip_on=False)
    ax_eeg.text(x_bar, -50, " 100 µV", color="tab:blue", va="center", fontsize=8, clip_on=False)
    ax_eeg.xaxis.set_major_formatter(FuncFormatter(lambda x, _: clock_time(x)))
    ax_eeg.set_title(
        f"{case}: EEG in view, {clock_time(view[0])} to {clock_time(view[1])} "
        f"({view[1] - view[0]:g} s, preprocessed, µV)"
    )

    shown = risk[(risk.end_sec >= span[0]) & (risk.start_sec <= span[1])]
    past = shown[shown.end_sec <= cursor]
    ax_risk.plot(*_broken_at_gaps(past), color="tab:blue", lw=1, label="risk (post-processed)")
    ax_risk.plot(*_broken_at_gaps(shown), color="tab:blue", lw=0.5, alpha=0.25)
    bad = shown[shown.bad]
    ax_risk.plot(
        bad.end_sec, np.full(len(bad), -0.04), "|", color="tab:gray", ms=4, label="bad window"
    )
    ax_risk.axhline(threshold, color="tab:orange", lw=1, label=f"threshold {threshold:.4f}")
    sop_lo, sph = labels.preictal_sec, labels.sph_sec
    for s in seizures[seizures.case == case].itertuples():
        ax_risk.axvspan(s.onset_sec - sop_lo, s.onset_sec - sph, color="tab:purple", alpha=0.12)
        ax_risk.axvspan(s.onset_sec, s.end_sec, color="tab:red", alpha=0.3)
        ax_risk.axvline(s.onset_sec, color="tab:red", lw=1)
    f = files[files.case == case].sort_values("start_sec")
    for prev_end, start in zip(f.end_sec.to_numpy()[:-1], f.start_sec.to_numpy()[1:], strict=True):
        if start - prev_end > 1:
            ax_risk.axvspan(prev_end, start, color="k", alpha=0.08, hatch="//", lw=0)
    for kind, colour in KIND_COLOURS.items():
        a = alarms[(alarms.case == case) & (alarms.kind == kind) & alarms.time_sec.between(*span)]
        ax_risk.plot(a.time_sec, np.full(len(a), 1.03), "v", color=colour, label=f"{kind} alarm")
    ax_risk.axvline(cursor, color="k", lw=1, ls="--")
    ax_risk.axvspan(*view, color="tab:blue", alpha=0.06)
    ax_risk.set_xlim(*span)
    ax_risk.set_ylim(-0.08, 1.08)
    ax_risk.xaxis.set_major_formatter(
        FuncFormatter(lambda x, _: clock_time(x, seconds=span[1] - span[0] < 3600))
    )
    ax_risk.set_xlabel("clock time (day 1 = the day of the case's first recording)")
    ax_risk.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    ax_risk.set_title("risk, threshold, SOP windows (purple), seizures (red), gaps (hatched)")
    return fig


def risk_chart(
    risk: pd.DataFrame,
    span: tuple[float, float],
    threshold: float,
    seizures: pd.DataFrame,
    alarms: pd.DataFrame,
    case: str,
) -> alt.LayerChart:
    """The selection's risk as an interactive chart (zoom and pan on the time axis, hover for clock
    time and values): the threshold, seizure onsets and alarms by kind."""
    data = risk_for_chart(risk, span)
    hours = alt.X("hours:Q", title="hours from the start of the selection")
    line = (
        alt.Chart(data)
        .mark_line(strokeWidth=1)
        .encode(
            x=hours,
            y=alt.Y("risk:Q", title="risk (post-processed)", scale=alt.Scale(domain=[0, 1.1])),
            detail="segment:N",  # no line across a recording gap
            tooltip=["clock", alt.Tooltip("risk:Q", format=".4f")],
        )
    )
    layers = [
        line,
        alt.Chart(pd.DataFrame({"y": [threshold]})).mark_rule(color="orange").encode(y="y:Q"),
    ]
    s = seizures[(seizures.case == case) & seizures.onset_sec.between(*span)]
    if len(s):
        onsets = pd.DataFrame(
            {"hours": (s.onset_sec - span[0]) / 3600, "clock": [clock_time(t) for t in s.onset_sec]}
        ).assign(event="seizure onset")
        layers.append(
            alt.Chart(onsets).mark_rule(color="red").encode(x="hours:Q", tooltip=["event", "clock"])
        )
    a = alarms[(alarms.case == case) & alarms.time_sec.between(*span)]
    if len(a):
        marks = pd.DataFrame(
            {
                "hours": (a.time_sec - span[0]) / 3600,
                "clock": [clock_time(t) for t in a.time_sec],
                "alarm": a.kind.astype(str) + " alarm",
                "y": 1.05,
            }
        )
        colours = alt.Scale(
            domain=[f"{k} alarm" for k in KIND_COLOURS],
            range=["#2ca02c", "#d62728", "#7f7f7f"],
        )
        layers.append(
            alt.Chart(marks)
            .mark_point(shape="triangle-down", filled=True, size=60)
            .encode(
                x="hours:Q",
                y="y:Q",
                color=alt.Color("alarm:N", scale=colours),
                tooltip=["alarm", "clock"],
            )
        )
    return alt.layer(*layers).interactive(bind_y=False).properties(height=260)


def _broken_at_gaps(risk: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Window ends and risks with a NaN wherever recording stops, so no line crosses a gap."""
    gap = np.flatnonzero(risk.start_sec.to_numpy()[1:] > risk.end_sec.to_numpy()[:-1] + 1.0) + 1
    x = np.insert(risk.end_sec.to_numpy(dtype=float), gap, np.nan)
    return x, np.insert(risk.risk.to_numpy(dtype=float), gap, np.nan)


def metrics_panel(
    summary: dict,
    whole: dict,
    points: pd.DataFrame,
    part: str,
    threshold: float,
    params: AlarmParams,
) -> None:
    st.subheader("Metrics at this threshold")
    c = st.columns(5)
    c[0].metric("Alarms (selection)", summary["n_alarms"])
    c[1].metric("FAH (selection)", _fmt(summary["fah"]))
    c[2].metric("Sensitivity (selection)", _fmt(summary["sensitivity"]))
    c[3].metric("Mean warning time (min)", _fmt(summary["mean_time_to_warning_sec"] / 60))
    c[4].metric("Time in warning (%)", _fmt(100 * summary["time_in_warning"]))
    st.markdown(
        f'<span id="app-alarm-count">{summary["n_alarms"]}</span> alarms in the selection '
        f"({summary['n_true_alarms']} true, {summary['n_false_alarms']} false); whole {part} part: "
        f"FAH {_fmt(whole['fah'])}, sensitivity {_fmt(whole['sensitivity'])} "
        f"({whole['n_caught']}/{whole['n_seizures_scored']} seizures). Threshold "
        f'<span id="app-threshold">{threshold!r}</span>; post-processing: '
        f'<span id="app-postprocessing">{_postprocessing(params)}</span>.',
        unsafe_allow_html=True,
    )
    st.caption(
        "Tuned operating points of the evaluation (thresholds from validation, test metrics):"
    )
    st.dataframe(readable_points(points), hide_index=True)


def _postprocessing(p: AlarmParams) -> str:
    smoothing = {
        "ema": f"EMA alpha {p.ema_alpha:g}",
        "moving_average": f"moving average of {p.ma_windows} windows",
        "none": "no smoothing",
    }[p.smoothing]
    return ", ".join(
        [
            smoothing,
            f"persistence {p.persistence_k} windows" if p.persistence_k > 1 else "no persistence",
            f"re-arm below {p.hysteresis:g} x threshold" if p.hysteresis else "no hysteresis",
            f"refractory {p.refractory_min:g} min" if p.refractory_min else "no refractory period",
        ]
        + ([f"risk relative to the previous {p.baseline_min:g} min"] if p.baseline_min else [])
    )


def _fmt(x) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.2f}"


def main() -> None:
    st.set_page_config(page_title="preictal replay", layout="wide")
    st.title("preictal: EEG replay with risk and alarms")
    if unset := exposing_defaults():
        st.error(exposure_warning(unset))
        st.stop()
    root = str(results_root())
    run, case, part, preds = sidebar_selection(root)
    fold_cases = tuple(sorted(preds.case.unique()))
    points, stops, evaluated, files, seizures, labels, source = fold_tables(root, run, fold_cases)
    if source.get("kind") == "synthetic":
        st.warning(
            f"Synthetic data: generated by {source.get('generator', 'preictal.synthetic')} "
            f"(seed {source.get('seed')}, effect size {source.get('effect_size')}), not CHB-MIT."
        )
    else:
        st.info(f"Data: {source.get('kind')} ({source.get('data_root')})")

    in_part = set(preds.file[(preds.case == case) & (preds.part == part)])
    case_files = files[(files.case == case) & files.file.isin(in_part)].sort_values("start_sec")
    choice = st.sidebar.selectbox("File", ["whole timeline", *case_files.file], key="file")
    if choice == "whole timeline":
        span = (float(case_files.start_sec.min()), float(case_files.end_sec.max()))
    else:
        f = case_files[case_files.file == choice].iloc[0]
        span = (float(f.start_sec), float(f.end_sec))
    names = case_signal(root, case)[2]["channels"]
    channels = st.sidebar.multiselect("Channels", names, default=names[:6], key="channels")
    view_len = VIEW_SEC[st.sidebar.selectbox("EEG view", list(VIEW_SEC), index=1, key="view")]
    threshold = threshold_controls(points, stops)
    params = postprocessing_controls(evaluated)
    _, whole = alarms_at(part_evaluator(root, run, part, fold_cases, params)[0], threshold)
    file = None if choice == "whole timeline" else choice
    selection, selection_preds = part_evaluator(root, run, part, (case,), params, file)
    alarms, summary = alarms_at(selection, threshold)

    st.subheader("Replay")
    replay_controls(span[0], span[1])
    risk = smoothed_risk(selection, selection_preds)

    @st.fragment(run_every=timedelta(seconds=TICK_SEC) if st.session_state.playing else None)
    def player():
        if advance(span[1]):
            st.rerun()  # the whole page: Play instead of Pause, the seek slider, no more ticks
        cursor = st.session_state.cursor
        if st.session_state.playing:
            st.progress(
                (cursor - span[0]) / max(span[1] - span[0], 1e-9),
                text=f"Playing at {st.session_state.speed}x: {clock_time(cursor)}; pause to seek",
            )
        view = (max(span[0], cursor - view_len), max(span[0], cursor - view_len) + view_len)
        fig = draw(
            root,
            case,
            channels or names[:1],
            view,
            span,
            risk,
            alarms,
            seizures,
            files,
            labels,
            threshold,
            cursor,
        )
        st.pyplot(fig)
        plt.close(fig)
        now = risk[risk.end_sec <= cursor].dropna(subset=["risk"]).tail(1)
        st.markdown(
            f'Now <b id="app-clock">{clock_time(cursor)}</b> (<span id="app-cursor">'
            f"{cursor:.0f}</span> s on the case's timeline); risk as of now: "
            f"{_fmt(now.risk.iloc[0]) if len(now) else 'n/a'}",
            unsafe_allow_html=True,
        )

    player()
    st.subheader("Risk over the selection")
    st.caption("Scroll to zoom and drag to pan the time axis; hover for clock time and values.")
    st.altair_chart(risk_chart(risk, span, threshold, seizures, alarms, case), width="stretch")
    # Below the replay, so that the plots are the first thing on the page.
    metrics_panel(summary, whole, points, part, threshold, params)


if __name__ == "__main__":
    try:
        main()
    except MissingResults as e:
        st.error(f"Results are missing: {e}")
        st.code(RUN_COMMAND, language="bash")
        st.stop()
    except Exception as e:  # never a traceback on the page; the log keeps it
        log.exception("replay app failed")
        st.error(f"The app could not show this selection: {type(e).__name__}: {e}")
        st.stop()
