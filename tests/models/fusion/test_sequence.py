"""The second stage of fusion.sequence: each window's history (causal, one timeline and part), and
a GRU that learns what only the history tells."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from preictal.models.fusion.sequence import (
    SequenceInputs,
    SequenceParams,
    assert_histories_stay_in_their_part,
    fit_sequence,
    history_index,
    needed_rows,
    score_sequence,
)

GAP_SEC = 3600.0


def timeline_table(seed: int = 0) -> pd.DataFrame:
    """Two cases, two segments in one, 10-s windows every 5 s, parts in time order, rows
    shuffled. Two gaps inside a segment and part: chb01's second segment resumes 7 s late (one
    step missing, the grid moved by 2 s), chb02's training part an hour late."""
    rows = []
    for case, segments in (("chb01", (0, 1)), ("chb02", (0,))):
        for seg in segments:
            n = 40
            end = 10.0 + 5.0 * np.arange(n) + 10_000 * seg
            if (case, seg) == ("chb01", 1):
                end[15:] += 7.0
            if case == "chb02":
                end[12:] += GAP_SEC
            part = np.where(np.arange(n) < 20, "train", np.where(np.arange(n) < 30, "val", "test"))
            rows.append(pd.DataFrame({"case": case, "segment": seg, "part": part, "end_sec": end}))
    table = pd.concat(rows, ignore_index=True)
    return table.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def slot_search(table: pd.DataFrame, i: int, n: int, step: float = 5.0) -> np.ndarray:
    """Row ``i``'s history by a direct search: for each step back, the row of its case, segment
    and part whose end lies nearest that time, if within half a step."""
    row = table.loc[i]
    same = table[
        (table.case == row.case) & (table.segment == row.segment) & (table.part == row.part)
    ]
    out = []
    for lag in range(n - 1, -1, -1):
        distance = (same.end_sec - (row.end_sec - lag * step)).abs()
        near = distance[distance <= step / 2]
        out.append(near.idxmin() if len(near) else -1)
    return np.array(out)


def test_history_index_matches_a_direct_search():
    table = timeline_table()
    n = 6
    hist = history_index(table, n)
    for i in table.index:
        expected = slot_search(table, i, n)
        np.testing.assert_array_equal(hist[i], expected, err_msg=f"row {i}")
    # Never a later window, never another timeline or part; the window itself last.
    assert (hist[:, -1] == np.arange(len(table))).all()
    h = np.where(hist >= 0, hist, np.arange(len(table))[:, None])
    assert (table.end_sec.to_numpy()[h] <= table.end_sec.to_numpy()[:, None]).all()
    for col in ("case", "segment", "part"):
        values = table[col].to_numpy()
        assert (values[h] == values[:, None]).all()
    # After the hour's gap, a window's history holds only itself; after the 7-s gap, the step
    # that fell into it is absent and the steps before it are the windows before the gap.
    end = table.end_sec.to_numpy()
    after_hour = np.flatnonzero((table.case == "chb02") & (end == 10 + 5 * 12 + GAP_SEC))
    assert (hist[after_hour[0], :-1] == -1).all()
    after_7s = hist[np.flatnonzero((table.case == "chb01") & (end == 10_097.0))[0]]
    assert after_7s[-3] == -1  # 10 087 s: nothing ended within 2.5 s of it
    assert list(end[after_7s[[-4, -2, -1]]]) == [10_080.0, 10_092.0, 10_097.0]
    # Every history covers at most its n - 1 steps of time (half a step of slack).
    span = end[:, None] - end[h]
    assert span.max() <= 5.0 * (n - 1) + 2.5


def test_history_index_rejects_two_windows_ending_together():
    table = timeline_table()
    table.loc[1, ["case", "segment", "part", "end_sec"]] = table.loc[
        0, ["case", "segment", "part", "end_sec"]
    ]
    with pytest.raises(ValueError, match="same time"):
        history_index(table, 3)


def context_task(n_rows: int = 3000, lag: int = 5, seed: int = 0):
    """One long timeline whose label says whether a marker appeared in the last ``lag`` windows;
    a window's own embedding is noise, so only its history tells."""
    rng = np.random.default_rng(seed)
    marker = rng.random(n_rows) < 0.06
    y = np.array([marker[max(0, i - lag + 1) : i + 1].any() for i in range(n_rows)], dtype=int)
    y[marker] = 0  # the marker window itself carries the marker but not the label
    emb = rng.normal(size=(n_rows, 8)).astype(np.float32)
    emb[:, 0] += 6.0 * marker
    table = pd.DataFrame(
        {
            "case": "c",
            "segment": 0,
            "part": np.where(np.arange(n_rows) < 2000, "train", "val"),
            "end_sec": 5.0 * np.arange(n_rows),
        }
    )
    return table, emb, y


def test_the_gru_learns_what_only_the_history_tells():
    table, emb, y = context_task()
    inputs = SequenceInputs(emb, np.zeros(len(table), bool), history_index(table, 8))
    train = np.flatnonzero(table.part.to_numpy() == "train")
    val = np.flatnonzero(table.part.to_numpy() == "val")
    params = SequenceParams(windows=8, hidden=8, epochs=8, patience=8, dropout=0.0)
    model, curves = fit_sequence(inputs, y, train, val, params, seed=1)
    from sklearn.metrics import roc_auc_score

    own = roc_auc_score(y[val], emb[val, 0])  # the window alone: chance or worse
    auroc = roc_auc_score(y[val], score_sequence(model, inputs, val))
    assert own < 0.55 and auroc > 0.9, (own, auroc, curves)
    assert [c["epoch"] for c in curves] == list(range(1, len(curves) + 1))


def test_scores_are_causal_and_deterministic():
    table, emb, y = context_task(n_rows=600)
    table["part"] = np.where(np.arange(600) < 400, "train", "val")
    hist = history_index(table, 6)
    train, val = np.flatnonzero(table.part == "train"), np.flatnonzero(table.part == "val")
    params = SequenceParams(windows=6, hidden=4, epochs=2)
    model, _ = fit_sequence(
        SequenceInputs(emb, np.zeros(600, bool), hist), y, train, val, params, 3
    )
    again, _ = fit_sequence(
        SequenceInputs(emb, np.zeros(600, bool), hist), y, train, val, params, 3
    )
    base = score_sequence(model, SequenceInputs(emb, np.zeros(600, bool), hist), val)
    np.testing.assert_array_equal(
        base, score_sequence(again, SequenceInputs(emb, np.zeros(600, bool), hist), val)
    )
    cut = 500  # change the embeddings (and bad flags) of every window from row 500 on
    changed = emb.copy()
    changed[cut:] += 5.0
    bad = np.zeros(600, bool)
    bad[cut:] = True
    moved = score_sequence(model, SequenceInputs(changed, bad, hist), val)
    before = table.end_sec.to_numpy()[val] < table.end_sec[cut]
    np.testing.assert_array_equal(base[before], moved[before])
    assert (base[~before] != moved[~before]).mean() > 0.9


def test_needed_rows_are_the_histories_of_the_targets():
    table = timeline_table()
    hist = history_index(table, 4)
    targets = np.array([0, 5, 17])
    rows = needed_rows(hist, targets)
    assert set(rows) == {int(r) for t in targets for r in hist[t] if r >= 0}


@pytest.mark.parametrize("bad", [{"windows": 1}, {"hidden": 0}, {"epochs": 0}])
def test_bad_sequence_params_are_rejected(bad):
    with pytest.raises(ValueError, match="fusion.sequence"):
        SequenceParams(**bad)


def test_a_history_across_parts_is_caught():
    table = timeline_table()
    hist = history_index(table, 5)
    assert_histories_stay_in_their_part(table, hist)  # by construction
    crossing = history_index(table.assign(part="train"), 5)  # parts ignored: reads across them
    with pytest.raises(AssertionError, match="reads"):
        assert_histories_stay_in_their_part(table, crossing)
