"""0040: the resource directory in Open Referral UK 3.0 terms. New columns on resource: the standard's
status, organisation name and description, location type, a structured UK address, weekly schedules as
data, and the JSON of what an import brought that we do not store. Filled from today's data: the status
from the archived flag, the location type from whether there is an address, and the structured address
split out of the free text (a UK postcode is found wherever it stands). The free text itself is left as
it is, so what phones show does not change. Frozen here: do not import server.models or server code."""

import re

from peewee import CharField, Table, TextField

POSTCODE = re.compile(
    r"\b(GIR ?0AA|[A-PR-UWYZ](?:[0-9][0-9A-HJKPSTUW]?|[A-HK-Y][0-9][0-9ABEHMNPRVWXY]?) ?[0-9][ABD-HJLNP-UW-Z]{2})\b",
    re.IGNORECASE)
LIMITS = {"address_1": 200, "city": 100, "county": 100, "postcode": 10}


def _split(text):
    parts = [p.strip() for p in re.split(r"[,\n]", text or "") if p.strip()]
    postcode = ""
    for i in range(len(parts) - 1, -1, -1):
        found = list(POSTCODE.finditer(parts[i]))
        if found:
            compact = re.sub(r"\s", "", found[-1].group(1)).upper()
            postcode = f"{compact[:-3]} {compact[-3:]}"
            rest = (parts[i][:found[-1].start()] + parts[i][found[-1].end():]).strip(" ,")
            parts[i:i + 1] = [rest] if rest else []
            break
    city = parts.pop() if len(parts) > 1 else ""
    fields = {"address_1": ", ".join(parts), "city": city, "county": "", "postcode": postcode}
    return {key: value if len(value) <= LIMITS[key] else "" for key, value in fields.items()}


def up(migrator, db):
    from playhouse.migrate import migrate

    migrate(
        migrator.add_column("resource", "status", CharField(max_length=20, default="active")),
        migrator.add_column("resource", "organization_name", CharField(max_length=200, default="")),
        migrator.add_column("resource", "organization_description", TextField(default="")),
        migrator.add_column("resource", "location_type", CharField(max_length=10, default="physical")),
        migrator.add_column("resource", "address_1", CharField(max_length=200, default="")),
        migrator.add_column("resource", "city", CharField(max_length=100, default="")),
        migrator.add_column("resource", "county", CharField(max_length=100, default="")),
        migrator.add_column("resource", "postcode", CharField(max_length=10, default="")),
        migrator.add_column("resource", "country", CharField(max_length=2, default="GB")),
        migrator.add_column("resource", "schedules", TextField(default="[]")),
        migrator.add_column("resource", "oruk_extra", TextField(default="")),
    )
    table = Table("resource", ("id", "address", "archived", "status", "location_type", "address_1", "city",
                               "county", "postcode")).bind(db)
    table.update(status="inactive").where(table.archived == True).execute()  # noqa: E712 - SQL, not Python
    for row_id, address in list(table.select(table.id, table.address).tuples()):
        if not (address or "").strip():
            table.update(location_type="virtual").where(table.id == row_id).execute()
        else:
            table.update(**_split(address)).where(table.id == row_id).execute()
