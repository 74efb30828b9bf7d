"""The coordinator's import and export of the resource directory in Open Referral UK 3.0 (HSDS 3.0 plus the
UK rules; the mapping lives in oruk/). Import checks every service first and reports each bad one; only a
clean file is applied, all in one transaction, and every imported resource takes a rev so phones get it.
The report then says per service what was stored, what was kept in the raw copy and what was left out."""

from __future__ import annotations

import json

from flask import Response, render_template, request, stream_with_context

from ..db import write_transaction
from ..models import Resource
from ..sync.revisions import next_rev, stamp_new, stamp_values
from . import bp
from .access import audit
from .exports import csv_response
from .oruk import schedules as schedules_mod
from .oruk.mapping import RowError, map_service
from .oruk.reader import FileError, read_flat_csv, read_json
from .oruk.service import PROFILE_URL, VERSION, service_json
from .oruk.tabular import package_bytes, read_package

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
SPREADSHEET_HEADER = ["id", "name", "description", "url", "status", "organization_name", "organization_description",
                      "location_type", "address_1", "city", "county", "postcode", "country", "phone",
                      "opening_hours", "service_area", "taxonomy"]


def _resources_for_export():
    return Resource.select().where(~Resource.deleted).order_by(Resource.id)


@bp.get("/resources/export.json")
def hsds_export_json():
    audit("resource.export", "resource", "", detail="oruk json")

    def generate():  # streamed: json.dumps of one service at a time keeps memory flat
        count = _resources_for_export().count()
        head = {"version": VERSION, "profile": PROFILE_URL, "total_items": count, "total_pages": 1,
                "page_number": 1, "size": count, "first_page": True, "last_page": True, "empty": count == 0}
        yield json.dumps(head)[:-1] + ', "contents": ['
        for i, r in enumerate(_resources_for_export().iterator()):
            yield ("," if i else "") + json.dumps(service_json(r))
        yield "]}"

    response = Response(stream_with_context(generate()), mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="alongside-services-oruk-3.0.json"'
    return response


@bp.get("/resources/export-oruk.zip")
def hsds_export_package():
    audit("resource.export", "resource", "", detail="oruk tabular package")
    data = package_bytes(service_json(r) for r in _resources_for_export().iterator())
    response = Response(data, mimetype="application/zip")
    response.headers["Content-Disposition"] = 'attachment; filename="alongside-services-oruk-3.0.zip"'
    return response


def spreadsheet_row(r: Resource) -> list:
    return [str(r.uuid), r.name, r.description, r.website, r.status, r.organization_name,
            r.organization_description, r.location_type, r.address_1, r.city, r.county, r.postcode, r.country,
            r.phone, r.opening_hours, r.area, r.category]


@bp.get("/resources/export.csv")
def hsds_export_csv():
    """For spreadsheets: one flat sheet, with cells that a spreadsheet would run as formulas made safe."""
    audit("resource.export", "resource", "", detail="spreadsheet csv")

    def rows():  # the query runs inside the streamed response, not in the view (whose connection closes)
        for r in _resources_for_export().iterator():
            yield spreadsheet_row(r)

    return csv_response("alongside-services-for-spreadsheets.csv", SPREADSHEET_HEADER, rows())


# --- import ---------------------------------------------------------------------------------------

def check_rows(rows) -> tuple[list, list[str]]:
    """[(label, service id, fields, report)] for the good rows, and one message per bad row."""
    good, errors, seen = [], [], set()
    for label, raw in rows:
        try:
            if isinstance(raw, RowError):
                raise raw
            service_id, fields, report = map_service(raw)
            if service_id is not None and service_id in seen:
                raise RowError("the same id appears earlier in the file.")
            if service_id is not None:
                seen.add(service_id)
            good.append((label, service_id, fields, report))
        except RowError as exc:
            name = raw.get("name") if isinstance(raw, dict) and isinstance(raw.get("name"), str) else ""
            errors.append(f"{label}{' (' + name[:60] + ')' if name else ''}: {exc}")
    return good, errors


def apply_rows(good) -> list[dict]:
    """Create or update every row in one transaction; returns the per-service report."""
    results = []
    with write_transaction():
        ids = [sid for _, sid, _, _ in good if sid is not None]
        existing = {r.uuid: r for r in Resource.select().where(Resource.uuid.in_(ids))} if ids else {}
        last = next_rev(len(good)) if good else 0
        for offset, (label, service_id, fields, report) in enumerate(good):
            values = {**fields, "schedules": schedules_mod.dump(fields["schedules"]),
                      "oruk_extra": json.dumps(fields["oruk_extra"], separators=(",", ":"))}
            rev = last - len(good) + 1 + offset
            current = existing.get(service_id)
            if current is not None:
                values.pop("uuid")
                if current.address_parts() == [p for p in (values["address_1"], values["city"], values["county"],
                                                           values["postcode"]) if p]:
                    values["address"] = current.address  # same place: keep the wording phones show
                Resource.update(deleted=False, **values, **stamp_values(current, (), rev=rev)).where(
                    Resource.id == current.id).execute()
            else:
                Resource.create(**values, **stamp_new(Resource, rev=rev))
            results.append({"label": label, "name": fields["name"], "created": current is None, **report})
        created = sum(1 for r in results if r["created"])
        audit("resource.import", "resource", "", detail=f"created {created}, updated {len(results) - created}")
    return results


def _kind(filename: str, chosen: str) -> str:
    if chosen:
        return chosen
    lower = filename.lower()
    return "zip" if lower.endswith(".zip") else "csv" if lower.endswith(".csv") else "json"


def _page(errors=None, results=None, status=200, more_errors=0):
    return render_template("coordinator/hsds.html", errors=errors, results=results, more_errors=more_errors,
                           version=VERSION), status


@bp.route("/resources/import", methods=["GET", "POST"])
def hsds_page():
    if request.method == "GET":
        return _page()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(["Choose a file to import."], status=400)
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    kind = _kind(upload.filename, request.form.get("format") or "")
    if len(data) > MAX_UPLOAD_BYTES:
        return _page([f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB. Split it and import "
                      "each part."], status=400)
    if kind not in ("csv", "json", "zip"):
        return _page(["Format: choose JSON, the tabular package (zip) or CSV."], status=400)
    try:
        rows = {"json": read_json, "zip": read_package, "csv": read_flat_csv}[kind](data)
    except FileError as exc:
        return _page([str(exc)], status=400)
    if len(rows) > MAX_ROWS:
        return _page([f"The file has {len(rows)} services; import at most {MAX_ROWS} at a time."], status=422)
    good, errors = check_rows(rows)
    if not errors and not good:
        errors = ["The file holds no services."]
    if errors:
        return _page(errors[:200], status=422, more_errors=max(0, len(errors) - 200))
    return _page(results=apply_rows(good))
