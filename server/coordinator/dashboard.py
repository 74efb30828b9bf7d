"""The coordinator's start page: what needs attention now, in four numbers."""

from __future__ import annotations

import datetime as dt

from ..models import Person, Visit
from ..visit_state import needs_review
from .access import people, today_local, visits
from .concerns import open_concern_count


def summary() -> dict:
    today = today_local()
    week_ago = dt.datetime.combine(today - dt.timedelta(days=7), dt.time.min)
    return {
        "unreviewed": visits().where(needs_review()).count(),
        "this_week": visits().where(Visit.started_at >= week_ago).count(),
        "concerns": open_concern_count(),
        "to_confirm": people().where(Person.added_in_field & Person.confirmed_at.is_null()).count(),
        "past_end": people().where((Person.status == "active") & (Person.planned_end < today)).count(),
    }
