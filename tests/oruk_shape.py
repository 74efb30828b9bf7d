"""The part of HSDS 3.0 and Open Referral UK 3.0 that both compiled service schemas allow: for every object
the properties both have (with the stricter type, the formats, the shared enum values) and the properties
either requires. tests/test_oruk_schemas.py checks that server/coordinator/oruk/shape.json is exactly this."""

from __future__ import annotations

KEEP = ("type", "format", "enum")


def _type(a, b):
    ta, tb = a.get("type"), b.get("type")
    if ta == tb:
        return ta
    if {ta, tb} == {"number", "integer"}:
        return "integer"
    return None  # the two disagree: nothing is valid in both


def intersect(a: dict, b: dict) -> dict | None:
    kind = _type(a, b)
    if kind is None:
        return None
    out = {"type": kind}
    for key in ("format",):
        if a.get(key) or b.get(key):
            if a.get(key) and b.get(key) and a[key] != b[key]:
                return None
            out[key] = a.get(key) or b.get(key)
    if "enum" in a or "enum" in b:
        values = [v for v in a.get("enum", b.get("enum")) if v in b.get("enum", a.get("enum"))]
        out["enum"] = values
    if kind == "array":
        items = intersect(a.get("items", {}), b.get("items", {}))
        if items is None:
            return None
        out["items"] = items
    if kind == "object":
        props = {}
        for name in a.get("properties", {}):
            if name in b.get("properties", {}):
                both = intersect(a["properties"][name], b["properties"][name])
                if both is not None:
                    props[name] = both
        out["properties"] = props
        out["required"] = sorted(set(a.get("required", [])) | set(b.get("required", [])))
    return out
