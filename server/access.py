"""Who may see which person, for Flask views: the rule itself is server/sync/scope.py (one copy for sync, the
coordinator pages, the invites API and the person pages); this adds the HTTP answer. Lookups that fail the
check answer 404, exactly as for an id that does not exist, so ids cannot be probed."""

from __future__ import annotations

from flask import abort

from .models import Person, User
from .sync.scope import find_person_for, parse_uuid, people_visible_to

__all__ = ["find_person_for", "get_person_or_404", "parse_uuid", "people_visible_to"]


def get_person_or_404(user: User, person_id) -> Person:
    person = find_person_for(user, person_id)
    if person is None:
        abort(404)
    return person
