"""The config schema documents every key, and it is the one source of defaults: the typed
parameter dataclasses and the committed workflow_config.yaml agree with it."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SCHEMA = yaml.safe_load((REPO / "schemas/workflow_config.schema.yaml").read_text())
CONFIG = yaml.safe_load((REPO / "workflow_config.yaml").read_text())

# Config section -> (dataclass that mirrors it, {schema key that is not a field: why}).
# A dataclass field without a schema key is fine (e.g. the baselines' model settings). None: only
# the keys that are both schema keys and fields are compared.
SECTIONS = {
    "labels": ("preictal.labels.LabelParams", {}),
    "windows": ("preictal.cache.windows.WindowParams", {}),
    "preprocess": ("preictal.cache.store.PreprocessParams", {}),
    "alarms": ("preictal.alarms.postprocess.AlarmParams", {}),
    "evaluation": ("preictal.evaluate.fold.EvalParams", None),  # part of it is one fold's
    "splits": (
        "preictal.splits.SplitParams",
        {
            "modes": "the split modes to run: the Snakefile expands over them",
            "folds": "the folds to run: the Snakefile selects them (workflow.config.selected_folds)",
        },
    ),
    "baseline": ("preictal.models.baseline.BaselineParams", {}),
    "fusion": (
        "preictal.models.fusion.fit.FusionParams",
        {
            "device": "where a job runs, passed to the training script separately",
            "gpus": "the `gpu` resource of each FusionNet job, read by the Snakefile",
        },
    ),
    "timeline": ("preictal.chbmit.timeline.TimelineParams", {}),
}

# Dotted config keys whose committed value differs from the schema default, and why. Every other
# key that the config sets must equal the schema default.
CONFIG_DIFFERS_FROM_SCHEMA = {
    "comparisons.folds": "the committed config runs the comparisons on chb03 only",
    "comparisons.losses": "the committed config lists example variants; by default there are none",
    "comparisons.sweep": "the committed config lists example variants; by default there are none",
    "comparisons.ablation": "the committed config lists the six branch/input variants; by default none",
    "alarms.persistence_k": "the committed config runs the alarm ablation's variant chosen on "
    "validation (docs/EVALUATION.md); the building blocks default to off",
    "alarms.hysteresis": "as alarms.persistence_k",
}


def load(path: str):
    module, name = path.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def field_defaults(cls) -> dict:
    """The dataclass's default values, by field name."""
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return out


def plain(value):
    """Tuples (dataclass defaults) as lists (YAML), recursively."""
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def schema_properties(node: dict, path: str = "") -> Iterator[tuple[str, dict]]:
    """(dotted path, schema) of every property, at every level; ``[]`` marks array items."""
    for key, prop in node.get("properties", {}).items():
        here = f"{path}.{key}" if path else key
        yield here, prop
        yield from schema_properties(prop, here)
        items = prop.get("items")
        if isinstance(items, dict):
            yield from schema_properties(items, f"{here}[]")


def section(name: str) -> dict:
    return SCHEMA["properties"][name]["properties"]


def test_every_property_has_a_description():
    paths = dict(schema_properties(SCHEMA))
    assert "comparisons.sweep[].train.epochs" in paths  # the walk reaches array items
    missing = [p for p, prop in paths.items() if not str(prop.get("description") or "").strip()]
    assert not missing, f"schema properties without a description: {missing}"


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_dataclass_defaults_equal_the_schema_defaults(name):
    cls_path, not_fields = SECTIONS[name]
    cls = load(cls_path)
    names = {f.name for f in dataclasses.fields(cls)}
    defaults = field_defaults(cls)
    keys = section(name)
    if not_fields is not None:
        unexplained = sorted(set(keys) - names - set(not_fields))
        assert not unexplained, (
            f"{name}: schema keys that are no field of {cls_path}: {unexplained}"
        )
        stale = sorted(k for k in not_fields if k in names or k not in keys)
        assert not stale, f"{name}: listed as not a field, but a field or no schema key: {stale}"
    assert set(keys) & set(defaults), f"{name}: no default of {cls_path} to compare"
    differ = {
        key: {"schema": prop["default"], "dataclass": plain(defaults[key])}
        for key, prop in keys.items()
        if "default" in prop and key in defaults and plain(defaults[key]) != prop["default"]
    }
    assert not differ, f"{name}: {cls_path} defaults differ from the schema: {differ}"


def test_fusion_nested_defaults_are_those_of_the_committed_config():
    """The schema gives no defaults inside fusion.net/train/augment (they would fill in every
    comparison variant), so the committed config is their source: FusionParams' dicts and
    TrainParams agree with it."""
    from preictal.models.fusion.data import Augment
    from preictal.models.fusion.fit import FusionParams
    from preictal.models.fusion.loop import TrainParams
    from preictal.models.fusion.net import FusionNet

    fusion = CONFIG["fusion"]
    for key in ("net", "train", "augment"):
        nested = section("fusion")[key]["properties"]
        assert not [k for k, p in nested.items() if "default" in p], f"fusion.{key}: defaults"
    params = FusionParams()
    for key in ("net", "train", "augment"):
        ours = getattr(params, key)
        shared = set(ours) & set(fusion[key])
        assert {k: ours[k] for k in shared} == {k: fusion[key][k] for k in shared}, key
    assert params.net == fusion["net"] and params.augment == fusion["augment"]
    # TrainParams (fusion.train): every schema key is a field; its defaults are the config's.
    train_defaults = field_defaults(TrainParams)
    assert not sorted(set(section("fusion")["train"]["properties"]) - set(train_defaults))
    assert {k: train_defaults[k] for k in fusion["train"]} == fusion["train"]
    assert TrainParams(**params.train) == TrainParams(**fusion["train"])
    # The net and augment keys name FusionNet's and Augment's parameters.
    net_args = set(inspect.signature(FusionNet).parameters)
    assert not sorted(set(section("fusion")["net"]["properties"]) - net_args)
    aug_fields = {f.name for f in dataclasses.fields(Augment)}
    assert not sorted(set(section("fusion")["augment"]["properties"]) - aug_fields)


def config_differences(schema: dict, config: dict, path: str = "") -> dict[str, tuple]:
    """{dotted key: (config value, schema default)} where the config sets a key to other than
    its schema default. Objects with properties are compared key by key."""
    out = {}
    for key, value in config.items():
        prop = schema.get("properties", {}).get(key)
        if prop is None:
            continue
        here = f"{path}.{key}" if path else key
        if "properties" in prop and isinstance(value, dict):
            out.update(config_differences(prop, value, here))
        elif "default" in prop and plain(value) != prop["default"]:
            out[here] = (value, prop["default"])
    return out


def test_committed_config_values_are_the_schema_defaults():
    differ = config_differences(SCHEMA, CONFIG)
    assert set(differ) == set(CONFIG_DIFFERS_FROM_SCHEMA), (
        f"committed config vs schema defaults: {differ}; "
        f"listed as known: {sorted(CONFIG_DIFFERS_FROM_SCHEMA)}"
    )
