"""Who may see which person: the one place that answers it. A peer worker sees the people on their own
open caseload, a coordinator their own team's people, an admin everyone. Lookups that fail the check
answer 404, exactly as for an id that does not exist, so ids cannot be probed."""

from __future__ import annotations

import uuid as uuidlib

from flask import abort

from .models import CaseloadAssignment, Person, User


def people_visible_to(user: User):
    """A query of the people this user may see."""
    query = Person.select().where(~Person.deleted)
    if user.role == "admin":
        return query
    if user.role == "coordinator":
        return query.where(Person.team == user.team_id)
    on_caseload = (CaseloadAssignment
                   .select(CaseloadAssignment.person)
                   .where((CaseloadAssignment.worker == user) & CaseloadAssignment.ended_at.is_null()))
    return query.where(Person.id.in_(on_caseload))


def parse_uuid(value) -> uuidlib.UUID | None:
    try:
        return value if isinstance(value, uuidlib.UUID) else uuidlib.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def find_person_for(user: User, person_id) -> Person | None:
    """The person with this public id if this user may see them, else None."""
    pid = parse_uuid(person_id)
    if pid is None:
        return None
    return people_visible_to(user).where(Person.uuid == pid).first()


def get_person_or_404(user: User, person_id) -> Person:
    person = find_person_for(user, person_id)
    if person is None:
        abort(404)
    return person
