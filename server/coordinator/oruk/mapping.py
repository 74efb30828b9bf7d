"""One imported service (HSDS / Open Referral UK 3.0, or the older ORUK 1 names) to a resource: every 3.0
field we store is mapped; the rest that the standard allows is kept in the record's raw copy (so a later
export gives it back); what neither stores nor the standard allows is named in the report."""

from __future__ import annotations

import copy
import re
import uuid as uuidlib

from ...models import Resource
from ..resources import LIMITS
from .address import LIMITS as ADDRESS_LIMITS
from .address import join_address, normalise_postcode
from .schedules import DAYS, from_import
from .service import PHONE_CONTACT, VOCABULARY
from .shape import as_uuid, conform, node_at

UK_NAMES = {"uk", "united kingdom", "great britain", "england", "scotland", "wales", "northern ireland", "gb"}
ORUK1_DAYS = {label.lower(): code for code, label in DAYS}


class RowError(ValueError):
    pass


def text(value, label: str, limit: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RowError(f"{label} should be text.")
    out = str(value).strip()
    if "\x00" in out:
        raise RowError(f"{label} contains a NUL character, which cannot be stored.")
    if out.startswith("'") and out[1:2] in ("=", "+", "-", "@"):
        out = out[1:]  # undo the spreadsheet-safety apostrophe of a "for spreadsheets" file
    if required and not out:
        raise RowError(f"{label} is missing.")
    if len(out) > limit:
        raise RowError(f"{label} is longer than {limit} characters.")
    return out


def service_uuid(value) -> uuidlib.UUID | None:
    made = as_uuid(value)
    return uuidlib.UUID(made) if made else None


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _take_first(service: dict, key: str) -> dict:
    """Remove and return the first item of a list (the one we store); the rest stay for the raw copy."""
    items = _list(service.get(key))
    if not items or not isinstance(items[0], dict):
        return {}
    service[key] = items[1:]
    return items[0]


def _legacy(service: dict) -> None:
    """ORUK 1 names to their 3.0 places, so one mapping serves both."""
    if "regular_schedules" in service and "schedules" not in service:
        service["schedules"] = [
            {k: v for k, v in (("id", s.get("id")), ("freq", "WEEKLY" if s.get("weekday") else None),
                               ("byday", ORUK1_DAYS.get(str(s.get("weekday", "")).lower())),
                               ("opens_at", s.get("opens_at")), ("closes_at", s.get("closes_at")),
                               ("description", s.get("description"))) if v}
            for s in _list(service.pop("regular_schedules")) if isinstance(s, dict)]
    for area in _list(service.get("service_areas")):
        if isinstance(area, dict) and "service_area" in area:
            area.setdefault("name", area.pop("service_area"))
    for sal in _list(service.get("service_at_locations")):
        location = _dict(_dict(sal).get("location"))
        if "physical_addresses" in location and "addresses" not in location:
            location["addresses"] = location.pop("physical_addresses")
    if "service_taxonomys" in service and "attributes" not in service:
        service["attributes"] = [{"id": t.get("id"), "taxonomy_term": t.get("taxonomy")}
                                 for t in _list(service.pop("service_taxonomys")) if isinstance(t, dict)]


def _phone(service: dict, location: dict, sal: dict) -> str:
    for i, contact in enumerate(_list(service.get("contacts"))):
        if isinstance(contact, dict) and str(contact.get("name", "")).strip().lower() == PHONE_CONTACT.lower() \
                and (contact.get("title") or contact.get("phones")):
            service["contacts"] = service["contacts"][:i] + service["contacts"][i + 1:]
            phones = [p for p in _list(contact.get("phones")) if isinstance(p, dict) and p.get("number")]
            return phones[0]["number"] if phones else contact["title"]
    holders = [service, sal, location, _dict(service.get("organization"))]
    holders += [c for c in _list(service.get("contacts")) if isinstance(c, dict)]
    for holder in holders:
        phone = _take_first(holder, "phones")
        if phone.get("number"):
            return phone["number"]
    return ""


def _category(service: dict) -> tuple[str, dict]:
    """The category (the first term of ours, else the first term) and the attribute it came from."""
    attributes = [a for a in _list(service.get("attributes")) if isinstance(a, dict)]
    ours = [a for a in attributes if _dict(a.get("taxonomy_term")).get("taxonomy") == VOCABULARY]
    chosen = (ours or attributes or [None])[0]
    if chosen is None:
        return "", {}
    service["attributes"] = [a for a in attributes if a is not chosen]
    return _dict(chosen.get("taxonomy_term")).get("name") or "", chosen


def _address(location: dict, originals: dict) -> dict:
    address = _take_first(location, "addresses")
    if not address:
        return {}
    line = ", ".join(str(address[k]).strip() for k in ("address_1", "address_2") if address.get(k))
    country = str(address.get("country") or "").strip()
    if country.lower() in UK_NAMES or not re.fullmatch(r"[A-Za-z]{2}", country):
        country = "GB"  # ORUK is the UK profile; a name or a blank means the UK
    parts = {"address_1": text(line, "Address line 1", ADDRESS_LIMITS["address_1"]),
             "city": text(address.get("city"), "Town or city", ADDRESS_LIMITS["city"]),
             "county": text(address.get("state_province"), "County", ADDRESS_LIMITS["county"]),
             "postcode": normalise_postcode(text(address.get("postal_code"), "Postcode", ADDRESS_LIMITS["postcode"])),
             "country": country.upper()}
    originals["address"] = address
    return parts


def _keep_original(originals: dict, part: str, item: dict, node_keys: tuple) -> None:
    """Keep an imported part we map, to give it back whole while our field still says the same."""
    kept = conform(item, node_at(*node_keys), part, [])
    if kept is not None:
        originals[part] = kept


def map_service(raw: dict) -> tuple[uuidlib.UUID | None, dict, dict]:
    """(service id, resource fields, report {"raw": [...], "left_out": [...]})."""
    service = copy.deepcopy(raw)
    _legacy(service)
    status = text(service.pop("status", ""), "Status", 40).lower() or "active"
    if status not in Resource.STATUSES:
        raise RowError(f"Status “{status}” is not one of active, inactive, defunct or temporarily closed.")
    url = text(service.pop("url", ""), "Website (url)", LIMITS["website"])
    if url and not url.lower().startswith(("http://", "https://")):
        raise RowError("Website (url) must start with https:// or http://.")
    dropped: list[str] = []
    originals: dict = {}
    fields = {"name": text(service.pop("name", None), "Name", LIMITS["name"], required=True),
              "description": text(service.pop("description", ""), "Description", LIMITS["description"]),
              "website": url, **Resource.status_values(status)}
    service_id = service_uuid(service.pop("id", None))
    anchor_id = service_id or uuidlib.uuid4()

    def derived(part: str) -> str:  # the id an export makes for a part the file gave none
        return str(uuidlib.uuid5(anchor_id, part))

    organization = _dict(service.get("organization"))
    org_id = organization.get("id") or service.pop("organization_id", None)
    service.pop("organization_id", None)
    org_name = text(organization.get("name", ""), "Organisation name", 200)
    fields["organization_name"] = "" if org_name == fields["name"] else org_name
    org_description = text(organization.get("description", ""), "Organisation description", LIMITS["description"])
    fallback = fields["description"] or org_name or fields["name"]  # what an export writes for "none"
    fields["organization_description"] = "" if org_description == fallback else org_description
    if service.get("organization") is not None or org_id:
        service["organization"] = {**organization, "id": org_id or derived("organization"), "name": org_name or "-",
                                   "description": "-"}
    sal = _take_first(service, "service_at_locations")
    location = _dict(sal.get("location"))
    fields["phone"] = text(_phone(service, location, sal), "Phone", LIMITS["phone"])
    address = _address(location, originals)
    location_type = str(location.get("location_type", "") or "").lower()
    if location_type not in ("physical", "postal", "virtual"):
        location_type = "physical" if address else "virtual"
    fields.update({"address_1": "", "city": "", "county": "", "postcode": "", "country": "GB"} | address)
    fields["location_type"] = location_type
    fields["address"] = join_address(fields)
    if len(fields["address"]) > LIMITS["address"]:
        raise RowError(f"Address is longer than {LIMITS['address']} characters.")
    if sal:
        location.update({"id": location.get("id") or derived("location"), "location_type": location_type})
        service.setdefault("service_at_locations", []).insert(0, {**sal, "id": sal.get("id") or derived(
                                                                  "service_at_location"),
                                                                  "location": location})
    items, fields["opening_hours"], lost = from_import(service.pop("schedules", []))
    dropped += lost
    fields["schedules"] = items
    if len(fields["opening_hours"]) > LIMITS["opening_hours"]:
        raise RowError(f"Opening hours are longer than {LIMITS['opening_hours']} characters.")
    areas = _list(service.get("service_areas"))
    area = areas[0] if areas and isinstance(areas[0], dict) else {}
    fields["area"] = ""
    if isinstance(area.get("name"), str) and 0 < len(area["name"].strip()) <= LIMITS["area"]:
        _take_first(service, "service_areas")  # a longer area stays whole in the raw copy
        fields["area"] = text(area["name"], "Service area", LIMITS["area"])
        _keep_original(originals, "area", area, ("service_areas",))
    category, attribute = _category(service)
    fields["category"] = ""
    if isinstance(category, str) and 0 < len(category.strip()) <= LIMITS["category"]:
        fields["category"] = category.strip()
        _keep_original(originals, "attribute", attribute, ("attributes",))
    elif attribute:
        service.setdefault("attributes", []).insert(0, attribute)
    if "address" in originals:
        address_node = ("service_at_locations", "location", "addresses")
        _keep_original(originals, "address", originals.pop("address"), address_node)
    anchor = {"id": str(anchor_id), "name": fields["name"], "status": status}
    left = conform({k: v for k, v in service.items() if v not in ({}, [], None, "")} | anchor,
                   dropped=dropped) or {}
    for key in anchor:
        left.pop(key, None)
    extra = {"service": left, "originals": originals}
    report = {"raw": sorted(k for k, v in left.items() if v not in ({}, [])),
              "left_out": sorted({re.sub(r"\[\d+\]", "", d) for d in dropped})}
    return service_id, fields | {"uuid": anchor_id, "oruk_extra": extra}, report
