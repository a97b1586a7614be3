"""The result a reader opens first: `results/headline.html`, one readable table per split (model x
FAH target, rounded, units in the headers, the model chosen on validation marked) with the
protocol that defines the numbers, followed by final_summary.md rendered as HTML. It is the first
item of the report's first category (Snakemake's report shows an HTML item in the page)."""

from __future__ import annotations

import html
from collections.abc import Mapping

import numpy as np
import pandas as pd
from markdown_it import MarkdownIt

from preictal.evaluate.final_summary import best_model
from preictal.labels import LabelParams

SPLIT_NAMES = {"loso": "Leave one patient out (loso)", "within": "Within patient (within)"}
COLUMNS = [
    "model",
    "FAH target (per h)",
    "sensitivity, mean over folds (95 % CI)",
    "seizures caught (all folds)",
    "false alarms per interictal hour (test)",
    "time in warning (% of recorded time)",
    "mean warning time (min)",
    "patients above chance",
    "cohort p",
]
STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; max-width: 78em; }
table { border-collapse: collapse; margin: 0.6em 0 1.4em; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
th { background: #f2f2f2; vertical-align: bottom; }
td:first-child, th:first-child { text-align: left; }
tr.chosen td { background: #fff6d5; font-weight: 600; }
.source { padding: 0.5em 0.8em; background: #eef4ff; border-left: 4px solid #4a7bd0; }
.protocol { font-size: 0.92em; }
"""


def _pct(x: float, digits: int = 0) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{100 * x:.{digits}f} %"


def _num(x: float, digits: int) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def _p(x: float) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    return f"{x:.1e}" if x < 1e-3 else f"{x:.3f}"


def _with_interval(mean: float, lo: float, hi: float) -> str:
    if np.isfinite(lo) and np.isfinite(hi):
        return f"{_pct(mean)} ({_pct(lo)} to {_pct(hi)})"
    return f"{_pct(mean)} (no interval: under 2 folds)"


def headline_rows(
    results: pd.DataFrame, summary: pd.DataFrame, selection_fah: float
) -> pd.DataFrame:
    """One row per model and FAH target, in words and rounded; the model chosen on validation
    (highest mean validation sensitivity at `selection_fah`) first, marked in `chosen`."""
    chosen = best_model(results, selection_fah) if len(results) else None
    summary = summary[summary.n_folds > 0] if len(summary) else summary
    if summary.empty:
        return pd.DataFrame(columns=[*COLUMNS, "chosen"])
    order = sorted(summary.model.unique(), key=lambda m: (m != chosen, m))
    rows = []
    for model in order:
        for s in summary[summary.model == model].sort_values("target_fah").itertuples():
            rows.append(
                {
                    "model": f"{model} (chosen on validation)" if model == chosen else model,
                    "FAH target (per h)": f"{s.target_fah:g}",
                    "sensitivity, mean over folds (95 % CI)": _with_interval(
                        s.sensitivity_mean, s.sensitivity_ci_lo, s.sensitivity_ci_hi
                    ),
                    "seizures caught (all folds)": f"{int(s.pooled_n_caught)} of "
                    f"{int(s.pooled_n_seizures)}",
                    "false alarms per interictal hour (test)": _num(s.pooled_fah, 2),
                    "time in warning (% of recorded time)": _pct(s.pooled_time_in_warning, 1),
                    "mean warning time (min)": _num(s.time_to_warning_sec_mean / 60, 1),
                    "patients above chance": f"{int(s.n_patients_significant)} of "
                    f"{int(s.n_patients_tested)}",
                    "cohort p": _p(s.cohort_p),
                    "chosen": model == chosen,
                }
            )
    return pd.DataFrame(rows, columns=[*COLUMNS, "chosen"])


def _table(rows: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = []
    for r in rows.to_dict("records"):
        cells = "".join(f"<td>{html.escape(str(r[c]))}</td>" for c in COLUMNS)
        body.append(f"<tr{' class=chosen' if r['chosen'] else ''}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def protocol_text(label_params: LabelParams, selection_fah: float) -> str:
    """What defines the numbers, in one paragraph (SPH, SOP, FAH denominator, lead seizures)."""
    lp = label_params
    return (
        f"An alarm is true when a seizure begins between SPH = {lp.sph_sec:g} s and "
        f"SPH + SOP = {(lp.sph_sec + lp.sop_sec) / 60:g} min after it (SOP {lp.sop_sec:g} s). "
        "False alarms are counted per interictal hour: recorded time minus, for each seizure, "
        f"SPH + SOP before its onset, the seizure and {lp.postictal_min:g} min after it "
        "(recording gaps count nowhere). Scored seizures are lead seizures: no seizure ends within "
        f"{lp.lead_min:g} min before the onset. Thresholds are tuned on validation for each FAH "
        "target and applied unchanged to test; the model is chosen on validation (highest mean "
        f"validation sensitivity at FAH {selection_fah:g}), never on test. Sensitivity's interval "
        "is the 95 % interval of the mean over folds (evaluation.interval; Student-t by default); "
        "'patients above chance' is the per-patient test against a Poisson random predictor "
        "whose alarm rate is the larger of the test FAH and the target "
        "(Schelter et al. 2006), corrected for the operating points chosen on validation; "
        "'cohort p' tests all patients together."
    )


def headline_html(
    splits: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]],
    data_source: Mapping,
    label_params: LabelParams,
    selection_fah: float,
    final_summary_md: str,
) -> str:
    """The page: data source, protocol, a table per split, then final_summary.md rendered."""
    kind = str(data_source.get("kind", "?"))
    source = f"Data source: <b>{html.escape(kind.upper())}</b> ({html.escape(str(data_source.get('data_root', '')))})"
    if kind == "synthetic":
        source += (
            ": the synthetic CHB-MIT-like dataset (seed "
            f"{html.escape(str(data_source.get('seed', '?')))}, effect size "
            f"{html.escape(str(data_source.get('effect_size', '?')))}), not patients."
        )
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>preictal: results</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Seizure forecasting results</h1>",
        f"<p class=source>{source}</p>",
        f"<p class=protocol>{html.escape(protocol_text(label_params, selection_fah))}</p>",
    ]
    for split, (results, summary) in splits.items():
        rows = headline_rows(results, summary, selection_fah)
        trained = results[results.skipped.isna()] if len(results) else results
        n_folds = int(trained.fold.nunique()) if len(trained) else 0
        parts.append(
            f"<h2>{html.escape(SPLIT_NAMES.get(split, split))}: {n_folds} fold{'' if n_folds == 1 else 's'}</h2>"
        )
        parts.append(_table(rows) if len(rows) else "<p>No fold was trained.</p>")
    rendered = MarkdownIt("commonmark", {"html": False}).enable("table").render(final_summary_md)
    rendered = rendered.replace("<h1>Final summary</h1>", "<h2>Final summary</h2>", 1)
    parts += [rendered, "</body></html>"]
    return "\n".join(parts) + "\n"
