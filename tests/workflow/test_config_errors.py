"""Config errors a user can act on (preictal.workflow.schema): an unknown key is named with its place
and the closest valid key, `--config` strings get their schema type, any other violation is one line
with its config path; and the whole console output of such a run stays short."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from preictal.workflow.schema import config_problem, load_schema, type_config_strings

REPO = Path(__file__).resolve().parents[2]
SCHEMA = load_schema(REPO / "schemas/workflow_config.schema.yaml")
DEFAULT = yaml.safe_load((REPO / "workflow_config.yaml").read_text())


def with_changes(**sections) -> dict:
    config = copy.deepcopy(DEFAULT)
    for section, values in sections.items():
        config[section] = (
            {**config.get(section, {}), **values} if isinstance(values, dict) else values
        )
    return config


def test_the_committed_config_has_no_problem():
    assert config_problem(copy.deepcopy(DEFAULT), SCHEMA) is None


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({**DEFAULT, "windws": {"w_sec": 20}}, "unknown key 'windws' at the top level; did you mean 'windows'?"),
        (with_changes(windows={"w_secs": 20}), "unknown key 'w_secs' under 'windows'; did you mean 'w_sec'?"),
        (
            with_changes(fusion={"train": {**DEFAULT["fusion"]["train"], "epoch": 2}}),
            "unknown key 'epoch' under 'fusion.train'; did you mean 'epochs'?",
        ),
        (with_changes(patients={"case21": "chb01"}), "unknown key 'case21' under 'patients'. Keys there must match"),
        (with_changes(alarms={"zzz": 1}), "unknown key 'zzz' under 'alarms'. Valid keys there: smoothing,"),
        (with_changes(labels={"preictal_min": -3}), "labels.preictal_min: -3 is less than or equal to the minimum of 0"),
        (with_changes(alarms={"refractory_min": "abc"}), "alarms.refractory_min: 'abc' is not of type 'number'"),
    ],
)  # fmt: skip
def test_problems_are_one_line_naming_the_key(config, expected):
    problem = config_problem(config, SCHEMA)
    assert problem is not None and problem.startswith(expected), problem
    assert "\n" not in problem and len(problem) < 400


def test_config_strings_get_the_schema_type():
    """What `--config 'windows={w_sec: 20}'` and friends hand over (YAML's BaseLoader: all strings)."""
    config = with_changes(
        windows={"w_sec": "20"},
        alarms={"hysteresis": "null", "persistence_k": "2"},
        report={"figures_model": "xgboost"},
        data_root="123",
    )
    type_config_strings(config, SCHEMA)
    assert config["windows"]["w_sec"] == 20
    assert config["alarms"]["hysteresis"] is None and config["alarms"]["persistence_k"] == 2
    assert config["report"]["figures_model"] == "xgboost"
    assert config["data_root"] == "123"  # a string where the schema wants one stays a string
    assert config_problem(config, SCHEMA) is None


def dry_run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-n",
        "-s",
        str(REPO / "Snakefile"),
        "-d",
        str(tmp_path),
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)  # fmt: skip


@pytest.mark.workflow
def test_console_of_a_misspelt_key_is_short(tmp_path):
    """Top level (config file) and nested (--config): at most 10 lines, with the did-you-mean; a
    nested --config number is typed, not rejected (planning only, about 10 s per run)."""
    (tmp_path / "bad.yaml").write_text("windws:\n  w_sec: 20\n")
    for args, expected in (
        (("--configfile", "bad.yaml"), "did you mean 'windows'?"),
        (("--config", "windows={w_secs: 20}"), "under 'windows'; did you mean 'w_sec'?"),
    ):
        proc = dry_run(tmp_path, *args)
        console = (proc.stdout + proc.stderr).strip().splitlines()
        assert proc.returncode != 0
        assert len(console) <= 10, "\n".join(console)
        assert any(expected in line for line in console), "\n".join(console)
    typed = dry_run(tmp_path, "--config", "windows={w_sec: 20, step_sec: 10}", "--quiet")
    assert typed.returncode == 0, typed.stdout[-2000:] + typed.stderr[-2000:]
