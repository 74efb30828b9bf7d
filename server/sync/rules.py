"""The field rules of every entity a device may write, read from the marshmallow schemas in server/schemas.py
(the one copy): lengths, ranges, choices, required and nullable fields, and which fields are read-only.

Two uses: `rules_document()` is published to the field app (GET /api/v1/sync/rules) so the phone can refuse
before saving what the server would refuse; `fast_load()` checks the common, plainly valid case in a few
microseconds a field. Anything it is unsure of goes through marshmallow, which alone decides refusals and
words their messages, so the fast path can only ever accept what marshmallow accepts, with the same values
(tests/test_sync_rules.py holds it to that)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid as uuidlib

from marshmallow import fields, validate

from ..schemas import FIELD_SCHEMAS, READ_ONLY_FIELDS, BoundedDate, Text, UtcDateTime

_UNSURE = object()
_UTC = dt.UTC
_DT_MIN = dt.datetime(1900, 1, 2, tzinfo=_UTC)
_DT_MAX = dt.datetime(2200, 1, 1, tzinfo=_UTC)
_DATE_MIN = dt.date(1900, 1, 1)
_DATE_MAX = dt.date(2200, 1, 1)


def _rule(f: fields.Field) -> dict:
    """One field's rule, as the phone reads it."""
    if isinstance(f, fields.List):
        inner = _rule(f.inner)
        out = {"type": "list", "items": inner["type"]}
        if "choices" in inner:
            out["itemChoices"] = inner["choices"]  # e.g. a goal's CHIME tags
    elif isinstance(f, UtcDateTime):
        out = {"type": "datetime", "min": _DT_MIN.isoformat(), "max": _DT_MAX.isoformat()}
    elif isinstance(f, BoundedDate):
        out = {"type": "date", "min": _DATE_MIN.isoformat(), "max": _DATE_MAX.isoformat()}
    elif isinstance(f, fields.UUID):
        out = {"type": "uuid"}
    elif isinstance(f, fields.Boolean):
        out = {"type": "boolean"}
    elif isinstance(f, fields.Integer):
        out = {"type": "integer"}
    elif isinstance(f, fields.String):
        out = {"type": "string"}
        if isinstance(f, Text):
            out["text"] = True  # free text: no NUL characters, no broken (lone surrogate) characters
    else:  # pragma: no cover - a new field type must be described here before it can be published
        raise TypeError(f"no rule for {type(f).__name__}")
    for v in f.validators:
        if isinstance(v, validate.Length):
            key = "Items" if out["type"] == "list" else "Length"
            if v.min is not None:
                out["min" + key] = v.min
            if v.max is not None:
                out["max" + key] = v.max
        elif isinstance(v, validate.Range):
            if v.min is not None:
                out["minimum"] = v.min
            if v.max is not None:
                out["maximum"] = v.max
        elif isinstance(v, validate.OneOf):
            out["choices"] = list(v.choices)
        else:  # pragma: no cover
            raise TypeError(f"no rule for validator {type(v).__name__}")
    out["required"] = bool(f.required)
    out["nullable"] = bool(f.allow_none)
    return out


def _entity_rules(entity: str) -> dict:
    schema = FIELD_SCHEMAS[entity]()
    return {"fields": {name: _rule(f) for name, f in schema.load_fields.items()},
            "read_only": sorted(READ_ONLY_FIELDS.get(entity, {}))}


RULES: dict[str, dict] = {entity: _entity_rules(entity) for entity in FIELD_SCHEMAS}
_VERSION = hashlib.sha256(json.dumps(RULES, sort_keys=True).encode()).hexdigest()[:16]


def rules_document() -> dict:
    """What the field app caches: {"version", "entities": {entity: {"fields": {name: rule}, "read_only"}}}."""
    return {"version": _VERSION, "entities": RULES}


# --- the fast check -------------------------------------------------------------------------------

def _string(rule):
    lo, hi, choices = rule.get("minLength", 0), rule.get("maxLength"), rule.get("choices")
    text = rule.get("text", False)
    choice_set = frozenset(choices) if choices else None

    def check(v):
        if type(v) is not str:
            return _UNSURE
        if choice_set is not None:
            return v if v in choice_set else _UNSURE
        if len(v) < lo or (hi is not None and len(v) > hi):
            return _UNSURE
        if text and ("\x00" in v or (not v.isascii() and not _encodable(v))):
            return _UNSURE
        return v
    return check


def _encodable(v: str) -> bool:
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _integer(rule):
    lo, hi = rule.get("minimum"), rule.get("maximum")

    def check(v):
        if type(v) is not int or (lo is not None and v < lo) or (hi is not None and v > hi):
            return _UNSURE
        return v
    return check


def _boolean(rule):
    return lambda v: v if type(v) is bool else _UNSURE


def _uuid(v):
    if type(v) is not str or len(v) != 36:
        return _UNSURE
    try:
        return uuidlib.UUID(v)
    except ValueError:
        return _UNSURE


def _list(rule):
    hi = rule.get("maxItems")

    def check(v):
        if type(v) is not list or (hi is not None and len(v) > hi):
            return _UNSURE
        out = [_uuid(item) for item in v]
        return _UNSURE if any(item is _UNSURE for item in out) else out
    return check


def _datetime(rule):
    def check(v):
        if type(v) is not str:
            return _UNSURE
        try:
            value = dt.datetime.fromisoformat(v)
        except ValueError:
            return _UNSURE
        if value.tzinfo is None or value.utcoffset() is None or not _DT_MIN <= value <= _DT_MAX:
            return _UNSURE
        return value.astimezone(_UTC).replace(tzinfo=None)
    return check


def _date(rule):
    def check(v):
        if type(v) is not str:
            return _UNSURE
        try:
            value = dt.date.fromisoformat(v)
        except ValueError:
            return _UNSURE
        return value if _DATE_MIN <= value <= _DATE_MAX else _UNSURE
    return check


_CHECKS = {"string": _string, "integer": _integer, "boolean": _boolean, "uuid": lambda rule: _uuid,
           "list": _list, "datetime": _datetime, "date": _date}


def _dict(rule):
    hi = rule.get("maxKeyLength")

    def check(v):
        if type(v) is not dict or any(type(k) is not str or (hi is not None and len(k) > hi) for k in v):
            return _UNSURE
        return dict(v)
    return check


_CHECKS["dict"] = _dict


def _describe(f: fields.Field) -> dict:
    if isinstance(f, fields.Dict):  # the mutation envelope's `fields`: keys are checked, values per entity
        out = {"type": "dict", "required": bool(f.required), "nullable": bool(f.allow_none)}
        for v in f.key_field.validators if f.key_field else ():
            if isinstance(v, validate.Length) and v.max is not None:
                out["maxKeyLength"] = v.max
        return out
    return _rule(f)


def compile_schema(schema):
    """A fast loader for `schema` (a marshmallow Schema instance with unknown=RAISE): (data, partial) -> the
    dict schema.load(data, partial=partial) would return, or None when unsure."""
    entries = []
    for attr, f in schema.load_fields.items():
        rule = _describe(f)
        default = f.load_default
        entries.append((f.data_key or attr, attr, _CHECKS[rule["type"]](rule), rule["nullable"], rule["required"],
                        default))
    keys = frozenset(entry[0] for entry in entries)
    missing = type(fields.Field().load_default)

    def load(data, partial: bool = False):
        if type(data) is not dict or not data.keys() <= keys:
            return None
        out = {}
        for key, attr, check, nullable, required, default in entries:
            if key not in data:
                if required and not partial:
                    return None
                if not isinstance(default, missing):
                    out[attr] = default() if callable(default) else default
                continue
            value = data[key]
            if value is None:
                if not nullable:
                    return None
                out[attr] = None
                continue
            loaded = check(value)
            if loaded is _UNSURE:
                return None
            out[attr] = loaded
        return out
    return load


_FAST = {entity: compile_schema(schema()) for entity, schema in FIELD_SCHEMAS.items()}


def fast_load(entity: str, data: dict, partial: bool) -> dict | None:
    """`data` loaded as marshmallow would load it, or None when the fast check is unsure (use marshmallow)."""
    return _FAST[entity](data, partial)
