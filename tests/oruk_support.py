"""Strict checks against the vendored official schemas (see tests/oruk_data/README.md): every object closed
with additionalProperties false, as the specification's own CI does, and formats checked."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import jsonschema_rs

DATA = Path(__file__).parent / "oruk_data"
HSDS_DIR, ORUK_DIR = DATA / "hsds-3.0", DATA / "oruk-3.0"


def load(path: Path):
    return json.loads(path.read_text())


def close_everywhere(node):
    if isinstance(node, dict):
        if "properties" in node:
            node["additionalProperties"] = False
        for value in node.values():
            close_everywhere(value)
    elif isinstance(node, list):
        for value in node:
            close_everywhere(value)
    return node


@functools.cache
def validators():
    return {name: jsonschema_rs.validator_for(close_everywhere(load(folder / "service.json")), validate_formats=True)
            for name, folder in (("HSDS 3.0", HSDS_DIR), ("ORUK 3.0", ORUK_DIR))}


def schema_errors(service: dict) -> list[str]:
    """Every strict-validation error of one service under both official schemas."""
    return [f"{name}: {'/'.join(map(str, e.instance_path))}: {e.message}"
            for name, validator in validators().items() for e in validator.iter_errors(service)]
