"""One resource as an Open Referral UK 3.0 service (valid, strictly, under HSDS 3.0 too). Our fields are
written where the standard has them; what an import brought that we do not store comes back from the
record's raw copy. Ids of the parts are the ones the import brought, or made from the service id so they
stay the same across exports."""

from __future__ import annotations

import json
import uuid as uuidlib

from ...models import Resource
from . import schedules as schedules_mod
from .shape import ID_NAMESPACE, conform

VERSION = "3.0"
PROFILE_URL = "https://openreferraluk.org/"
VOCABULARY = "alongside-categories"
PHONE_CONTACT = "Telephone"  # ORUK 3.0's service has no phones: the number is the title of this contact
LIST_KEYS = ("id", "organization_id", "name", "description", "url", "email", "status", "fees", "accreditations",
             "minimum_age", "maximum_age", "assured_date", "assurer_email", "alert", "last_modified",
             "organization")


def load_extra(r: Resource) -> dict:
    """{"service": what we do not store, "originals": the imported parts we map (address, area,
    attribute), given back while our fields still say the same}; empty when never imported."""
    try:
        extra = json.loads(r.oruk_extra) if r.oruk_extra else {}
    except ValueError:
        extra = {}
    return {"service": extra.get("service") or {}, "originals": extra.get("originals") or {}}


def organization_description(r) -> str:
    """The standard needs one: ours, else the service's description, else the organisation's name."""
    return r.organization_description or r.description or r.organization_name or r.name


def category_term_id(category: str) -> str:
    return str(uuidlib.uuid5(ID_NAMESPACE, category))


def _same_address(original: dict, r: Resource) -> bool:
    return (original.get("address_1"), original.get("city"), original.get("state_province"),
            original.get("postal_code"), str(original.get("country", "")).upper()) == (
            r.address_1, r.city, r.county, r.postcode, r.country)


def _location(r: Resource, sub, left: dict, original: dict | None) -> dict:
    location = {**left, "id": left.get("id") or sub("location"), "location_type": r.location_type}
    if r.address_1 or r.city or r.postcode:
        if original and _same_address(original, r):
            address = original
        else:
            kept = {k: v for k, v in (original or {}).items() if k in ("attention", "region", "attributes")}
            address = {**kept, "id": (original or {}).get("id") or sub("address"), "address_1": r.address_1,
                       "city": r.city, "state_province": r.county, "postal_code": r.postcode,
                       "country": r.country, "address_type": "postal" if r.location_type == "postal" else "physical"}
        location["addresses"] = [{**address, "location_id": location["id"]}] + list(left.get("addresses", []))
    return location


def _area(r: Resource, sub, sid: str, original: dict | None) -> list[dict]:
    if not r.area:
        return []
    if original and original.get("name") == r.area:
        return [original]
    return [{"id": (original or {}).get("id") or sub("area"), "service_id": sid, "name": r.area}]


def _attribute(r: Resource, sub, sid: str, original: dict | None) -> list[dict]:
    if not r.category:
        return []
    if original and (original.get("taxonomy_term") or {}).get("name") == r.category:
        return [original]
    term = category_term_id(r.category)
    return [{"id": sub("attribute"), "link_id": sid, "taxonomy_term_id": term, "taxonomy_term": {
        "id": term, "name": r.category, "description": r.category, "taxonomy": VOCABULARY}}]


def service_json(r: Resource) -> dict:
    extra = load_extra(r)
    left, originals = extra["service"], extra["originals"]
    sid = str(r.uuid)

    def sub(part: str) -> str:
        return str(uuidlib.uuid5(r.uuid, part))

    org_left = left.get("organization", {})
    organization = {**org_left, "id": org_left.get("id") or sub("organization"),
                    "name": r.organization_name or r.name, "description": organization_description(r)}
    service = {**{k: v for k, v in left.items() if not isinstance(v, dict | list)},
               "id": sid, "organization_id": organization["id"], "name": r.name, "description": r.description,
               "status": r.status}
    if r.website:
        service["url"] = r.website
    items = schedules_mod.load(r.schedules)
    schedules = [{"id": item.get("id") or sub(f"schedule:{i}"), **item} for i, item in enumerate(items)]
    if r.opening_hours:
        schedules.append({"id": sub("opening_hours"), "description": r.opening_hours})
    sals = list(left.get("service_at_locations", []))
    first = sals.pop(0) if sals else {}
    sal = {**first, "id": first.get("id") or sub("service_at_location"), "service_id": sid}
    sal["location"] = _location(r, sub, first.get("location", {}), originals.get("address"))
    sal["location_id"] = sal["location"]["id"]
    contacts = ([{"id": sub("contact"), "service_id": sid, "name": PHONE_CONTACT, "title": r.phone}]
                if r.phone else [])
    service.update({
        "schedules": schedules + list(left.get("schedules", [])),
        "service_areas": _area(r, sub, sid, originals.get("area")) + list(left.get("service_areas", [])),
        "service_at_locations": [sal] + sals,
        "languages": list(left.get("languages", [])),
        "organization": organization,
        "funding": list(left.get("funding", [])),
        "cost_options": list(left.get("cost_options", [])),
        "contacts": contacts + list(left.get("contacts", [])),
        "attributes": _attribute(r, sub, sid, originals.get("attribute")) + list(left.get("attributes", [])),
    })
    return conform(service)


def service_list_item(r: Resource) -> dict:
    """The one-to-one fields of a service, as the ORUK API's /services list gives them."""
    full = service_json(r)
    return {k: full[k] for k in LIST_KEYS if k in full}
