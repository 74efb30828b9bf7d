"""Did-not-attend follow-up (issue 15): how many of a person's latest visits in a row they missed. A missed
visit is a did-not-attend code (codes.MISSED); an attended visit ends the run; cancellations, voided and deleted
visits are passed over. At two or more the phone and the coordinator's caseload say "Try another way to reach
them". The count is kept on the person (Person.missed_in_a_row, pulled by the phone) and refreshed whenever a
sync push changes one of their visits."""

from __future__ import annotations

from collections.abc import Iterable

from peewee import fn

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


def counts(person_ids: Iterable[int]) -> dict[int, int]:
    """missed_in_a_row for many people in one query (the same rule as missed_in_a_row): each person's missed
    visits with no attended visit after them. People with none are left out (their count is 0)."""
    ids = list(person_ids)
    if not ids:
        return {}
    later = Visit.alias("later")
    attended_after = (later.select(later.id)
                      .where((later.person == Visit.person) & ~later.deleted & later.voided_at.is_null()
                             & later.attendance.in_(ATTENDED)
                             & ((later.started_at > Visit.started_at)
                                | ((later.started_at == Visit.started_at) & (later.id > Visit.id)))))
    rows = (Visit.select(Visit.person, fn.COUNT(Visit.id))
            .where(Visit.person.in_(ids) & ~Visit.deleted & Visit.voided_at.is_null()
                   & Visit.attendance.in_(MISSED) & ~fn.EXISTS(attended_after))
            .group_by(Visit.person).tuples())
    return {person_id: min(count, _LOOK_BACK) for person_id, count in rows}


def refresh(person_ids: Iterable[int], attended_only: Iterable[int] = (), rev: int | None = None) -> None:
    """Inside the write transaction of a change to these people's visits: store each new count, with a new rev
    on the person when it changed so their phones learn of it (no field stamps: a device never writes it).
    `attended_only`: people whose only change is new visits that were not missed, which can end a run but
    never start or lengthen one, so only those with a count above 0 are counted again. Two queries however
    many people (a push touches many), one when no count can have changed; a write only for a count that did."""
    from .sync.revisions import stamp_values

    changed, attended_only = set(person_ids), set(attended_only)
    ids = changed | attended_only
    if not ids:
        return
    stored = dict(Person.select(Person.id, Person.missed_in_a_row).where(Person.id.in_(list(ids))).tuples())
    recount = changed | {pid for pid in attended_only if stored.get(pid)}
    if not recount:
        return
    fresh = counts(recount)
    for person_id in sorted(recount):  # two columns, not whole people: a push names a hundred of them
        count = fresh.get(person_id, 0)
        if person_id in stored and count != stored[person_id]:
            (Person.update(missed_in_a_row=count, **stamp_values(Person(id=person_id), (), rev=rev))
             .where(Person.id == person_id).execute())
