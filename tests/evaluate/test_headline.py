"""results/headline.html (preictal.evaluate.headline): every model at every FAH target in words and
rounded, the model chosen on validation first and marked, the protocol stated, final_summary.md
rendered."""

from __future__ import annotations

import numpy as np
import pandas as pd

from preictal.evaluate.headline import COLUMNS, headline_html, headline_rows
from preictal.labels import LabelParams

TARGETS = (0.1, 1.0)


def tables():
    results = pd.DataFrame(
        [
            {"model": m, "fold": f, "target_fah": t, "skipped": np.nan,
             "val_sensitivity": {"logreg": 0.4, "xgboost": 0.6}[m], "val_auroc": 0.7}
            for m in ("logreg", "xgboost") for f in ("chb01", "chb02") for t in TARGETS
        ]
    )  # fmt: skip
    summary = pd.DataFrame(
        [
            {
                "model": m, "target_fah": t, "n_folds": 2, "sensitivity_mean": 0.123456, "sensitivity_ci_lo": 0.05,
                "sensitivity_ci_hi": 0.2, "pooled_n_caught": 3, "pooled_n_seizures": 12,
                "pooled_fah": 0.876543, "pooled_time_in_warning": 0.04321,
                "time_to_warning_sec_mean": 301.0, "n_patients_significant": 1,
                "n_patients_tested": 2, "cohort_p": 0.000123 if m == "xgboost" else 0.04,
            }
            for m in ("logreg", "xgboost") for t in TARGETS
        ]
    )  # fmt: skip
    return results, summary


def test_rows_put_the_chosen_model_first_rounded_with_units():
    results, summary = tables()
    rows = headline_rows(results, summary, selection_fah=1.0)
    assert list(rows.columns) == [*COLUMNS, "chosen"]
    assert rows.model.tolist() == ["xgboost (chosen on validation)"] * 2 + ["logreg"] * 2
    assert rows.chosen.tolist() == [True, True, False, False]
    first = rows.iloc[0]
    assert first["FAH target (per h)"] == "0.1"
    assert first["sensitivity, mean over folds (95 % CI)"] == "12 % (5 % to 20 %)"
    assert first["seizures caught (all folds)"] == "3 of 12"
    assert first["false alarms per interictal hour (test)"] == "0.88"
    assert first["time in warning (% of recorded time)"] == "4.3 %"
    assert first["mean warning time (min)"] == "5.0"
    assert first["patients above chance"] == "1 of 2"
    assert first["cohort p"] == "1.2e-04" and rows.iloc[2]["cohort p"] == "0.040"
    summary.loc[0, ["sensitivity_ci_lo", "sensitivity_ci_hi"]] = np.nan  # one fold: no interval
    logreg = headline_rows(results, summary, selection_fah=1.0).iloc[2]
    assert logreg["sensitivity, mean over folds (95 % CI)"] == "12 % (no interval: under 2 folds)"
    # A model whose folds were all skipped has summary rows (n_folds 0) but no headline row.
    untrained = pd.DataFrame({"model": "fusion", "target_fah": TARGETS, "n_folds": 0})
    rows = headline_rows(results, pd.concat([summary, untrained]), selection_fah=1.0)
    assert "fusion" not in set(rows.model) and len(rows) == 4


def test_page_states_source_and_protocol_and_renders_the_summary():
    results, summary = tables()
    page = headline_html(
        {"loso": (results, summary)},
        {"kind": "synthetic", "data_root": "resources/x", "seed": 7, "effect_size": 3.0},
        LabelParams(),
        1.0,
        "# Final summary\n\n| a | b |\n| --- | --- |\n| 1 | **<2>** |\n",
    )
    assert "Data source: <b>SYNTHETIC</b>" in page and "not patients" in page
    assert "SPH = 30 s" in page and "SOP 570 s" in page and "per interictal hour" in page
    assert "<h2>Leave one patient out (loso): 2 folds</h2>" in page
    assert page.count("<tr class=chosen>") == 2
    assert "<h2>Final summary</h2>" in page and "<td><strong>&lt;2&gt;</strong></td>" in page
