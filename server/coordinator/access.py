"""Team scoping for the coordinator workspace, in one place: every lookup by public id checks the team
and answers 404 (as for an id that does not exist) when the signed-in coordinator may not see it.
Admins see every team. Also the small input parsers the pages share, so bad input is a clear 400."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import abort
from flask_login import current_user

from .. import local_time
from ..models import AuditEvent, Device, Person, Resource, Team, User, Visit
from ..sync import scope as scope_rule
from ..sync.scope import parse_uuid


class BadInput(ValueError):
    """A form or query value that cannot be used; its message is shown to the coordinator."""


def is_admin() -> bool:
    return current_user.role == "admin"


def own_team_id() -> int | None:
    return current_user.team_id


def team_ids_in_scope() -> list[int] | None:
    """None means every team (admin); otherwise the coordinator's own team only (sync/scope.py decides)."""
    return scope_rule.team_ids(current_user)


def scope(query, team_field):
    """Narrow a query to the teams the current user may see."""
    ids = team_ids_in_scope()
    if ids is None:
        return query
    return query.where(team_field.in_(ids))


def teams_in_scope():
    query = Team.select().order_by(Team.name)
    return scope(query, Team.id)


def _uuid_or_404(value):
    parsed = parse_uuid(value)
    if parsed is None:
        abort(404)
    return parsed


def people():
    """The people the current user may see (not deleted)."""
    return scope_rule.Scope(current_user).people()


def get_person_or_404(person_id) -> Person:
    person = people().where(Person.uuid == _uuid_or_404(person_id)).first()
    if person is None:
        abort(404)
    return person


def visits():
    return scope(Visit.select().join(Person).where(~Visit.deleted), Person.team)


def get_visit_or_404(visit_id) -> Visit:
    visit = (scope(Visit.select(Visit, Person).join(Person), Person.team)
             .where((Visit.uuid == _uuid_or_404(visit_id)) & ~Visit.deleted)
             .first())
    if visit is None:
        abort(404)
    return visit


def users():
    return scope(User.select(), User.team)


def get_user_or_404(user_id) -> User:
    user = users().where(User.uuid == _uuid_or_404(user_id)).first()
    if user is None:
        abort(404)
    return user


def workers():
    """Active peer workers in scope, by name (for assignment and filters)."""
    return users().where((User.role == "peer_worker") & User.active).order_by(User.name)


def get_worker_or_none(worker_id, team_id=None) -> User | None:
    """A peer worker in scope (and in `team_id` when given), or None for an empty or unknown id."""
    parsed = parse_uuid(worker_id)
    if parsed is None:
        return None
    query = workers().where(User.uuid == parsed)
    if team_id is not None:
        query = query.where(User.team == team_id)
    return query.first()


def get_device_or_404(device_id) -> Device:
    device = (scope(Device.select(Device, User).join(User), User.team)
              .where(Device.uuid == _uuid_or_404(device_id))
              .first())
    if device is None:
        abort(404)
    return device


def get_resource_or_404(resource_id) -> Resource:
    """The resource directory is shared by every team: any coordinator may curate it."""
    resource = Resource.get_or_none((Resource.uuid == _uuid_or_404(resource_id)) & ~Resource.deleted)
    if resource is None:
        abort(404)
    return resource


def get_team_or_404(team_id) -> Team:
    team = teams_in_scope().where(Team.uuid == _uuid_or_404(team_id)).first()
    if team is None:
        abort(404)
    return team


def audit(action: str, entity: str = "", record_id="", team=None, detail: str = "") -> None:
    """Record a view or a change. Ids and action names only: never health details."""
    AuditEvent.record(current_user._get_current_object(), action, entity, record_id,
                      team=team if team is not None else current_user.team, detail=detail)


# --- input parsing -----------------------------------------------------------------------------

MIN_DATE = dt.date(2000, 1, 1)
MAX_DATE = dt.date(2100, 12, 31)


def parse_date(value, label: str, required: bool = False) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise BadInput(f"{label}: please give a date.")
        return None
    try:
        day = dt.date.fromisoformat(value[:10]) if len(value) <= 10 else None
    except ValueError:
        day = None
    if day is None:
        raise BadInput(f"{label}: “{value[:20]}” is not a date. Use the form 2026-03-31.")
    if not MIN_DATE <= day <= MAX_DATE:
        raise BadInput(f"{label}: please give a date between 2000 and 2100.")
    return day


def parse_range(args, default_days: int | None = None) -> tuple[dt.date | None, dt.date | None]:
    """`from` and `to` (inclusive dates) from a query; when both are empty and default_days is given,
    the last `default_days` days up to today."""
    start = parse_date(args.get("from"), "From")
    end = parse_date(args.get("to"), "To")
    if start is None and end is None and default_days:
        end = today_local()
        start = end - dt.timedelta(days=default_days - 1)
    if start and end and start > end:
        raise BadInput("The “from” date is after the “to” date.")
    if start and end and (end - start).days > 366 * 5:
        raise BadInput("Please choose a range of five years or less.")
    return start, end


def local_zone() -> ZoneInfo:
    return local_time.zone()


def local_midnight_utc(day: dt.date) -> dt.datetime:
    """Midnight at the start of a local day, as naive UTC (how times are stored)."""
    local = dt.datetime.combine(day, dt.time.min, tzinfo=local_zone())
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def day_start(day: dt.date | None) -> dt.datetime | None:
    return local_midnight_utc(day) if day else None


def day_after(day: dt.date | None) -> dt.datetime | None:
    return local_midnight_utc(day + dt.timedelta(days=1)) if day else None


def as_datetime(value) -> dt.datetime | None:
    """Aggregates (MAX over a datetime column) come back from SQLite as text: read them as datetimes."""
    return local_time.parse_stored(value)


to_local = local_time.to_local
today_local = local_time.today


def clean_text(value, label: str, max_length: int, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise BadInput(f"{label}: please fill this in.")
    if len(text) > max_length:
        raise BadInput(f"{label}: please keep this to {max_length} characters or fewer.")
    return text


def link_args(args) -> dict:
    """A list page's filters, to carry into its "next page" and export links with url_for(**link_args(...)).
    Not the page number, and never a name url_for itself takes (`endpoint`, `_method`, `_external`, ...): those
    would build another URL or fail."""
    return {k: v for k, v in args.items() if k != "page" and k != "endpoint" and not k.startswith("_")}


def parse_page(value) -> int:
    try:
        page = int(value or 1)
    except (TypeError, ValueError):
        return 1
    return min(max(page, 1), 10_000)
