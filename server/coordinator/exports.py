"""CSV exports of visits, contacts (MHSDS codes), goals and referrals for a date range and team.
Streamed in constant memory: keyset-paged queries a week of time and a page of rows at a time, read as raw
database rows (peewee's per-value conversion cost more than everything else), times put in the organisation's
zone by local_time.LocalTimes, written a few hundred rows at a time. Free-text health notes are never exported."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from flask import Response, request, stream_with_context
from peewee import fn

from ..codes import ATTENDED
from ..db import execute_as_text
from ..local_time import LocalTimes
from ..models import VISIT_ATTENDANCE, VISIT_LOCATIONS, VISIT_MODES, Goal, Person, Referral, Resource, User, Visit
from ..sync.wire import uuid_str
from ..visit_state import counted
from . import bp, mhsds
from .access import as_datetime, audit
from .reports import report_scope

CHUNK = 5000
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


def _text(value) -> str:
    """A free-text column (a name, a title): spreadsheet-safe."""
    if not value:
        return ""
    return "'" + value if value.startswith(FORMULA_START) else value


def _yn(value) -> str:
    return "Y" if value else "N"


def keyset(query, time_field, id_field, since=None, until=None, chunk: int | None = None):
    """Every row of `query` ordered by (time, id), as raw tuples whose first two columns are the time and the
    id, read a week of time at a time and, within a week, a page of rows at a time. Memory stays flat however
    long the period, and each read seeks through the time index to its own rows (one lower bound per query:
    with two, SQLite scanned from the earlier one)."""
    chunk = chunk or CHUNK
    if since is None or until is None:
        low, high = query.select(fn.MIN(time_field), fn.MAX(time_field)).order_by().tuples().first() or (None, None)
        if low is None:
            return
        since = since or as_datetime(low)
        until = until or as_datetime(high) + dt.timedelta(seconds=1)

    def fetch(start, last):
        """One page from `start`'s week after `last`; the rows and where the next page starts (or None)."""
        stop = min(start + WINDOW, until)
        if last is None:
            page = query.where((time_field >= start) & (time_field < stop))
        else:  # one lower bound only, so the index seeks straight to it instead of rescanning the week
            at = as_datetime(last[0])
            page = query.where((time_field >= at) & (time_field < stop) & ((time_field > at) | (id_field > last[1])))
        sql, params = page.order_by(time_field, id_field).limit(chunk).sql()
        rows = execute_as_text(sql, params).fetchall()  # uuids and times as text on both engines
        if len(rows) == chunk:
            return rows, (start, rows[-1])
        return rows, ((stop, None) if stop < until else None)

    if since >= until:
        return
    following = (since, None)
    while following is not None:
        rows, following = fetch(*following)
        yield from rows


def csv_response(filename: str, header: list[str], rows, prepared: bool = False) -> Response:
    """Stream `rows` (lists of cells), 500 rows at a time. Every cell is made spreadsheet-safe (_cell) unless
    `prepared`: the caller already made its free-text cells safe (_text) and the rest are ids, codes, numbers
    and times, which cannot start a formula."""
    if not prepared:
        rows = ([_cell(v) for v in row] for row in rows)

    def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) == 500:
                writer.writerows(batch)
                batch.clear()
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        writer.writerows(batch)
        yield buffer.getvalue()

    response = Response(stream_with_context(generate()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def user_names() -> dict[int, tuple[str, str]]:
    """Users' public ids and names by internal id (users are few; their records are many)."""
    return {uid: (str(uuid), name) for uid, uuid, name in User.select(User.id, User.uuid, User.name).tuples()}


def _visit_rows(scope):
    return (scope.people(Visit.select(Visit.started_at, Visit.id, Visit.uuid, Person.uuid, Visit.author,
                                      Visit.duration_minutes, Visit.mode, Visit.location_type, Visit.attendance,
                                      Visit.group_session, Visit.wellbeing, Visit.concern, Visit.concern_ack_at,
                                      Visit.reviewed_at, Visit.goal_ids, Visit.person)
                         .join(Person, on=(Visit.person == Person.id))
                         .where(counted())))  # the period is keyset()'s: one range, so the index seeks


def _filename(kind: str, scope) -> str:
    return f"alongside-{kind}-{scope.start}-to-{scope.end}.csv"


def _goal_count(text) -> int:
    if not text or text == "[]":
        return 0
    try:
        return len(json.loads(text))
    except ValueError:
        return 0


VISIT_HEADER = ["visit_id", "person_id", "worker_id", "worker_name", "started_at", "duration_minutes", "mode",
                "mode_label", "location_type", "location_label", "attendance", "attendance_label", "group_session",
                "wellbeing", "concern", "concern_acknowledged_at", "reviewed_at", "goals_discussed"]


@bp.get("/exports/visits.csv")
def export_visits():
    scope = report_scope(request.args)
    audit("export.visits", "export", "", detail=f"{scope.start}..{scope.end} {scope.label}"[:200])
    names = {uid: (uuid, _text(name)) for uid, (uuid, name) in user_names().items()}
    times = LocalTimes()

    def rows():
        for (started, _, vid, pid, author, duration, mode, location, attendance, group, wellbeing, concern,
             acked, reviewed, goal_ids, _person) in keyset(_visit_rows(scope), Visit.started_at, Visit.id,
                                                  scope.since, scope.until):
            worker_uuid, worker_name = names.get(author, ("", ""))
            yield [uuid_str(vid), uuid_str(pid), worker_uuid, worker_name, times.iso(started), duration, mode,
                   VISIT_MODES.get(mode, ""), location, VISIT_LOCATIONS.get(location, ""), attendance,
                   VISIT_ATTENDANCE.get(attendance, ""), _yn(group), "" if wellbeing is None else wellbeing,
                   concern, times.iso(acked), times.iso(reviewed), _goal_count(goal_ids)]

    return csv_response(_filename("visits", scope), VISIT_HEADER, rows(), prepared=True)


# MHSDS (Mental Health Services Data Set) care contact fields (codes: server/codes.py), then the return's
# identifiers (mhsds.COLUMNS; each column is described in the README).
CONTACT_HEADER = ["CareContactId", "LocalPatientId", "CareProfLocalId", "CareContDate", "CareContTime",
                  "ClinContDurOfCareCont", "ConsMechanismMH", "ActLocTypeCode", "AttendStatus", "GroupTherapyInd",
                  *mhsds.HEADER]


@bp.get("/exports/contacts.csv")
def export_contacts():
    scope = report_scope(request.args)
    audit("export.contacts", "export", "", detail=f"{scope.start}..{scope.end} {scope.label}"[:200])
    names = user_names()
    times = LocalTimes()
    context = mhsds.ReturnContext(scope.people(Person.select(Person.id)))

    def rows():
        for (started, _, vid, pid, author, duration, mode, location, attendance, group, *_rest, person) in keyset(
                _visit_rows(scope), Visit.started_at, Visit.id, scope.since, scope.until):
            local = times.iso(started)  # "YYYY-MM-DDTHH:MM:SS+HH:MM", local: its date and its time of day
            yield [uuid_str(vid), uuid_str(pid), names.get(author, ("", ""))[0], local[:10],
                   local[11:19], duration if attendance in ATTENDED else 0, mode, location, attendance,
                   _yn(group), *(_text(str(c)) for c in mhsds.return_columns(context, person, started, attendance))]

    return csv_response(_filename("contacts-mhsds", scope), CONTACT_HEADER, rows(), prepared=True)


GOAL_HEADER = ["goal_id", "person_id", "set_by_id", "set_by_name", "title", "life_area", "status", "target_date",
               "created_at", "achieved_at"]


@bp.get("/exports/goals.csv")
def export_goals():
    scope = report_scope(request.args)
    audit("export.goals", "export", "", detail=f"{scope.start}..{scope.end} {scope.label}"[:200])
    names = {uid: (uuid, _text(name)) for uid, (uuid, name) in user_names().items()}
    times = LocalTimes()
    query = scope.people(Goal.select(Goal.created_at, Goal.id, Goal.uuid, Person.uuid, Goal.created_by, Goal.title,
                                     Goal.life_area, Goal.status, Goal.target_date, Goal.achieved_at)
                         .join(Person, on=(Goal.person == Person.id))
                         .where(~Goal.deleted))

    def rows():
        for created, _, gid, pid, by_id, title, area, status, target, achieved in keyset(
                query, Goal.created_at, Goal.id, scope.since, scope.until):
            by = names.get(by_id, ("", ""))
            yield [uuid_str(gid), uuid_str(pid), by[0], by[1], _text(title), _text(area), status,
                   str(target)[:10] if target else "", times.iso(created), times.iso(achieved)]

    return csv_response(_filename("goals", scope), GOAL_HEADER, rows(), prepared=True)


REFERRAL_HEADER = ["referral_id", "person_id", "made_by_id", "made_by_name", "resource_id", "resource_name",
                   "category", "status", "created_at", "follow_up_at"]


@bp.get("/exports/referrals.csv")
def export_referrals():
    scope = report_scope(request.args)
    audit("export.referrals", "export", "", detail=f"{scope.start}..{scope.end} {scope.label}"[:200])
    names = {uid: (uuid, _text(name)) for uid, (uuid, name) in user_names().items()}
    times = LocalTimes()
    query = scope.people(Referral.select(Referral.created_at, Referral.id, Referral.uuid, Person.uuid,
                                         Referral.created_by, Resource.uuid, Resource.name, Resource.category,
                                         Referral.status, Referral.follow_up_at)
                         .join(Person, on=(Referral.person == Person.id))
                         .switch(Referral)
                         .join(Resource, on=(Referral.resource == Resource.id))
                         .where(~Referral.deleted))

    def rows():
        for created, _, rid, pid, by_id, res_id, res_name, category, status, follow in keyset(
                query, Referral.created_at, Referral.id, scope.since, scope.until):
            by = names.get(by_id, ("", ""))
            yield [uuid_str(rid), uuid_str(pid), by[0], by[1], uuid_str(res_id), _text(res_name), _text(category),
                   status, times.iso(created), times.iso(follow)]

    return csv_response(_filename("referrals", scope), REFERRAL_HEADER, rows(), prepared=True)
