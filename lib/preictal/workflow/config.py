"""What the Snakefile needs at parse time, computed from the validated config.

Kept here rather than in ``rules/common.smk`` so that it is tested like the rest of the library.
"""

from __future__ import annotations

import ast
import hashlib
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from preictal.chbmit.dataset import available_cases, data_source, edfs_on_disk, resolve_cases
from preictal.chbmit.errors import DatasetError
from preictal.chbmit.summary_file import find_summary
from preictal.synthetic.plan import SyntheticSpec, plan_dataset, source_record


def canonical(value):
    """``value`` with every mapping's keys sorted, recursively (lists keep their order). Rule params
    built from the config compare in key order, so without this a preset that lists its keys in
    another order than the default config would rerun every job that reads them."""
    if isinstance(value, Mapping):
        return {key: canonical(value[key]) for key in sorted(value, key=str)}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value


def is_synthetic(config: Mapping) -> bool:
    """The workflow generates the synthetic dataset when ``data_root`` is ``synthetic.out_dir``."""
    return Path(config["data_root"]).resolve() == Path(config["synthetic"]["out_dir"]).resolve()


def synthetic_spec(config: Mapping) -> SyntheticSpec:
    return SyntheticSpec.from_config(config["synthetic"], patients=config["patients"])


def workflow_cases(config: Mapping) -> list[str]:
    """The cases to process: ``cases`` checked against what ``data_root`` holds (or will hold)."""
    if is_synthetic(config):
        spec = synthetic_spec(config)
        where = f"synthetic.cases {list(spec.cases)}"
        cases = resolve_cases(config["cases"], spec.cases, where)
        check_patient_ids(config["patients"], cases, spec.cases, where)
        return cases
    root = Path(config["data_root"])
    if not root.is_dir():
        raise DatasetError(
            f"data_root {root}: folder not found. Point data_root at a CHB-MIT copy "
            f"(see docs/DATA_DOWNLOAD.md) or leave it at the synthetic default "
            f"{config['synthetic']['out_dir']}"
        )
    if not isinstance(config["cases"], str):
        for case in config["cases"]:
            if (root / case).is_dir() and case not in available_cases(root):
                raise DatasetError(
                    f"{root / case}: no summary {case}-summary.txt, so its files and seizures "
                    f"are unknown"
                )
    available = available_cases(root)
    cases = resolve_cases(config["cases"], available, f"data_root {root}")
    check_patient_ids(config["patients"], cases, available, f"data_root {root}")
    return cases


def check_patient_ids(
    patients: Mapping[str, str], cases: Sequence[str], available: Sequence[str], where: str
) -> None:
    """A case of the run that ``patients`` maps elsewhere must map to a case of the dataset (a
    patient is named after its first case, as chb21 -> chb01): a typo would make a patient, and a
    fold, of its own."""
    for case in cases:
        patient = patients.get(case, case)
        if patient not in available:
            raise DatasetError(
                f"patients: {case} -> {patient}, but {where} holds no case {patient} (a patient "
                f"id is the name of the person's first case, e.g. chb21 -> chb01)"
            )


def case_summary_path(config: Mapping, case: str) -> Path:
    root = Path(config["data_root"])
    if is_synthetic(config):
        return root / case / f"{case}-summary.txt"
    return find_summary(root, case)


def case_edf_paths(config: Mapping, case: str) -> list[Path]:
    root = Path(config["data_root"])
    if is_synthetic(config):
        plan = {p.case: p for p in plan_dataset(synthetic_spec(config))}[case]
        return [root / case / f.name for f in plan.files]
    return edfs_on_disk(root, case)


METADATA_FILES = {
    "records": "RECORDS",
    "seizure_records": "RECORDS-WITH-SEIZURES",
    "subject_info": "SUBJECT-INFO",
    "sha256sums": "SHA256SUMS.txt",
}


def dataset_metadata_paths(config: Mapping) -> dict[str, Path]:
    """Top-level metadata files present (or to be generated) in ``data_root``, by role."""
    root = Path(config["data_root"])
    paths = {role: root / name for role, name in METADATA_FILES.items()}
    if is_synthetic(config):
        return paths
    return {role: p for role, p in paths.items() if p.is_file()}


def dataset_source(config: Mapping) -> dict:
    """The data source every output names, known at parse time (the synthetic data may not
    exist yet, but its parameters do)."""
    if is_synthetic(config):
        return source_record(synthetic_spec(config), config["data_root"])
    return data_source(config["data_root"])


def files_fingerprint(paths: Sequence[str | Path]) -> str:
    """Digest of the names, sizes and modification times of ``paths`` (``absent`` for a missing
    one): a param of the rules that read a real dataset, whose files are ``ancient()`` inputs, so
    that replacing or fixing a file reruns its case while a copy that keeps times (``cp -p``,
    ``rsync -a``) does not."""
    digest = hashlib.sha256()
    for path in sorted(str(p) for p in paths):
        try:
            st = Path(path).stat()
            stamp = f"{st.st_size}:{st.st_mtime_ns}"
        except FileNotFoundError:
            stamp = "absent"
        digest.update(f"{Path(path).name}={stamp}\n".encode())
    return digest.hexdigest()[:16]


def code_hash(*paths: str | Path) -> str:
    """Digest of source files, for ``params:`` so that a code change reruns a rule. Names enter
    the digest relative to the ``lib`` folder (or as bare names outside it), so that the hash is
    the same in any clone."""
    h = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        parts = path.parts
        name = "/".join(parts[parts.index("preictal") :]) if "preictal" in parts else path.name
        h.update(name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _module_file(lib: Path, module: str) -> Path | None:
    base = lib.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(source: Path) -> set[str]:
    """Every ``preictal`` module a file imports, at any depth of its code (imports inside
    functions count: they run when the function does)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(), str(source))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "preictal")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "preictal":
                out.add(node.module)
                out.update(f"{node.module}.{a.name}" for a in node.names)  # submodules
    return out


def import_closure(source: str | Path, lib: str | Path) -> list[Path]:
    """The ``preictal`` source files that ``source`` (a script) runs when imported: its imports,
    theirs, and so on, with each package's ``__init__.py`` on the way; sorted."""
    lib = Path(lib)
    seen: set[Path] = set()
    todo = [Path(source)]
    while todo:
        for module in _imported_modules(todo.pop()):
            parts = module.split(".")
            for depth in range(1, len(parts) + 1):
                f = _module_file(lib, ".".join(parts[:depth]))
                if f is not None and f not in seen:
                    seen.add(f)
                    todo.append(f)
    return sorted(seen)


def selected_folds(folds: str | list[str], patients: list[str], key: str) -> list[str]:
    """The folds to run: every patient for "all", else the listed ones, which must exist."""
    if folds == "all":
        return list(patients)
    unknown = sorted(set(folds) - set(patients))
    if unknown:
        raise DatasetError(f"config {key}: {unknown} are not patients of this dataset ({patients})")
    return list(folds)


# Keys of the `fusion` config that say where a job runs, not what it trains.
FUSION_PLACEMENT_KEYS = ("device", "gpus")
# results/tables/<table>.csv -> the list of variants in `comparisons` it compares.
COMPARISON_TABLES = {
    "loss_comparison": "losses",
    "sweep_results": "sweep",
    "fusion_ablation": "ablation",
}
# Tables that show test numbers only for the variant chosen on validation.
CHOSEN_ONLY_TABLES = ("sweep_results", "fusion_ablation")


def fusion_params(fusion: Mapping, overrides: Mapping | None = None) -> dict:
    """The FusionParams of `fusion` with a comparison variant's overrides merged one level deep
    (``{"train": {"loss": "focal"}}`` changes only the loss)."""
    merged = {k: v for k, v in fusion.items() if k not in FUSION_PLACEMENT_KEYS}
    for key, value in (overrides or {}).items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def comparison_variants(variants: Sequence[Mapping], key: str) -> dict[str, dict]:
    """``{name: overrides}`` of a list of comparison variants (each a ``name`` and overrides of
    ``fusion``); names must be unique."""
    out: dict[str, dict] = {}
    for variant in variants:
        name = variant["name"]
        if name in out:
            raise DatasetError(f"config {key}: variant {name!r} is listed twice")
        out[name] = {k: v for k, v in variant.items() if k != "name"}
    return out


def check_config(config: Mapping) -> None:
    """Combinations of keys the schema cannot check, rejected at parse time with the keys named:
    the report's and the selection's operating points must be FAH targets, the report's model
    one of the models, filter edges below Nyquist, whole-second windows, one patient id per
    person, SPH shorter than SPH + SOP (and the other checks of the typed label and alarm
    parameters), usable variant names, and FusionNet (when trained) able to take the cache's
    rate and window length."""
    targets = [float(t) for t in config["evaluation"]["fah_targets"]]
    for key, value in (
        ("evaluation.selection_fah", config["evaluation"]["selection_fah"]),
        ("report.figures_fah", config["report"]["figures_fah"]),
    ):
        if float(value) not in targets:
            raise ValueError(f"{key} {value} is not one of evaluation.fah_targets {targets}")
    if config["report"]["figures_model"] not in ("chosen", *config["models"]):
        raise ValueError(
            f"report.figures_model {config['report']['figures_model']!r} is not 'chosen' or one "
            f"of models {config['models']}"
        )
    check_signal_config(config["preprocess"], config["windows"])
    check_patients(config["patients"])
    # Imported here: the typed parameters pull numpy and pandas, not needed for the rest.
    from preictal.alarms.postprocess import AlarmParams
    from preictal.labels import LabelParams

    for section, params_class in (("labels", LabelParams), ("alarms", AlarmParams)):
        try:
            params_class(**config[section])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{section}: {exc}") from None
    check_horizon_covers_filter(config)
    for group in COMPARISON_TABLES.values():
        for variant in config["comparisons"][group]:
            if variant["name"] in (".", ".."):
                raise ValueError(f"comparisons.{group}: {variant['name']!r} is not a usable name")
    if "fusion" in config["models"]:
        from preictal.models.fusion.window import check_input

        check_input(config["preprocess"]["target_sfreq"], config["windows"]["w_sec"])


def check_horizon_covers_filter(config: Mapping) -> None:
    """Every prediction horizon (``labels.gap_sec`` and the SPC's ``sph_sec``) at least as long
    as the zero-phase filter's look-ahead: a preictal window's filtered samples depend on the raw
    signal up to that far past its end, which must never reach the seizure onset."""
    from preictal.signal.filters import filter_lookahead_sec

    pre = config["preprocess"]
    lookahead = filter_lookahead_sec(
        pre["target_sfreq"],
        l_freq=pre["l_freq"],
        h_freq=pre["h_freq"],
        notch_hz=pre["notch_hz"],
        notch_harmonics=pre["notch_harmonics"],
    )
    horizons = [("labels.gap_sec", config["labels"]["gap_sec"])] + [
        ("evaluation.spc.sph_sec", s) for s in config["evaluation"]["spc"]["sph_sec"]
    ]
    for key, value in horizons:
        if float(value) < lookahead:
            raise ValueError(
                f"{key} {value:g} s is shorter than the preprocessing filter's look-ahead "
                f"({lookahead:.1f} s: the zero-phase filter of preprocess.l_freq "
                f"{pre['l_freq']:g} Hz at {pre['target_sfreq']:g} Hz reads that far past a "
                f"window's end), so preictal windows would see the seizure onset; use a horizon "
                f"of at least {math.ceil(lookahead)} s or a higher l_freq"
            )


def check_signal_config(preprocess: Mapping, windows: Mapping) -> None:
    """The filter edges below Nyquist, and windows and steps of whole seconds: the bad-window
    check looks for a flat channel over each second of a window, which needs both to be cut into
    the same one-second pieces."""
    nyquist = preprocess["target_sfreq"] / 2
    for key in ("h_freq", "notch_hz"):
        value = preprocess[key]
        if value is not None and value >= nyquist:
            raise ValueError(
                f"preprocess.{key} {value:g} Hz is not below the Nyquist frequency "
                f"{nyquist:g} Hz (preprocess.target_sfreq / 2)"
            )
    if preprocess["l_freq"] >= preprocess["h_freq"]:
        raise ValueError(
            f"preprocess.l_freq {preprocess['l_freq']:g} Hz must be below preprocess.h_freq "
            f"{preprocess['h_freq']:g} Hz"
        )
    for key in ("w_sec", "step_sec"):
        if float(windows[key]) != int(windows[key]):
            raise ValueError(
                f"windows.{key} {windows[key]}: windows and steps must be whole seconds (the "
                f"bad-window check looks for a flat channel over each second of a window)"
            )


def check_patients(patients: Mapping[str, str]) -> None:
    """Each case maps to one person: a patient id may not itself be a case mapped to someone
    else (``{chb21: chb01, chb01: chb21}`` would split one person in two)."""
    for case, patient in patients.items():
        further = patients.get(patient, patient)
        if further != patient:
            raise ValueError(
                f"patients: {case} -> {patient}, but {patient} -> {further}: map every case of a "
                f"person to one patient id"
            )
