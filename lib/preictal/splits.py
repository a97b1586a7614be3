"""Train / validation / test splits, always grouped by patient, never by case or window.

- ``loso``: one fold per held-out patient (chb01 and chb21 together, by the ``patients`` mapping);
  validation is a small rotating set of the other patients (``val_patients``, the ones that follow
  the test patient in sorted order), training the rest.
- ``within``: pseudo-prospective inside one patient. Its lead seizures are sorted by onset; training
  covers the recording up to the end of the file that holds the last of the first ~``train_frac``
  of them, validation the files up to the next lead seizure(s), test the rest. Whole files only, in
  time order, so no file and no window lies in two parts. A patient with fewer than
  ``min_lead_seizures`` lead seizures is skipped, with the reason in the fold manifest.
  Labels are computed on the whole timeline, so a window near a part boundary can be labelled
  preictal for a seizure of the next part: such windows are *purged* (part ``none``), so that no
  part trains, calibrates or is scored on another part's seizure (:func:`assert_no_label_leak`);
  the scorer likewise credits alarms only to onsets the part recorded
  (``preictal.alarms.scoring``).

A split is a table with one row per window of every case involved (case, window, part), where part
is ``train``, ``val``, ``test`` or ``none``. :func:`assert_disjoint` checks every split in code.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

PARTS = ("train", "val", "test")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SplitParams:
    val_patients: int = 2
    train_frac: float = 0.5
    min_lead_seizures: int = 3


class SplitSkipped(Exception):
    """A fold that cannot be built (too few lead seizures); the reason goes in its manifest."""


def patients_of(cases: Sequence[str], patients: Mapping[str, str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for case in cases:
        out.setdefault(patients.get(case, case), []).append(case)
    return dict(sorted(out.items()))


def loso_parts(
    test_patient: str, all_patients: Sequence[str], params: SplitParams
) -> dict[str, list[str]]:
    """Patients of each part of the fold that holds out ``test_patient``."""
    ordered = sorted(all_patients)
    if test_patient not in ordered:
        raise ValueError(f"loso: unknown patient {test_patient}")
    others = ordered[ordered.index(test_patient) + 1 :] + ordered[: ordered.index(test_patient)]
    n_val = min(params.val_patients, len(others) - 1)
    if n_val < 1:
        raise SplitSkipped(f"loso needs at least 3 patients, got {len(ordered)}")
    return {"test": [test_patient], "val": others[:n_val], "train": others[n_val:]}


def loso_split(
    test_patient: str,
    windows: Mapping[str, pd.DataFrame],
    patients: Mapping[str, str],
    params: SplitParams,
) -> tuple[pd.DataFrame, dict]:
    """Split table and manifest of a loso fold; ``windows`` maps case -> window table."""
    by_patient = patients_of(list(windows), patients)
    parts = loso_parts(test_patient, list(by_patient), params)
    part_of_case = {c: part for part, ps in parts.items() for p in ps for c in by_patient[p]}
    table = pd.concat(
        [
            pd.DataFrame({"case": case, "window": w.window.to_numpy(), "part": part_of_case[case]})
            for case, w in windows.items()
        ],
        ignore_index=True,
    )
    manifest = {
        "split": "loso",
        "fold": test_patient,
        "patients": parts,
        "cases": {part: [c for p in ps for c in by_patient[p]] for part, ps in parts.items()},
    }
    return table, manifest


def within_lead_shares(n: int, params: SplitParams) -> tuple[int, int]:
    """How many of a patient's ``n`` lead seizures (n >= 3) go to training and to validation; the
    test part gets the rest (before whole files move a shared file's seizures to validation)."""
    n_train = min(max(1, round(params.train_frac * n)), n - 2)
    return n_train, max(1, (n - n_train) // 2)


def within_split(
    patient: str,
    windows: Mapping[str, pd.DataFrame],
    files: Mapping[str, pd.DataFrame],
    ledgers: Mapping[str, pd.DataFrame],
    params: SplitParams,
    labels: Mapping[str, pd.DataFrame] | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Split table and manifest of a within-patient fold. All of ``windows``, ``files`` and
    ``ledgers`` (seizure ledgers) belong to cases of ``patient``. Cases are ordered by name (a
    later case of the same patient is a later recording, like chb21 after chb01), files by time.
    With ``labels`` (window, seizure), windows preictal for a seizure of another part are purged."""
    order = []  # (case, file) in recording order
    for case in sorted(files):
        f = files[case].sort_values("start_sec")
        order += [(case, name) for name in f.file]
    leads = []
    for case in sorted(ledgers):
        led = ledgers[case]
        for s in led[led.lead].sort_values("onset_sec").itertuples():
            leads.append((case, s.file))
    manifest = {
        "split": "within",
        "fold": patient,
        "cases": sorted(files),
        "n_lead_seizures": len(leads),
    }
    if len(leads) < params.min_lead_seizures:
        raise SplitSkipped(
            f"{patient}: {len(leads)} lead seizure(s), fewer than min_lead_seizures="
            f"{params.min_lead_seizures}"
        )
    n_train, n_val = within_lead_shares(len(leads), params)
    position = {cf: i for i, cf in enumerate(order)}
    cut_train = position[leads[n_train - 1]]  # last file of training
    cut_val = position[leads[n_train + n_val - 1]]  # last file of validation
    part_of_file = {
        cf: "train" if i <= cut_train else "val" if i <= cut_val else "test"
        for i, cf in enumerate(order)
    }
    table = pd.concat(
        [
            pd.DataFrame(
                {
                    "case": case,
                    "window": w.window.to_numpy(),
                    "part": [part_of_file[(case, f)] for f in w.file],
                }
            )
            for case, w in windows.items()
        ],
        ignore_index=True,
    )
    parts_of_seizures = seizure_parts(ledgers, part_of_file)
    purged = {p: 0 for p in PARTS}
    if labels is not None:
        leaking = label_leaks(table, labels, parts_of_seizures)
        for part, n in table.part[leaking].value_counts().items():
            purged[part] = int(n)
        table.loc[leaking, "part"] = "none"
    manifest.update(
        {
            "purged_windows": purged,
            # Counted by the part of each seizure's file: whole files move, so a seizure that
            # shares a file with the last validation seizure is a validation seizure.
            "lead_seizures": {p: sum(part_of_file[s] == p for s in leads) for p in PARTS},
            "files": {
                part: [f"{c}/{f}" for (c, f) in order if part_of_file[(c, f)] == part]
                for part in PARTS
            },
        }
    )
    return table, manifest


def seizure_parts(
    ledgers: Mapping[str, pd.DataFrame], part_of_file: Mapping[tuple[str, str], str]
) -> dict[tuple[str, int], str]:
    """(case, seizure) -> the part of the file that holds its onset."""
    return {
        (case, int(s.seizure)): part_of_file[(case, s.file)]
        for case, led in ledgers.items()
        for s in led.itertuples()
    }


def label_leaks(
    split: pd.DataFrame,
    labels: Mapping[str, pd.DataFrame],
    parts_of_seizures: Mapping[tuple[str, int], str],
) -> np.ndarray:
    """Per row of ``split``: a window of a part labelled preictal for a seizure of another part."""
    leaks = np.zeros(len(split), dtype=bool)
    for case, lab in labels.items():
        rows = np.flatnonzero(split.case.to_numpy() == case)
        if not rows.size:
            continue
        target = (
            split.iloc[rows][["window"]]
            .merge(lab[["window", "seizure"]], on="window", how="left", validate="one_to_one")
            .seizure.fillna(-1)
            .astype(np.int64)
            .to_numpy()
        )
        owner = np.array(
            [parts_of_seizures.get((case, int(t)), "") if t >= 0 else "" for t in target]
        )
        part = split.part.to_numpy()[rows]
        leaks[rows] = (target >= 0) & np.isin(part, PARTS) & (owner != part)
    return leaks


def assert_no_label_leak(
    split: pd.DataFrame,
    labels: Mapping[str, pd.DataFrame],
    parts_of_seizures: Mapping[tuple[str, int], str],
) -> None:
    """The within-patient label guard: raise if a window of a part is labelled preictal for a
    seizure of another part."""
    leaks = label_leaks(split, labels, parts_of_seizures)
    if leaks.any():
        first = split[leaks].iloc[0]
        raise AssertionError(
            f"within split: {int(leaks.sum())} window(s) labelled preictal for a seizure of "
            f"another part (first: {first.case} window {first.window} in {first.part})"
        )


def assert_disjoint(
    split: pd.DataFrame,
    windows: Mapping[str, pd.DataFrame],
    patients: Mapping[str, str],
    mode: str,
) -> None:
    """The leakage guard: raise if a patient (loso) or a file or a stretch of time (within) lies
    in two parts, or if a window is assigned twice."""
    if split.duplicated(["case", "window"]).any():
        raise AssertionError("split: a window is assigned twice")
    used = split[split.part.isin(PARTS)]
    if mode == "loso":
        parts_of = used.assign(patient=used.case.map(lambda c: patients.get(c, c)))
        n_parts = parts_of.groupby("patient").part.nunique()
        if (n_parts > 1).any():
            raise AssertionError(
                f"loso split: patients in two parts: {list(n_parts[n_parts > 1].index)}"
            )
        return
    spans = []
    for case, w in windows.items():
        rows = used[used.case == case].merge(
            w[["window", "file", "start_sec", "end_sec"]], on="window"
        )
        if rows.groupby("file").part.nunique().gt(1).any():
            raise AssertionError(f"within split: a file of {case} lies in two parts")
        spans.append(rows)
    rows = pd.concat(spans)
    # In time order (cases in name order, then time), parts must run train -> val -> test.
    rank = {p: i for i, p in enumerate(PARTS)}
    rows = rows.sort_values(["case", "start_sec"])
    if not np.all(np.diff(rows.part.map(rank).to_numpy()) >= 0):
        raise AssertionError("within split: parts are not in time order (train, val, test)")
    for a, b in zip(PARTS, PARTS[1:], strict=False):
        end_a = rows[rows.part == a].groupby("case").end_sec.max()
        start_b = rows[rows.part == b].groupby("case").start_sec.min()
        overlap = (end_a.reindex(start_b.index) > start_b).fillna(False)
        if overlap.any():
            raise AssertionError(f"within split: {a} and {b} windows overlap in time")


def fold_counts(split: pd.DataFrame, labels: Mapping[str, pd.DataFrame]) -> dict:
    """n_pos / n_neg per part (labelled windows only)."""
    merged = pd.concat(
        [
            split[split.case == c].merge(lab[["window", "y_cls"]], on="window")
            for c, lab in labels.items()
        ]
    )
    out = {}
    for part in PARTS:
        y = merged.loc[merged.part == part, "y_cls"]
        out[part] = {"n_pos": int((y == 1).sum()), "n_neg": int((y == 0).sum())}
    return out


def rotating_seed(seed: int, fold: str) -> int:
    """A per-fold seed derived from the run seed and the fold name."""
    return int(np.random.SeedSequence([seed, *map(ord, fold)]).generate_state(1)[0])


__all__ = [
    "SplitParams",
    "SplitSkipped",
    "assert_disjoint",
    "fold_counts",
    "loso_split",
    "patients_of",
    "rotating_seed",
    "within_split",
]


def build_split(
    mode: str,
    fold: str,
    tables: Mapping[str, Mapping[str, pd.DataFrame]],
    patients: Mapping[str, str],
    params: SplitParams,
) -> tuple[pd.DataFrame, dict]:
    """The split table and manifest of one fold; ``tables`` maps case -> {"windows", "labels",
    "files", "seizures"} (the seizure ledger). A skipped fold has an empty table and says why."""
    windows = {c: t["windows"] for c, t in tables.items()}
    try:
        if mode == "loso":
            split, manifest = loso_split(fold, windows, patients, params)
        elif mode == "within":
            mine = [c for c in tables if patients.get(c, c) == fold]
            ledgers = {c: tables[c]["seizures"] for c in mine}
            labels = {c: tables[c]["labels"] for c in mine}
            split, manifest = within_split(
                fold,
                {c: windows[c] for c in mine},
                {c: tables[c]["files"] for c in mine},
                ledgers,
                params,
                labels,
            )
            part_of_file = {
                tuple(name.split("/", 1)): part
                for part, names in manifest["files"].items()
                for name in names
            }  # the guard checks the table against the manifest's files, not the split's code
            assert_no_label_leak(split, labels, seizure_parts(ledgers, part_of_file))
        else:
            raise ValueError(f"unknown split mode {mode!r}")
    except SplitSkipped as exc:
        empty = pd.DataFrame(
            {
                "case": pd.Series(dtype=str),
                "window": pd.Series(dtype=np.int64),
                "part": pd.Series(dtype=str),
            }
        )
        log.warning("%s/%s: fold skipped (%s); its result rows say so", mode, fold, exc)
        return empty, {"split": mode, "fold": fold, "skipped": str(exc)}
    involved = {c: windows[c] for c in split.case.unique()}
    assert_disjoint(split, involved, patients, mode)
    manifest["counts"] = fold_counts(split, {c: tables[c]["labels"] for c in involved})
    manifest["skipped"] = None
    return split, manifest


def fold_table(
    split: pd.DataFrame, cases: Mapping[str, Mapping[str, pd.DataFrame]]
) -> tuple[pd.DataFrame, np.ndarray]:
    """Every window of the fold's cases with its part, timeline position, bad flag and labels, and
    the matching feature matrix. ``cases`` maps case -> {"windows", "labels", "features"}."""
    rows, feats = [], []
    for case, t in cases.items():
        part = split[split.case == case].set_index("window").part
        w, lab, feat = t["windows"], t["labels"], t["features"]
        if not (w.window.equals(lab.window) and w.window.equals(feat.window)):
            raise AssertionError(f"{case}: windows, labels and features are not aligned")
        rows.append(
            pd.DataFrame(
                {
                    "case": case,
                    "window": w.window.to_numpy(),
                    "part": part.reindex(w.window).to_numpy(),
                    "file": w.file.to_numpy(),
                    "start_sample": w.start_sample.to_numpy(),
                    "start_sec": w.start_sec.to_numpy(),
                    "end_sec": w.end_sec.to_numpy(),
                    "segment": w.segment.to_numpy(),
                    "bad": w.bad.to_numpy(),
                    "y_cls": lab.y_cls.to_numpy(),
                    "reason": lab.reason.to_numpy(),
                    "y_tte": lab.y_tte.to_numpy(),
                    "y_soft": lab.y_soft.to_numpy(),
                }
            )
        )
        feats.append(feat.drop(columns="window").to_numpy(dtype=np.float32))
    return pd.concat(rows, ignore_index=True), np.concatenate(feats)


def write_split(
    mode: str,
    fold: str,
    tables: Mapping[str, Mapping[str, pd.DataFrame]],
    *,
    patients: Mapping[str, str],
    params: SplitParams,
    data_source: dict,
    out_split: str | Path,
    out_manifest: str | Path,
) -> dict:
    """Build one fold's split and write it with its manifest (the edge of this module)."""
    from preictal.io import write_json, write_parquet

    split, manifest = build_split(mode, fold, tables, patients, params)
    manifest["data_source"] = data_source
    write_parquet(out_split, split, metadata={"data_source": data_source, "fold": fold})
    write_json(out_manifest, manifest)
    return manifest
