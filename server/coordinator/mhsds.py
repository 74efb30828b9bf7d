"""The columns the contacts export adds for a trust's MHSDS return (issue 16), each documented in COLUMNS (the
README's table is made from the same words). exports.export_contacts calls `return_columns` once per contact
and `ReturnContext` once per export: two small queries over the team's people, never one per contact."""

from __future__ import annotations

from flask import current_app
from peewee import fn

from ..codes import ATTENDED, FOLLOW_UP, INITIAL
from ..models import Person, Team, Visit
from ..visit_state import counted

COLUMNS = [
    ("ServiceRequestId", "The person's engagement with the service: their id and the date it began "
                         "(person id, then -YYYYMMDD when an engagement start is recorded)."),
    ("ConsType", "CONSULTATION TYPE: 01 initial (the person's first attended contact, ever), 02 follow-up."),
    ("CareProfTeamLocalId", "The team's identifier: ALONGSIDE_MHSDS_TEAM_IDS names it per team, else the "
                            "team's id in Alongside."),
    ("SiteIDOfTreat", "The site code of treatment, from the setting ALONGSIDE_MHSDS_SITE_ID."),
    ("OrgIDProv", "The provider's organisation code, from the setting ALONGSIDE_MHSDS_ORG_ID."),
]
HEADER = [name for name, _ in COLUMNS]


def _team_ids() -> dict[str, str]:
    """ALONGSIDE_MHSDS_TEAM_IDS: "Team name=CODE;Other team=CODE2" (names as on the Teams page)."""
    text = current_app.config["ALONGSIDE"].MHSDS_TEAM_IDS
    pairs = (part.split("=", 1) for part in text.split(";") if "=" in part)
    return {name.strip(): code.strip() for name, code in pairs}


class ReturnContext:
    """What every row of one export shares: per person (internal id) the service request id and team code,
    and the time of their first attended contact."""

    def __init__(self, person_ids_query):
        codes = _team_ids()
        teams = {tid: codes.get(name, str(uuid)) for tid, name, uuid in
                 Team.select(Team.id, Team.name, Team.uuid).tuples()}
        self.people = {}
        for pid, uuid, start, team_id in (Person.select(Person.id, Person.uuid, Person.engagement_start, Person.team)
                                          .where(Person.id.in_(person_ids_query)).tuples()):
            request_id = str(uuid) + (f"-{start:%Y%m%d}" if start else "")
            self.people[pid] = (request_id, teams.get(team_id, ""))
        self.first = dict(Visit.select(Visit.person, fn.MIN(Visit.started_at))
                          .where(Visit.person.in_(person_ids_query) & Visit.attendance.in_(ATTENDED)
                                 & counted())
                          .group_by(Visit.person).tuples())
        self.site = current_app.config["ALONGSIDE"].MHSDS_SITE_ID
        self.org = current_app.config["ALONGSIDE"].MHSDS_ORG_ID


def return_columns(ctx: ReturnContext, person_id: int, started_at, attendance: str) -> list:
    request_id, team_code = ctx.people.get(person_id, ("", ""))
    first = ctx.first.get(person_id)
    initial = attendance in ATTENDED and first is not None and str(first)[:19] == str(started_at)[:19]
    return [request_id, INITIAL if initial else FOLLOW_UP, team_code, ctx.site, ctx.org]
