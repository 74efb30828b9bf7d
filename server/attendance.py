"""Did-not-attend follow-up (issue 15): how many of a person's latest visits in a row they missed. A missed
visit is a did-not-attend code (codes.MISSED); an attended visit ends the run; cancellations, voided and deleted
visits are passed over. At two or more the phone and the coordinator's caseload say "Try another way to reach
them". The count is kept on the person (Person.missed_in_a_row, pulled by the phone) and refreshed whenever a
sync push changes one of their visits."""

from __future__ import annotations

from collections.abc import Iterable

from .codes import ATTENDED, MISSED
from .models import Person, Visit

FLAG_AT = 2
_LOOK_BACK = 50  # a run longer than this is reported as this


def count_missed(attendances: Iterable[str]) -> int:
    """The run of missed visits at the start of `attendances` (newest first)."""
    count = 0
    for code in attendances:
        if code in MISSED:
            count += 1
        elif code in ATTENDED:
            break
    return count


def missed_in_a_row(person) -> int:
    """One query: the person's latest visits, newest first."""
    person_id = getattr(person, "id", person)
    rows = (Visit.select(Visit.attendance)
            .where((Visit.person == person_id) & ~Visit.deleted & Visit.voided_at.is_null()
                   & Visit.attendance.in_(MISSED + ATTENDED))
            .order_by(Visit.started_at.desc(), Visit.id.desc())  # at the same minute, the later logged
            .limit(_LOOK_BACK)
            .tuples())
    return count_missed(code for (code,) in rows)


def refresh(person_ids: Iterable[int], rev: int | None = None) -> None:
    """Inside the write transaction of a change to these people's visits: store each new count, with a new rev
    on the person when it changed so their phones learn of it (no field stamps: a device never writes it)."""
    from .sync.revisions import stamp_values

    for person_id in person_ids:
        person = Person.get_or_none(Person.id == person_id)
        if person is None:
            continue
        count = missed_in_a_row(person_id)
        if count != person.missed_in_a_row:
            (Person.update(missed_in_a_row=count, **stamp_values(person, (), rev=rev))
             .where(Person.id == person_id).execute())
