"""server/sync/rules.py: the field rules read from the schemas, and the fast check. The fast check may only
accept what marshmallow accepts, with the same loaded values; whatever it is unsure of goes to marshmallow.
Hypothesis throws valid, borderline and wrong values of every field of every entity at both."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from server.schemas import FIELD_SCHEMAS, MutationSchema
from server.sync.rules import RULES, compile_schema, fast_load, rules_document

SETTINGS = settings(max_examples=120, derandomize=True, deadline=None)

ANY = st.one_of(st.none(), st.booleans(), st.integers(-5, 3000), st.floats(allow_nan=False),
                st.text(max_size=5), st.lists(st.integers(), max_size=2))


def _values(rule: dict):
    """Values around the edges of one rule, plus anything at all."""
    kind = rule["type"]
    if kind == "string":
        choices = rule.get("choices")
        lo, hi = rule.get("minLength", 0), rule.get("maxLength", 50)
        texts = st.text(min_size=max(0, lo - 1), max_size=min(hi + 1, 60)) | st.sampled_from(
            ["", "a\x00b", "x\ud800", "😀", "a" * hi, "a" * (hi + 1)])
        return (st.sampled_from(choices) | texts) if choices else texts
    if kind == "integer":
        lo, hi = rule.get("minimum", -10), rule.get("maximum", 10)
        return st.integers(lo - 2, hi + 2) | st.sampled_from([True, False, 1.0, "3"])
    if kind == "boolean":
        return st.booleans() | st.sampled_from([0, 1, "true", "yes"])
    if kind == "uuid":
        return st.uuids().map(str) | st.sampled_from([str(uuid.uuid4()).upper(), uuid.uuid4().hex, "nope", ""])
    if kind == "list":
        return st.lists(st.uuids().map(str) | st.just("bad"), max_size=rule.get("maxItems", 5) + 1)
    if kind == "datetime":
        return st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()) | st.sampled_from(
            ["2026-11-20T10:00:00", "2026-11-20T10:00:00Z", "2026-11-20 10:00:00+01:00", "1899-01-01T00:00:00+00:00",
             "2200-01-01T00:00:01+00:00", "20261120T100000+0000", "yesterday"])
    if kind == "date":
        return st.dates().map(lambda d: d.isoformat()) | st.sampled_from(["2026-02-30", "20261120", "2026-11-20T1"])
    raise AssertionError(kind)


@st.composite
def field_data(draw, entity: str):
    rules = RULES[entity]["fields"]
    data = {}
    for name, rule in rules.items():
        choice = draw(st.integers(0, 9))
        if choice == 0:
            continue  # missing
        if choice == 1:
            data[name] = draw(ANY)
        elif choice == 2:
            data[name] = None
        else:
            data[name] = draw(_values(rule))
    if draw(st.integers(0, 20)) == 0:
        data["unknown_field"] = "x"
    return data


def _check(entity: str, data: dict, partial: bool):
    fast = fast_load(entity, data, partial)
    try:
        slow = FIELD_SCHEMAS[entity]().load(data, partial=partial)
    except ValidationError:
        slow = None
    if fast is not None:
        assert slow is not None, (entity, data)  # never accepts what marshmallow refuses
        assert fast == slow, (entity, data)


@SETTINGS
@given(st.data())
def test_the_fast_check_accepts_only_what_marshmallow_accepts(data):
    entity = data.draw(st.sampled_from(sorted(FIELD_SCHEMAS)))
    _check(entity, data.draw(field_data(entity)), partial=data.draw(st.booleans()))


def test_the_fast_check_takes_the_plain_case():
    visit = {"person_id": str(uuid.uuid4()), "started_at": "2026-11-20T10:00:00+00:00", "duration_minutes": 45,
             "mode": "01", "location_type": "A01", "attendance": "5", "group_session": False, "notes": "Walked",
             "goal_ids": [str(uuid.uuid4())], "wellbeing": 6, "concern": "none", "concern_notes": "",
             "next_visit_at": None}
    assert fast_load("visit", visit, partial=False) == FIELD_SCHEMAS["visit"]().load(visit)


@SETTINGS
@given(st.fixed_dictionaries({"id": st.uuids().map(str) | st.just("x"), "entity": st.sampled_from(
    ["visit", "goal", "resource", "nope"]), "record_id": st.uuids().map(str), "op": st.sampled_from(
    ["upsert", "delete", "merge"]), "base_rev": st.none() | st.integers(-1, 5) | st.just(True)},
    optional={"fields": st.dictionaries(st.text(max_size=70), st.integers(), max_size=2) | st.just([])}))
def test_the_envelope_fast_path_agrees_with_mutation_schema(raw):
    fast = compile_schema(MutationSchema())(raw)
    try:
        slow = MutationSchema().load(raw)
    except ValidationError:
        slow = None
    if fast is not None:
        assert fast == slow


def test_the_rules_document_describes_every_writable_field():
    document = rules_document()
    assert set(document["entities"]) == set(FIELD_SCHEMAS)
    visit = document["entities"]["visit"]["fields"]
    assert visit["notes"] == {"type": "string", "text": True, "maxLength": 10000, "required": False,
                              "nullable": False}
    assert visit["wellbeing"]["minimum"] == 0 and visit["wellbeing"]["maximum"] == 10 and visit["wellbeing"]["nullable"]
    assert visit["mode"]["choices"] == ["01", "02", "11", "09", "98"]
    assert visit["started_at"]["required"] and visit["goal_ids"]["maxItems"] == 50
    assert "reviewed" in document["entities"]["visit"]["read_only"]
    assert len(document["version"]) == 16
