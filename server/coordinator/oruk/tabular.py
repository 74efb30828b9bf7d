"""The Open Referral UK tabular data package: one CSV per table plus the official datapackage.json, in a
zip. Written from the same service JSON as the JSON export (one mapping), and read back into services
for import. Cells are data, not spreadsheet input: no formula protection here (that is the separate
"for spreadsheets" download)."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid as uuidlib
import zipfile
from collections import defaultdict
from pathlib import Path

from .reader import FileError, decode
from .service import PHONE_CONTACT
from .shape import is_datetime, is_email, is_uri

DESCRIPTOR_TEXT = (Path(__file__).with_name("datapackage.json")).read_text()
DESCRIPTOR = json.loads(DESCRIPTOR_TEXT)
TABLES = {r["name"]: r for r in DESCRIPTOR["resources"]}
ALIASES = {"address": ("addresses.csv",), "attribute": ("attributes.csv",), "schedule": ("schedules.csv",),
           "service_at_location": ("service_at_locations.csv",), "taxonomy": ("taxonomy.csv",)}
NUMERIC = {"minimum_age", "maximum_age", "latitude", "longitude", "amount", "interval"}
MAX_ZIP_ENTRIES, MAX_ZIP_BYTES = 64, 20 * 1024 * 1024
_DATE = re.compile(r"\d{4}-\d\d-\d\d\Z")
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?\Z")


def _cell(value, field: dict) -> str:
    """A value as the table schema's type wants it; a value that does not fit is left blank."""
    if value is None or isinstance(value, dict | list):
        return ""
    kind, fmt = field["type"], field.get("format")
    if kind == "number":
        return "" if isinstance(value, bool) or not isinstance(value, int | float) else (
            str(int(value)) if float(value).is_integer() else str(value))
    text = str(value)
    if kind == "date":
        return text if _DATE.match(text) else ""
    if kind == "time":
        return (text if len(text) == 8 else text + ":00") if _TIME.match(text) else ""
    if kind == "datetime":
        return text if is_datetime(text) else ""
    if fmt == "uri" and not is_uri(text) or fmt == "email" and not is_email(text):
        return ""
    return text


class _Tables:
    def __init__(self):
        self.rows = {name: {} for name in TABLES}

    def add(self, name: str, obj: dict, **links) -> None:
        if obj.get("id") and obj["id"] not in self.rows[name]:
            self.rows[name][obj["id"]] = {**obj, **links}

    def attributes(self, items, link_id: str) -> None:
        for attribute in items or []:
            term = attribute.get("taxonomy_term")
            if term:
                self.add("taxonomy_term", {k: v for k, v in term.items() if k != "taxonomy_id"})
            self.add("attribute", attribute, link_id=attribute.get("link_id") or link_id,
                     taxonomy_term_id=attribute.get("taxonomy_term_id") or (term or {}).get("id"))

    def service(self, s: dict) -> None:
        org = s["organization"]
        self.add("organization", org)
        for ident in org.get("organization_identifiers", []):
            self.add("organization_identifier", ident, organization_id=org["id"])
        self.add("service", s)
        self.attributes(s.get("attributes"), s["id"])
        for sal in s.get("service_at_locations", []):
            loc = sal["location"]
            self.add("location", loc)
            self.add("service_at_location", sal, service_id=s["id"], location_id=loc["id"])
            for address in loc.get("addresses", []):
                required = [f["name"] for f in TABLES["address"]["schema"]["fields"]
                            if f.get("constraints", {}).get("required")]
                if all(address.get(k) for k in required):  # the table needs every part; JSON keeps the rest
                    self.add("address", address, location_id=loc["id"])
            for item in loc.get("accessibility", []):
                self.add("accessibility", item, location_id=loc["id"])
        for table, key in (("schedule", "schedules"), ("service_area", "service_areas"), ("funding", "funding"),
                           ("cost_option", "cost_options"), ("language", "languages"), ("contact", "contacts")):
            for item in s.get(key, []):
                self.add(table, item, service_id=s["id"])
        for contact in s.get("contacts", []):
            if contact.get("name") == PHONE_CONTACT and contact.get("title"):
                self.add("phone", {"id": str(uuidlib.uuid5(uuidlib.UUID(contact["id"]), "phone")),
                                   "number": contact["title"]}, contact_id=contact["id"])
        for language in self.rows["language"].values():
            if language.get("phone_id") not in self.rows["phone"]:
                language.pop("phone_id", None)


def package_bytes(services) -> bytes:
    """The zip: datapackage.json (the official ORUK 3.0 descriptor) and one CSV per table."""
    tables = _Tables()
    for service in services:
        tables.service(service)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("datapackage.json", DESCRIPTOR_TEXT)
        for name, table in TABLES.items():
            fields = table["schema"]["fields"]
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\r\n")
            writer.writerow([f["name"] for f in fields])
            for row in tables.rows[name].values():
                writer.writerow([_cell(row.get(f["name"]), f) for f in fields])
            archive.writestr(table["path"], buffer.getvalue())
    return out.getvalue()


# --- reading ----------------------------------------------------------------------------------------

def _open_zip(data: bytes) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, ValueError) as exc:
        raise FileError("The zip file cannot be opened.") from exc
    if len(infos) > MAX_ZIP_ENTRIES or sum(i.file_size for i in infos) > MAX_ZIP_BYTES:
        raise FileError(f"The zip file is too large (at most {MAX_ZIP_ENTRIES} files and "
                        f"{MAX_ZIP_BYTES // (1024 * 1024)} MB unpacked).")
    try:
        return {i.filename.rsplit("/", 1)[-1]: archive.read(i)[:MAX_ZIP_BYTES] for i in infos}
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as exc:
        raise FileError("The zip file cannot be read (damaged or encrypted).") from exc


def _read_table(files: dict, name: str, paths: dict) -> list[dict]:
    for path in (paths.get(name), TABLES[name]["path"], *ALIASES.get(name, ())):
        if path and path.rsplit("/", 1)[-1] in files:
            text = decode(files[path.rsplit("/", 1)[-1]])
            rows = []
            for row in csv.DictReader(io.StringIO(text)):
                clean = {(k or "").strip(): v for k, v in row.items() if isinstance(v, str) and v.strip() != ""}
                if clean:
                    rows.append({k: _number(k, v) for k, v in clean.items()})
            return rows
    return []


def _number(key: str, value: str):
    if key in NUMERIC:
        try:
            number = float(value)
            return int(number) if number.is_integer() else number
        except ValueError:
            return value
    return value


def read_package(data: bytes) -> list:
    """[(label, service dict)] from a tabular package zip."""
    files = _open_zip(data)
    paths = {}
    if "datapackage.json" in files:
        try:
            descriptor = json.loads(decode(files["datapackage.json"]))
            paths = {r.get("name"): r.get("path") for r in descriptor.get("resources", []) if isinstance(r, dict)}
        except (ValueError, AttributeError) as exc:
            raise FileError("The package’s datapackage.json is not valid JSON.") from exc
    t = {name: _read_table(files, name, paths) for name in TABLES}
    if not t["service"]:
        found = [name for name in TABLES if t[name]]
        raise FileError("The package holds no services (no rows in services.csv)"
                        + (f"; it holds {', '.join(found)}." if found else "."))
    by = defaultdict(lambda: defaultdict(list))
    for name, key in (("service_at_location", "service_id"), ("address", "location_id"),
                      ("accessibility", "location_id"), ("schedule", "service_id"), ("service_area", "service_id"),
                      ("funding", "service_id"), ("cost_option", "service_id"), ("language", "service_id"),
                      ("contact", "service_id"), ("phone", "contact_id"), ("attribute", "link_id"),
                      ("organization_identifier", "organization_id")):
        for row in t[name]:
            by[name][row.get(key)].append(row)
    ids = lambda name: {row.get("id"): row for row in t[name]}  # noqa: E731
    locations, orgs, terms = ids("location"), ids("organization"), ids("taxonomy_term")

    def attrs(link_id):
        return [{**a, "taxonomy_term": terms[a["taxonomy_term_id"]]} if a.get("taxonomy_term_id") in terms else a
                for a in by["attribute"][link_id]]

    rows = []
    for i, s in enumerate(t["service"], 2):
        service = dict(s)
        org = orgs.get(s.get("organization_id"))
        if org:
            service["organization"] = {**org, "organization_identifiers": by["organization_identifier"][org["id"]]}
        sals = []
        for sal in by["service_at_location"][s.get("id")]:
            loc = dict(locations.get(sal.get("location_id"), {"id": sal.get("location_id")}))
            loc["addresses"] = by["address"][loc.get("id")]
            loc["accessibility"] = by["accessibility"][loc.get("id")]
            sals.append({**sal, "location": loc})
        service["service_at_locations"] = sals
        for table, key in (("schedule", "schedules"), ("service_area", "service_areas"), ("funding", "funding"),
                           ("cost_option", "cost_options"), ("language", "languages")):
            service[key] = by[table][s.get("id")]
        service["contacts"] = [{**c, "phones": by["phone"][c.get("id")]} for c in by["contact"][s.get("id")]]
        service["attributes"] = attrs(s.get("id"))
        rows.append((f"services.csv row {i}", service))
    return rows
