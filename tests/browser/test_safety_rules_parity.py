"""Rule parity: for every field of every entity in the rules document (GET /api/v1/sync/rules), the phone's checker
(pwa/js/rules.js checkValue, run in the real Chromium) and the server's marshmallow schema agree on whether each of
a set of generated valid and invalid values is accepted."""

from __future__ import annotations

import json
import uuid

from marshmallow import ValidationError

from server.schemas import FIELD_SCHEMAS
from server.sync.rules import rules_document

U = str(uuid.UUID("0b8f3b0e-8a61-4b8f-9a7c-3a1c2d4e5f60"))
COMMON = [None, 5, True, "", ["x"], {"a": 1}]


def _strings(rule):
    if rule.get("choices"):
        return [*rule["choices"], "nope", rule["choices"][0].upper() + "x", " " + rule["choices"][0]]
    hi, lo = rule.get("maxLength", 50), rule.get("minLength", 0)
    values = ["a", "x" * hi, "x" * (hi + 1), "é" * hi, "é" * (hi + 1), "😀" * hi, "😀" * (hi + 1),
              " " * (hi + 1), "line one\nline two", "a\x00b", "tab\there"]
    if lo:
        values += ["x" * (lo - 1), "x" * lo]
    return values


def _integers(rule):
    lo, hi = rule.get("minimum", -5), rule.get("maximum", 5)
    return [lo, hi, lo - 1, hi + 1, (lo + hi) // 2, "3", 2.5, False, 10**12]


def _lists(rule):
    hi = rule.get("maxItems", 5)
    item = rule["itemChoices"][0] if rule.get("itemChoices") else U
    values = [[], [item], [item] * hi, [item] * (hi + 1), ["bad"], [5], "not a list", [None]]
    if rule.get("itemChoices"):
        values += [list(rule["itemChoices"]), ["hope", "nope"]]
    return values


VALUES = {
    "string": _strings,
    "integer": _integers,
    "boolean": lambda rule: [True, False, 0, 1, "true", "True", "yes", "off", "maybe", 2, "1"],
    "uuid": lambda rule: [U, U.upper(), U.replace("-", ""), "{" + U + "}", "urn:uuid:" + U, U[:-1], "nope",
                          U + "0", "g" * 32],
    "list": _lists,
    "datetime": lambda rule: [
        "2026-11-20T10:00:00+00:00", "2026-11-20T10:00:00Z", "2026-11-20T10:00+01:00", "2026-11-20T10:00:00.123+05:30",
        "2026-11-20 10:00:00+01:00", "2026-11-20T10:00:00", "2026-02-30T10:00:00+00:00", "2026-11-20T25:00:00+00:00",
        "1899-12-31T00:00:00+00:00", "1900-01-02T00:00:00+00:00", "2200-01-01T00:00:00+00:00",
        "2200-01-01T00:00:01+00:00", "2026-11-20T10:00:00-08:00", "2026-11-20", "yesterday", "2026-11-20T10:00:00+0100",
    ],
    "date": lambda rule: ["2026-11-20", "2026-02-29", "2024-02-29", "2026-02-30", "1899-12-31", "1900-01-01",
                          "2200-01-01", "2200-01-02", "2026-11-20T10:00", "tomorrow", "2026-1-2"],
}

CHECK = """async (cases) => {
  const { checkValue } = await import('/app/js/rules.js');
  return cases.map(([rule, value]) => checkValue(rule, value) === null);
}"""


def _server_accepts(entity: str, name: str, value) -> bool:
    try:
        FIELD_SCHEMAS[entity]().load({name: value}, partial=True)
    except ValidationError as exc:
        return name not in exc.messages
    return True


def test_phone_and_server_agree_on_every_field_of_every_entity(live_server, page):
    page.goto(live_server.url + "/app/")
    page.wait_for_selector("html[data-ready]")
    document = rules_document()
    cases, expected, where = [], [], []
    for entity, spec in document["entities"].items():
        for name, rule in spec["fields"].items():
            for value in VALUES[rule["type"]](rule) + COMMON:
                cases.append([rule, value])
                expected.append(_server_accepts(entity, name, value))
                where.append((entity, name, value if not isinstance(value, str) else value[:40]))
    phone = page.evaluate(CHECK, cases)
    differ = [(w, "server accepts" if e else "server refuses") for w, e, p in zip(where, expected, phone, strict=True)
              if e != p]
    assert differ == [], json.dumps(differ[:20], ensure_ascii=False, default=str)
    assert len(cases) > 400 and any(expected) and not all(expected)
    fields = {(entity, name) for entity, spec in document["entities"].items() for name in spec["fields"]}
    assert fields == {(e, n) for e, schema in FIELD_SCHEMAS.items() for n in schema().load_fields}
