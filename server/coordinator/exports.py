"""CSV exports of visits, contacts (MHSDS codes), goals and referrals for a date range and team.
Streamed in constant memory: keyset-paged queries, each page read with .iterator(), written row by
row through a generator. Free-text health notes are never exported."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from flask import Response, request, stream_with_context
from peewee import fn

from ..codes import ATTENDED
from ..models import VISIT_ATTENDANCE, VISIT_LOCATIONS, VISIT_MODES, Goal, Person, Referral, Resource, User, Visit
from . import bp, mhsds
from .access import as_datetime, audit, to_local
from .reports import report_scope

CHUNK = 2000
WINDOW = dt.timedelta(days=7)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """Spreadsheet-safe: text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def iso(value) -> str:
    local = to_local(value)
    return local.isoformat(timespec="seconds") if local else ""


def keyset(query, time_field, id_field, since=None, until=None, chunk: int | None = None):
    """Every row of `query` ordered by (time, id), read a week of time at a time and, within a week, a page
    of rows at a time. Memory stays flat however long the period (no driver ever holds more than a page,
    on SQLite or PostgreSQL), and each read touches only that week's rows through the time indexes,
    so a year costs 52 small reads rather than one huge sort or a quadratic run of keyset pages."""
    chunk = chunk or CHUNK
    if since is None or until is None:
        low, high = query.select(fn.MIN(time_field), fn.MAX(time_field)).order_by().tuples().first() or (None, None)
        if low is None:
            return
        since = since or as_datetime(low)
        until = until or as_datetime(high) + dt.timedelta(seconds=1)
    start = since
    while start < until:
        stop = min(start + WINDOW, until)
        window = query.where((time_field >= start) & (time_field < stop))
        last = None
        while True:
            page = window
            if last is not None:
                page = page.where((time_field >= last[0]) & ((time_field > last[0]) | (id_field > last[1])))
            count = 0
            for row in page.order_by(time_field, id_field).limit(chunk).dicts().iterator():
                count += 1
                last = (row[time_field.name], row[id_field.name])
                yield row
            if count < chunk:
                break
        start = stop


def csv_response(filename: str, header: list[str], rows) -> Response:
    def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        for count, row in enumerate(rows, 1):
            writer.writerow([_cell(v) for v in row])
            if count % 500 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    response = Response(stream_with_context(generate()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _names() -> dict[int, tuple[str, str]]:
    """Worker public ids and names by internal id (users are few; visits are many)."""
    return {uid: (str(uuid), name) for uid, uuid, name in User.select(User.id, User.uuid, User.name).tuples()}


def _visit_rows(scope):
    return (scope.people(Visit.select(Visit.id, Visit.uuid, Visit.started_at, Visit.duration_minutes, Visit.mode,
                                      Visit.location_type, Visit.attendance, Visit.group_session, Visit.wellbeing,
                                      Visit.concern, Visit.concern_ack_at, Visit.reviewed_at, Visit.goal_ids,
                                      Visit.author, Visit.person, Person.uuid.alias("person_uuid"))
                         .join(Person, on=(Visit.person == Person.id))
                         .where((Visit.started_at >= scope.since) & (Visit.started_at < scope.until)
                                & ~Visit.deleted)))


def _filename(kind: str, scope) -> str:
    return f"alongside-{kind}-{scope.start}-to-{scope.end}.csv"


VISIT_HEADER = ["visit_id", "person_id", "worker_id", "worker_name", "started_at", "duration_minutes", "mode",
                "mode_label", "location_type", "location_label", "attendance", "attendance_label", "group_session",
                "wellbeing", "concern", "concern_acknowledged_at", "reviewed_at", "goals_discussed"]


@bp.get("/exports/visits.csv")
def export_visits():
    scope = report_scope(request.args)
    audit("export.visits", "export", "", detail=f"{scope.start}..{scope.end} {scope.label}"[:200])
    names = _names()

    def rows():
        for v in keyset(_visit_rows(scope), Visit.started_at, Visit.id, scope.since, scope.until):
            worker_uuid, worker_name = names.get(v["author"], ("", ""))
            try:
                goals = len(json.loads(v["goal_ids"] or "[]"))
            except ValueError:
                goals = 0
            yield [v["uuid"], v["person_uuid"], worker_uuid, worker_name, iso(v["started_at"]),
                   v["duration_minutes"], v["mode"], VISIT_MODES.get(v["mode"], ""), v["location_type"],
                   VISIT_LOCATIONS.get(v["location_type"], ""), v["attendance"],
                   VISIT_ATTENDANCE.get(v["attendance"], ""), v["group_session"],
                   "" if v["wellbeing"] is None else v["wellbeing"], v["concern"], iso(v["concern_ack_at"]),
                   iso(v["reviewed_at"]), goals]

    return csv_response(_filename("visits", scope), VISIT_HEADER, rows())


# MHSDS (Mental Health Services Data Set) care contact fields (codes: server/codes.py), then the return's
# identifiers (mhsds.COLUMNS; each column is described in the README).
CONTACT_HEADER = ["CareContactId", "LocalPatientId", "CareProfLocalId", "CareContDate", "CareContTime",
                  "ClinContDurOfCareCont", "ConsMechanismMH", "ActLocTypeCode", "AttendStatus", "GroupTherapyInd",
                  *mhsds.HEADER]


@bp.get("/exports/contacts.csv")
def export_contacts():
    scope = report_scope(request.args)
    audit("export.contacts", "export", "", detail=f"{scope.start}..{scope.end} {scope.label}"[:200])
    names = _names()
    context = mhsds.ReturnContext(scope.people(Person.select(Person.id)))

    def rows():
        for v in keyset(_visit_rows(scope), Visit.started_at, Visit.id, scope.since, scope.until):
            local = to_local(v["started_at"])
            yield [v["uuid"], v["person_uuid"], names.get(v["author"], ("", ""))[0], local.date().isoformat(),
                   local.strftime("%H:%M:%S"), v["duration_minutes"] if v["attendance"] in ATTENDED else 0, v["mode"],
                   v["location_type"], v["attendance"], v["group_session"],
                   *mhsds.return_columns(context, v["person"], v["started_at"], v["attendance"])]

    return csv_response(_filename("contacts-mhsds", scope), CONTACT_HEADER, rows())


GOAL_HEADER = ["goal_id", "person_id", "set_by_id", "set_by_name", "title", "life_area", "status", "target_date",
               "created_at", "achieved_at"]


@bp.get("/exports/goals.csv")
def export_goals():
    scope = report_scope(request.args)
    audit("export.goals", "export", "", detail=f"{scope.start}..{scope.end} {scope.label}"[:200])
    names = _names()
    query = scope.people(Goal.select(Goal.id, Goal.uuid, Goal.title, Goal.life_area, Goal.status, Goal.target_date,
                                     Goal.created_at, Goal.achieved_at, Goal.created_by,
                                     Person.uuid.alias("person_uuid"))
                         .join(Person, on=(Goal.person == Person.id))
                         .where((Goal.created_at >= scope.since) & (Goal.created_at < scope.until) & ~Goal.deleted))

    def rows():
        for g in keyset(query, Goal.created_at, Goal.id, scope.since, scope.until):
            by = names.get(g["created_by"], ("", ""))
            yield [g["uuid"], g["person_uuid"], by[0], by[1], g["title"], g["life_area"], g["status"],
                   g["target_date"].isoformat() if g["target_date"] else "", iso(g["created_at"]),
                   iso(g["achieved_at"])]

    return csv_response(_filename("goals", scope), GOAL_HEADER, rows())


REFERRAL_HEADER = ["referral_id", "person_id", "made_by_id", "made_by_name", "resource_id", "resource_name",
                   "category", "status", "created_at", "follow_up_at"]


@bp.get("/exports/referrals.csv")
def export_referrals():
    scope = report_scope(request.args)
    audit("export.referrals", "export", "", detail=f"{scope.start}..{scope.end} {scope.label}"[:200])
    names = _names()
    query = scope.people(Referral.select(Referral.id, Referral.uuid, Referral.status, Referral.created_at,
                                         Referral.follow_up_at, Referral.created_by,
                                         Person.uuid.alias("person_uuid"), Resource.uuid.alias("resource_uuid"),
                                         Resource.name.alias("resource_name"), Resource.category.alias("category"))
                         .join(Person, on=(Referral.person == Person.id))
                         .switch(Referral)
                         .join(Resource, on=(Referral.resource == Resource.id))
                         .where((Referral.created_at >= scope.since) & (Referral.created_at < scope.until)
                                & ~Referral.deleted))

    def rows():
        for r in keyset(query, Referral.created_at, Referral.id, scope.since, scope.until):
            by = names.get(r["created_by"], ("", ""))
            yield [r["uuid"], r["person_uuid"], by[0], by[1], r["resource_uuid"], r["resource_name"],
                   r["category"], r["status"], iso(r["created_at"]), iso(r["follow_up_at"])]

    return csv_response(_filename("referrals", scope), REFERRAL_HEADER, rows())
