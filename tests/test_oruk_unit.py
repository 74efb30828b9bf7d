"""The pieces under the ORUK mapping: UK postcodes, addresses, weekly schedules from the form, the shape both
official schemas allow (recomputed from the vendored schemas), and the descriptor the package carries."""

from __future__ import annotations

import json

import pytest
from oruk_shape import intersect
from oruk_support import HSDS_DIR, ORUK_DIR, load

from server.coordinator.oruk import schedules
from server.coordinator.oruk.address import normalise_postcode, split_address
from server.coordinator.oruk.shape import SHAPE, as_uuid, conform
from server.coordinator.oruk.tabular import DESCRIPTOR_TEXT


@pytest.mark.parametrize(("text", "parts"), [
    ("1 Church Lane, Northside, NS1 2AB", ("1 Church Lane", "Northside", "NS1 2AB")),
    ("Flat 2\n10 Downing Street\nLondon SW1A2AA", ("Flat 2, 10 Downing Street", "London", "SW1A 2AA")),
    ("m11ae", ("", "", "M1 1AE")),
    ("12 High Street, Northside", ("12 High Street", "Northside", "")),
    ("Unit 12345, Big Road", ("Unit 12345", "Big Road", "")),  # no postcode: nothing invented
    ("", ("", "", "")),
])
def test_split_address(text, parts):
    split = split_address(text)
    assert (split["address_1"], split["city"], split["postcode"]) == parts


def test_normalise_postcode():
    assert normalise_postcode(" gir0aa ") == "GIR 0AA" and normalise_postcode("ec1a1bb") == "EC1A 1BB"
    assert normalise_postcode("ABC 1234") == "ABC 1234"  # not a UK postcode: left as given


def test_schedules_from_the_form():
    form = {"opens_MO": "09:00", "closes_MO": "17:00", "opens_TU": "09:00", "closes_TU": "17:00",
            "opens_SA": "10:00", "closes_SA": "12:30"}
    kept = {"freq": "MONTHLY", "bymonthday": "1", "description": "First of the month"}
    items = schedules.from_form(form, [kept])
    assert items == [{"freq": "WEEKLY", "interval": 1, "byday": "MO,TU", "opens_at": "09:00:00",
                      "closes_at": "17:00:00"},
                     {"freq": "WEEKLY", "interval": 1, "byday": "SA", "opens_at": "10:00:00", "closes_at": "12:30:00"},
                     kept]
    week, others = schedules.split_for_form(items)
    assert week == {"MO": ("09:00", "17:00"), "TU": ("09:00", "17:00"), "SA": ("10:00", "12:30")}
    assert others == [kept]
    assert schedules.describe(items) == "Mon, Tue 09:00-17:00; Sat 10:00-12:30; 1 more as imported"
    for bad in ({"opens_WE": "09:00"}, {"opens_WE": "17:00", "closes_WE": "09:00"},
                {"opens_WE": "9", "closes_WE": "x"}):
        with pytest.raises(schedules.ScheduleError):
            schedules.from_form(bad, [])


def test_shape_is_what_both_official_schemas_allow():
    assert SHAPE == json.loads(json.dumps(intersect(load(HSDS_DIR / "service.json"), load(ORUK_DIR / "service.json"))))


def test_the_package_carries_the_official_descriptor():
    assert DESCRIPTOR_TEXT == (ORUK_DIR / "datapackage.json").read_text()


def test_conform_names_what_it_leaves_out():
    dropped = []
    kept = conform({"id": "ext-1", "name": "X", "status": "active", "url": "not a uri", "alternate_name": "Y",
                    "minimum_age": "12", "organization": {"id": "o", "name": "O"}}, dropped=dropped)
    assert kept == {"id": as_uuid("ext-1"), "name": "X", "status": "active"}
    assert sorted(dropped) == ["alternate_name", "minimum_age", "organization", "url"]
    assert as_uuid("ext-1") == as_uuid("ext-1") and as_uuid(" ") is None
