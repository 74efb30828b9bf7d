"""The resource directory in Open Referral UK / HSDS shapes: services with their organisation, location,
phone, schedule, area and taxonomy, as JSON and as flat CSV. Import checks every row first and reports
each bad row; only a clean file is applied, all in one transaction (nothing half imported), and every
imported resource takes a rev so phones receive it."""

from __future__ import annotations

import csv
import io
import json
import uuid as uuidlib

from flask import Response, render_template, request, stream_with_context

from ..db import utcnow, write_transaction
from ..models import Resource
from ..sync.revisions import next_rev
from . import bp
from .access import audit
from .exports import csv_response
from .resources import LIMITS

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
ID_NAMESPACE = uuidlib.UUID("6f1c3a52-1b7e-4c55-9d0e-2f8a4b6c7d10")  # turns non-UUID service ids into stable UUIDs
ACTIVE_STATUSES = {"active", ""}
KNOWN_STATUSES = {"active", "inactive", "defunct", "temporarily closed"}
VOCABULARY = "alongside-categories"
CSV_HEADER = ["id", "name", "description", "url", "status", "organization_id", "organization_name", "location_id",
              "location_name", "address_1", "phone", "opening_hours", "service_area", "taxonomy"]


class RowError(ValueError):
    pass


# --- export ---------------------------------------------------------------------------------------

def _sub_id(resource: Resource, part: str) -> str:
    return str(uuidlib.uuid5(resource.uuid, part))


def service_json(r: Resource) -> dict:
    """One resource as an Open Referral UK service. Our directory keeps one organisation and one location
    per service, so their ids are derived from the service id and stay stable across exports."""
    return {
        "id": str(r.uuid),
        "name": r.name,
        "description": r.description,
        "url": r.website,
        "status": "inactive" if r.archived else "active",
        "organization": {"id": _sub_id(r, "organization"), "name": r.name},
        "contacts": [{"id": _sub_id(r, "contact"), "name": r.name,
                      "phones": [{"id": _sub_id(r, "phone"), "number": r.phone}] if r.phone else []}],
        "regular_schedules": ([{"id": _sub_id(r, "schedule"), "description": r.opening_hours}]
                              if r.opening_hours else []),
        "service_areas": [{"id": _sub_id(r, "area"), "service_area": r.area}] if r.area else [],
        "service_at_locations": [{
            "id": _sub_id(r, "service_at_location"),
            "location": {"id": _sub_id(r, "location"), "name": r.name,
                         "physical_addresses": [{"id": _sub_id(r, "address"), "address_1": r.address}]
                         if r.address else []},
        }],
        "service_taxonomys": ([{"id": _sub_id(r, "taxonomy"),
                                "taxonomy": {"id": str(uuidlib.uuid5(ID_NAMESPACE, r.category)), "name": r.category,
                                             "vocabulary": VOCABULARY}}] if r.category else []),
    }


def _resources_for_export():
    return (Resource.select().where(~Resource.deleted).order_by(Resource.id))


@bp.get("/resources/export.json")
def hsds_export_json():
    audit("resource.export", "resource", "", detail="hsds json")

    def generate():
        # Streamed: the directory may be large, and json.dumps of each service keeps memory flat.
        count = _resources_for_export().count()
        yield json.dumps({"total_items": count, "page_number": 1, "total_pages": 1})[:-1] + ', "contents": ['
        for i, r in enumerate(_resources_for_export().iterator()):
            yield ("," if i else "") + json.dumps(service_json(r))
        yield "]}"

    response = Response(stream_with_context(generate()), mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="alongside-services.json"'
    return response


def service_row(r: Resource) -> list:
    s = service_json(r)
    loc = s["service_at_locations"][0]["location"]
    return [s["id"], r.name, r.description, r.website, s["status"], s["organization"]["id"], r.name, loc["id"],
            r.name, r.address, r.phone, r.opening_hours, r.area, r.category]


@bp.get("/resources/export.csv")
def hsds_export_csv():
    audit("resource.export", "resource", "", detail="hsds csv")

    def rows():  # the query runs inside the streamed response, not in the view (whose connection closes)
        for r in _resources_for_export().iterator():
            yield service_row(r)

    return csv_response("alongside-services.csv", CSV_HEADER, rows())


# --- import ---------------------------------------------------------------------------------------

def _text(value, label: str, limit: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str | int | float):
        raise RowError(f"{label} should be text.")
    text = str(value).strip()
    if "\x00" in text:
        raise RowError(f"{label} contains a NUL character, which cannot be stored.")
    if text.startswith("'") and text[1:2] in ("=", "+", "-", "@"):
        text = text[1:]  # undo our own spreadsheet-safety apostrophe on re-import
    if required and not text:
        raise RowError(f"{label} is missing.")
    if len(text) > limit:
        raise RowError(f"{label} is longer than {limit} characters.")
    return text


def _first(items, key=None):
    if not isinstance(items, list) or not items:
        return {}
    item = items[0]
    if not isinstance(item, dict):
        raise RowError("a list holds something that is not an object.")
    return item.get(key, {}) if key else item


def _service_id(value) -> uuidlib.UUID | None:
    if value in (None, ""):
        return None
    text = str(value).strip()
    try:
        return uuidlib.UUID(text)
    except ValueError:
        return uuidlib.uuid5(ID_NAMESPACE, text[:200])


def _fields(raw: dict) -> tuple[uuidlib.UUID | None, dict]:
    """The resource fields from one flat row (CSV columns or a flattened JSON service)."""
    status = _text(raw.get("status"), "Status", 40).lower()
    if status not in KNOWN_STATUSES | {""}:
        raise RowError(f"Status “{status}” is not one of active, inactive, defunct or temporarily closed.")
    url = _text(raw.get("url"), "Website (url)", LIMITS["website"])
    if url and not url.lower().startswith(("http://", "https://")):
        raise RowError("Website (url) must start with https:// or http://.")
    fields = {
        "name": _text(raw.get("name"), "Name", LIMITS["name"], required=True),
        "description": _text(raw.get("description"), "Description", LIMITS["description"]),
        "website": url,
        "address": _text(raw.get("address_1"), "Address", LIMITS["address"]),
        "phone": _text(raw.get("phone"), "Phone", LIMITS["phone"]),
        "opening_hours": _text(raw.get("opening_hours"), "Opening hours", LIMITS["opening_hours"]),
        "area": _text(raw.get("service_area"), "Service area", LIMITS["area"]),
        "category": _text(raw.get("taxonomy"), "Category (taxonomy)", LIMITS["category"]),
        "archived": status not in ACTIVE_STATUSES,
    }
    return _service_id(raw.get("id")), fields


def flatten_service(service) -> dict:
    if not isinstance(service, dict):
        raise RowError("this service is not an object.")
    location = _first(service.get("service_at_locations"), "location")
    if not isinstance(location, dict):
        raise RowError("service_at_locations[0].location is not an object.")
    address = _first(location.get("physical_addresses")) if location else {}
    address_text = ", ".join(str(address.get(k)).strip() for k in
                             ("address_1", "address_2", "city", "state_province", "postal_code")
                             if address.get(k) not in (None, ""))
    phone = _first(_first(service.get("contacts")).get("phones")) or _first(service.get("phones"))
    schedule = _first(service.get("regular_schedules"))
    area = _first(service.get("service_areas"))
    taxonomy = _first(service.get("service_taxonomys"), "taxonomy") or _first(service.get("taxonomies"))
    return {
        "id": service.get("id"), "name": service.get("name"), "description": service.get("description"),
        "url": service.get("url"), "status": service.get("status"), "address_1": address_text,
        "phone": phone.get("number") if isinstance(phone, dict) else None,
        "opening_hours": schedule.get("description") if isinstance(schedule, dict) else None,
        "service_area": area.get("service_area") if isinstance(area, dict) else None,
        "taxonomy": taxonomy.get("name") if isinstance(taxonomy, dict) else None,
    }


def read_rows(data: bytes, kind: str) -> list:
    """The file's rows as (row label, flat dict or RowError); raises RowError for an unreadable file."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RowError("The file is not UTF-8 text.") from exc
    if kind == "json":
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise RowError(f"The file is not valid JSON ({exc.msg}, line {exc.lineno}).") from exc
        services = doc
        if isinstance(doc, dict):
            services = next((doc[k] for k in ("contents", "content", "services") if k in doc), None)
        if not isinstance(services, list):
            raise RowError("Expected a list of services, or an object with “contents” holding them.")
        rows = []
        for i, service in enumerate(services, 1):
            try:
                rows.append((f"Service {i}", flatten_service(service)))
            except RowError as exc:
                rows.append((f"Service {i}", exc))
        return rows
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "name" not in [f.strip().lower() for f in reader.fieldnames]:
        raise RowError("The CSV needs a header row with at least a “name” column.")
    return [(f"Row {i}", {(k or "").strip().lower(): v for k, v in row.items()})
            for i, row in enumerate(reader, 2)]


def check_rows(rows) -> tuple[list, list[str]]:
    good, errors, seen = [], [], set()
    for label, raw in rows:
        try:
            if isinstance(raw, RowError):
                raise raw
            service_id, fields = _fields(raw)
            if service_id is not None and service_id in seen:
                raise RowError("the same id appears earlier in the file.")
            if service_id is not None:
                seen.add(service_id)
            good.append((service_id, fields))
        except RowError as exc:
            name = raw.get("name") if isinstance(raw, dict) and isinstance(raw.get("name"), str) else ""
            errors.append(f"{label}{' (' + name[:60] + ')' if name else ''}: {exc}")
    return good, errors


def apply_rows(good) -> tuple[int, int]:
    """Create or update every row in one transaction; returns (created, updated)."""
    created = updated = 0
    now = utcnow()
    with write_transaction():
        ids = [sid for sid, _ in good if sid is not None]
        existing = {r.uuid: r for r in Resource.select().where(Resource.uuid.in_(ids))} if ids else {}
        last = next_rev(len(good)) if good else 0
        for offset, (service_id, fields) in enumerate(good):
            rev = last - len(good) + 1 + offset
            current = existing.get(service_id)
            if current is not None:
                (Resource.update(rev=rev, updated_at=now, deleted=False, **fields)
                 .where(Resource.id == current.id).execute())
                updated += 1
            else:
                Resource.create(uuid=service_id or uuidlib.uuid4(), rev=rev, **fields)
                created += 1
        audit("resource.import", "resource", "", detail=f"created {created}, updated {updated}")
    return created, updated


@bp.route("/resources/import", methods=["GET", "POST"])
def hsds_page():
    if request.method == "GET":
        return render_template("coordinator/hsds.html", errors=None, result=None)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template("coordinator/hsds.html", errors=["Choose a file to import."], result=None), 400
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    kind = request.form.get("format") or ("csv" if upload.filename.lower().endswith(".csv") else "json")
    errors: list[str] = []
    if len(data) > MAX_UPLOAD_BYTES:
        errors = [f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB. Split it and import each part."]
    elif kind not in ("csv", "json"):
        errors = ["Format: choose JSON or CSV."]
    else:
        try:
            rows = read_rows(data, kind)
        except RowError as exc:
            rows, errors = [], [str(exc)]
        if len(rows) > MAX_ROWS:
            errors = [f"The file has {len(rows)} services; import at most {MAX_ROWS} at a time."]
        elif not errors:
            good, errors = check_rows(rows)
            if not errors and not good:
                errors = ["The file holds no services."]
    if errors:
        return render_template("coordinator/hsds.html", errors=errors[:200], more_errors=max(0, len(errors) - 200),
                               result=None), 422
    created, updated = apply_rows(good)
    return render_template("coordinator/hsds.html", errors=None, result={"created": created, "updated": updated})

