"""Config checks against schemas/workflow_config.schema.yaml with short messages.

Snakemake's `validate` prints the whole schema on an error (hundreds of lines), and `--config`
passes nested values as strings (`--config 'windows={w_sec: 20}'` gives `w_sec: '20'`). Here an
unknown key is named with its place and the closest valid key, strings are typed where the schema
wants a number or a boolean, and any other violation is one line with its config path.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, MutableMapping
from pathlib import Path

import jsonschema
import yaml

_PY_TYPES = {
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "null": (type(None),),
    "array": (list,),
    "object": (dict,),
}


def load_schema(path: str | Path) -> dict:
    return yaml.safe_load(Path(path).read_text())


def _place(path: tuple[str, ...]) -> str:
    return "at the top level" if not path else f"under '{'.'.join(path)}'"


def _allowed_types(node: Mapping) -> list[str]:
    kind = node.get("type")
    return [kind] if isinstance(kind, str) else list(kind or [])


def _object_nodes(node: Mapping) -> list[Mapping]:
    """The object schemas a value may match: the node itself or its oneOf/anyOf branches."""
    branches = [node] + list(node.get("oneOf", [])) + list(node.get("anyOf", []))
    return [b for b in branches if "properties" in b or "patternProperties" in b]


def unknown_key_message(config: Mapping, schema: Mapping) -> str | None:
    """The first key the schema does not allow, with its place and the closest valid key."""

    def walk(value, node: Mapping, path: tuple[str, ...]) -> str | None:
        if isinstance(value, list):
            items = node.get("items")
            for i, item in enumerate(value):
                if isinstance(items, Mapping):
                    found = walk(item, items, (*path, str(i)))
                    if found:
                        return found
            return None
        if not isinstance(value, Mapping):
            return None
        for obj in _object_nodes(node):
            properties = obj.get("properties", {})
            patterns = obj.get("patternProperties", {})
            for key, sub in value.items():
                if key in properties:
                    found = walk(sub, properties[key], (*path, key))
                    if found:
                        return found
                    continue
                if any(re.search(p, str(key)) for p in patterns):
                    continue
                if obj.get("additionalProperties", True) is False:
                    return _unknown(str(key), path, list(properties), list(patterns))
        return None

    return walk(config, schema, ())


def _unknown(key: str, path: tuple[str, ...], valid: list[str], patterns: list[str]) -> str:
    message = f"unknown key '{key}' {_place(path)}"
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    if close:
        message += f"; did you mean '{close[0]}'?"
    elif valid:
        message += f". Valid keys there: {', '.join(valid)}."
    elif patterns:
        message += f". Keys there must match {' or '.join(patterns)}."
    return message


def type_config_strings(config: MutableMapping, schema: Mapping) -> None:
    """Give strings their YAML type where the schema allows no string but a number, boolean,
    null or list (in place): `--config 'windows={w_sec: 20}'` arrives as `{'w_sec': '20'}`."""

    def walk(container, key, node: Mapping) -> None:
        value = container[key]
        if isinstance(value, str):
            allowed = _allowed_types(node)
            if allowed and "string" not in allowed:
                try:
                    typed = yaml.safe_load(value)
                except yaml.YAMLError:
                    return
                if any(
                    isinstance(typed, _PY_TYPES[t])
                    and not (t in ("number", "integer") and isinstance(typed, bool))
                    for t in allowed
                    if t in _PY_TYPES
                ):
                    container[key] = typed
            return
        if isinstance(value, MutableMapping):
            for obj in _object_nodes(node):
                for sub_key, sub_node in obj.get("properties", {}).items():
                    if sub_key in value:
                        walk(value, sub_key, sub_node)
        elif isinstance(value, list) and isinstance(node.get("items"), Mapping):
            for i in range(len(value)):
                walk(value, i, node["items"])

    for key, node in schema.get("properties", {}).items():
        if key in config:
            walk(config, key, node)


def config_problem(config: MutableMapping, schema: Mapping) -> str | None:
    """One short line for the first thing wrong with the config, or None. Types `--config`
    strings first (in place), so that a valid override passes."""
    type_config_strings(config, schema)
    unknown = unknown_key_message(config, schema)
    if unknown:
        return unknown
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(schema).iter_errors(config)
    )
    if error is None:
        return None
    where = ".".join(str(p) for p in error.absolute_path) or "the config"
    message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
    return f"{where}: {message}"
