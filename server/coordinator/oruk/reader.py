"""Reading an import file into services: JSON (a list of services, an ORUK page of them, or one service),
the ORUK tabular data package (a zip), or a flat CSV (our "for spreadsheets" download). Files that hold
something other than services (organisations, locations, taxonomies) are refused, and say so."""

from __future__ import annotations

import csv
import io
import json

from ...json_input import text_problem
from .mapping import RowError

MAX_DEPTH = 40  # an HSDS service nests about 8 levels deep; 3,000 levels of "[" is not a services file
OTHER_KINDS = (
    ("service-at-location record", {"location", "location_id", "service_id", "service"}),
    ("location", {"location_type", "addresses", "physical_addresses", "latitude", "longitude", "transportation"}),
    ("organisation", {"organization_identifiers", "services", "website", "legal_status", "year_incorporated",
                      "tax_status", "tax_id", "logo", "parent_organization_id", "locations", "programs"}),
    ("taxonomy term", {"term_uri", "parent_id", "taxonomy_detail", "taxonomy_id", "code", "term", "taxonomy"}),
    ("taxonomy", {"version", "uri"}),
)


class FileError(ValueError):
    """The file as a whole cannot be read; nothing is imported."""


def kind_of(item) -> str:
    """"service", or what else the object looks like."""
    if not isinstance(item, dict):
        return "value that is not an object"
    keys = set(item)
    for kind, signs in OTHER_KINDS:  # fields no service has at its top level
        if keys & signs:
            return kind
    return "service"  # a service, or only the common fields (id, name, description): a minimal service


def _plural(kind: str) -> str:
    return "taxonomies" if kind == "taxonomy" else kind + "s"


def _depth_ok(doc) -> bool:
    stack = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return True


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileError("The file is not UTF-8 text.") from exc


def read_json(data: bytes) -> list:
    """[(label, service dict or RowError)]."""
    try:
        doc = json.loads(decode(data))
    except RecursionError as exc:
        raise FileError(f"The file is nested more than {MAX_DEPTH} levels deep: it is not a services file.") from exc
    except ValueError as exc:
        raise FileError(f"The file is not valid JSON ({getattr(exc, 'msg', exc)}).") from exc
    if not _depth_ok(doc):
        raise FileError(f"The file is nested more than {MAX_DEPTH} levels deep: it is not a services file.")
    if (where := text_problem(doc)) is not None:
        raise FileError(f"The file has text that cannot be stored (a lone UTF-16 surrogate) at {where}.")
    wrapper = next((k for k in ("contents", "content", "services") if isinstance(doc, dict) and k in doc), None)
    if wrapper and (wrapper == "contents" or not {"id", "name"} & set(doc)):  # a page, not an organisation
        items = doc[wrapper]
        if not isinstance(items, list):
            raise FileError("The page’s “contents” should be a list of services.")
    elif isinstance(doc, list):
        items = doc
    elif isinstance(doc, dict):
        items = [doc]  # one service on its own
    else:
        raise FileError("Expected services: a list of them, an Open Referral page of them, or one service.")
    kinds = [kind_of(item) for item in items]
    if items and "service" not in kinds and len(set(kinds)) == 1:
        raise FileError(f"This file holds {'one ' + kinds[0] if len(items) == 1 else _plural(kinds[0])}, not "
                        "services. Import a services file: a list or a page of services, or one service.")
    rows = []
    for i, (item, kind) in enumerate(zip(items, kinds, strict=True), 1):
        label = f"Service {i}"
        article = "an" if kind[0] in "aeiou" else "a"
        rows.append((label, item if kind == "service" else RowError(f"this is {article} {kind}, not a service.")))
    return rows


FLAT_MAP = {"address_1": "address_1", "city": "city", "county": "state_province", "postcode": "postal_code",
            "country": "country"}


def flat_row_to_service(row: dict) -> dict:
    """A row of the "for spreadsheets" CSV (or the older flat CSV) as a service."""
    get = lambda key: (row.get(key) or "").strip()  # noqa: E731
    address = {theirs: get(ours) for ours, theirs in FLAT_MAP.items() if get(ours)}
    location = {"location_type": get("location_type")} if get("location_type") else {}
    if address:
        location["addresses"] = [address]
    service = {"id": get("id") or None, "name": row.get("name"), "description": row.get("description"),
               "url": row.get("url"), "status": row.get("status")}
    if get("organization_name") or get("organization_description"):
        service["organization"] = {"name": get("organization_name"), "description": get("organization_description")}
    if location:
        service["service_at_locations"] = [{"location": location}]
    if get("phone"):
        service["contacts"] = [{"name": "Telephone", "title": get("phone")}]
    if get("opening_hours"):
        service["schedules"] = [{"description": get("opening_hours")}]
    if get("service_area"):
        service["service_areas"] = [{"name": get("service_area")}]
    if get("taxonomy"):
        service["attributes"] = [{"taxonomy_term": {"name": get("taxonomy")}}]
    return service


def read_flat_csv(data: bytes) -> list:
    reader = csv.DictReader(io.StringIO(decode(data)))
    if not reader.fieldnames or "name" not in [f.strip().lower() for f in reader.fieldnames]:
        raise FileError("The CSV needs a header row with at least a “name” column. For the Open Referral UK "
                        "tabular package (many CSV files), import its zip file.")
    return [(f"Row {i}", flat_row_to_service({(k or "").strip().lower(): v for k, v in row.items()}))
            for i, row in enumerate(reader, 2)]
