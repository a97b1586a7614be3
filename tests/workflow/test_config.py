"""Parse-time config checks (preictal.workflow.config.check_config): relations between keys that
the schema cannot express are rejected before any job runs, with the keys named."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from preictal.workflow.config import canonical, check_config

REPO = Path(__file__).resolve().parents[2]
DEFAULT = yaml.safe_load((REPO / "workflow_config.yaml").read_text())


def changed(**sections) -> dict:
    config = copy.deepcopy(DEFAULT)
    for section, values in sections.items():
        if isinstance(values, dict) and isinstance(config.get(section), dict):
            config[section].update(values)
        else:
            config[section] = values
    return config


def test_the_committed_config_and_the_presets_pass():
    check_config(DEFAULT)
    for preset in sorted((REPO / "presets").glob("*.yaml")):
        config = copy.deepcopy(DEFAULT)
        for section, values in yaml.safe_load(preset.read_text()).items():
            if isinstance(values, dict) and isinstance(config.get(section), dict):
                config[section].update(values)
            else:
                config[section] = values
        check_config(config)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (changed(report={"figures_fah": 0.3}), "report.figures_fah 0.3 is not one of"),
        (changed(evaluation={"selection_fah": 2.0}), "evaluation.selection_fah 2.0 is not one"),
        (changed(report={"figures_model": "mlp"}, models=["logreg"]), "report.figures_model"),
        (changed(preprocess={"target_sfreq": 128, "notch_hz": 60, "h_freq": 70}), "h_freq 70"),
        (changed(preprocess={"target_sfreq": 100, "h_freq": 45}), "notch_hz 60 Hz is not below"),
        (changed(preprocess={"l_freq": 50, "h_freq": 45}), "l_freq 50 Hz must be below"),
        (changed(windows={"step_sec": 3.3}), "windows.step_sec 3.3"),
        (changed(windows={"w_sec": 7.5}), "windows.w_sec 7.5"),
        (changed(labels={"preictal_min": 5, "gap_sec": 300}), "gap_sec < preictal_min"),
        (changed(alarms={"hysteresis": 1.5}), "alarms: .*hysteresis"),
        (changed(patients={"chb21": "chb01", "chb01": "chb21"}), "one patient id"),
        (
            changed(comparisons={"losses": [{"name": "..", "train": {"loss": "bce"}}]}),
            "'..' is not a usable name",
        ),
        (changed(preprocess={"target_sfreq": 90, "h_freq": 40, "notch_hz": None}), "Nyquist"),
        # The zero-phase filter reads 13.3 s past a window's end (0.5 Hz at 256 Hz), 66.6 s with
        # a 0.1 Hz edge: a shorter horizon would let preictal windows see the onset.
        (changed(labels={"gap_sec": 10}), r"labels.gap_sec 10 s is shorter .* \(13.3 s"),
        (changed(preprocess={"l_freq": 0.1}), r"labels.gap_sec 30 s is shorter .* \(66.6 s"),
        (
            changed(evaluation={"spc": {"sop_min": [9.5], "sph_sec": [5, 300]}}),
            "evaluation.spc.sph_sec 5 s is shorter",
        ),
    ],
)
def test_relations_are_rejected_with_the_keys_named(config, message):
    with pytest.raises(ValueError, match=message):
        check_config(config)


def test_fusion_window_is_checked_only_when_fusion_is_trained():
    odd_rate = {"target_sfreq": 100.5, "h_freq": 45, "notch_hz": None}
    with pytest.raises(ValueError, match="whole number of Hz"):
        check_config(changed(preprocess=odd_rate))
    check_config(
        changed(preprocess=odd_rate, models=["logreg"], report={"figures_model": "logreg"})
    )


def test_canonical_sorts_keys_at_every_depth_and_keeps_list_order():
    config = {"b": {"y": 1, "x": [{"d": 2, "c": 1}, 3]}, "a": [2, 1]}
    out = canonical(config)
    assert out == config
    assert list(out) == ["a", "b"] and list(out["b"]) == ["x", "y"]
    assert list(out["b"]["x"][0]) == ["c", "d"] and out["a"] == [2, 1]
