"""What a service may hold so that it is valid, strictly, under both HSDS 3.0 and Open Referral UK 3.0:
shape.json is the part of the two official compiled service schemas that both allow (tests check it
against the vendored schemas). conform() keeps what fits that shape and names what it had to leave out."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid as uuidlib
from pathlib import Path

SHAPE = json.loads((Path(__file__).with_name("shape.json")).read_text())
ID_NAMESPACE = uuidlib.UUID("6f1c3a52-1b7e-4c55-9d0e-2f8a4b6c7d10")  # turns non-UUID ids into stable UUIDs

# Conservative forms: anything these accept, a strict JSON Schema format check accepts too.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+\Z")
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\Z")
_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)\Z")
_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def as_uuid(value) -> str | None:
    """A UUID as text; any other id becomes a stable UUID made from it, so links between records hold."""
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value).strip() == "":
        return None
    text = str(value).strip()
    try:
        return str(uuidlib.UUID(text))
    except ValueError:
        return str(uuidlib.uuid5(ID_NAMESPACE, text[:200]))


def is_uri(text: str) -> bool:
    return bool(_URI.match(text)) and not _PERCENT.search(text)


def is_email(text: str) -> bool:
    return bool(_EMAIL.match(text)) and len(text) <= 254


def is_datetime(text: str) -> bool:
    if not _DATETIME.match(text):
        return False
    try:
        dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _scalar(value, node: dict):
    kind, fmt = node["type"], node.get("format")
    if kind == "string":
        if not isinstance(value, str) or "\x00" in value:
            return None
        if fmt == "uuid":
            return as_uuid(value)
        if fmt == "uri" and not is_uri(value):
            return None
        if fmt == "email" and not is_email(value):
            return None
        if fmt == "date-time" and not is_datetime(value):
            return None
        if "enum" in node and value not in node["enum"]:
            return None
        return value
    if kind in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:  # NaN
            return None
        if kind == "integer" and not float(value).is_integer():
            return None
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    return None


def conform(value, node: dict = SHAPE, path: str = "", dropped: list[str] | None = None):
    """`value` cut to the shape; every part left out is named in `dropped`. None when nothing fits."""
    dropped = dropped if dropped is not None else []
    kind = node["type"]
    if kind == "object":
        if not isinstance(value, dict):
            dropped.append(path or "(the record)")
            return None
        out = {}
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if key not in node["properties"]:
                dropped.append(where)
                continue
            if item is None or item == [] or item == {}:
                continue
            kept = conform(item, node["properties"][key], where, dropped)
            if kept is not None:
                out[key] = kept
        if any(key not in out for key in node["required"]):
            dropped.append(path or "(the record)")
            return None
        return out
    if kind == "array":
        if not isinstance(value, list):
            dropped.append(path)
            return None
        out = [kept for i, item in enumerate(value)
               if (kept := conform(item, node["items"], f"{path}[{i}]", dropped)) is not None]
        return out
    kept = _scalar(value, node)
    if kept is None:
        dropped.append(path)
    return kept


def node_at(*keys: str) -> dict:
    """The shape of a part of a service, e.g. node_at("schedules") for one schedule."""
    node = SHAPE
    for key in keys:
        node = node["properties"][key]
        if node["type"] == "array":
            node = node["items"]
    return node
