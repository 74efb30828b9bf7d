"""Who may see which person: the one rule, in two shapes (STYLE.md, "One copy of every rule").

- a peer worker sees the people on their own open caseload;
- a coordinator sees their own team's people (a coordinator without a team sees nobody);
- an admin sees every team's people: they run the organisation (users, teams, the directory) and may have to
  act on any team's concern. Every read of a person's record by anyone but the assigned worker is audited.

As a predicate (`Scope.allows`, for push and single lookups) and as a query (`Scope.people`,
`people_filter` for pull's cached SQL, `team_ids` for the coordinator pages' team-wide lists). Pull also asks
here who joined or left a worker's caseload since a cursor. No Flask: callers pass the user."""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass, field

from ..models import CaseloadAssignment, Person, User
from ..prepared import Prepared

ALL, TEAM, CASELOAD = "all", "team", "caseload"
# A worker's caseload changes after a cursor: asked on every pull, so built once (prepared.py).
_RECENT = Prepared(lambda worker, cursor: (CaseloadAssignment.select(
    CaseloadAssignment.person, CaseloadAssignment.rev, CaseloadAssignment.ended_at.is_null())
    .where((CaseloadAssignment.worker == worker) & (CaseloadAssignment.rev > cursor)).tuples()),
    worker=CaseloadAssignment.worker, cursor=CaseloadAssignment.rev)


def _older(worker, cursor):
    """The same worker's open assignments from before the cursor of the people in _RECENT: a fixed shape (the
    people as a subquery, not a list of ids), so it too is built once. An initial pull's pages each named a
    whole caseload here, and building that list's SQL took 1-2 ms a page."""
    a, recent = CaseloadAssignment, CaseloadAssignment.alias("recent")
    return (a.select(a.person, a.rev, a.ended_at.is_null())
            .where((a.worker == worker) & a.ended_at.is_null() & (a.rev <= cursor)
                   & a.person.in_(recent.select(recent.person).where((recent.worker == worker)
                                                                     & (recent.rev > cursor))))
            .tuples())


_OLDER = Prepared(_older, worker=CaseloadAssignment.worker, cursor=CaseloadAssignment.rev)


def kind_of(user: User) -> str:
    if user.role == "admin":
        return ALL
    if user.role == "coordinator":
        return TEAM
    return CASELOAD


def parse_uuid(value) -> uuidlib.UUID | None:
    """A public id from any input (text with spaces, a UUID), or None: the one parser every lookup uses."""
    if isinstance(value, uuidlib.UUID):
        return value
    try:
        return uuidlib.UUID(str(value).strip())
    except (TypeError, ValueError, AttributeError):
        return None


def team_ids(user: User) -> list[int] | None:
    """The teams whose team-wide lists (people, visits, users, devices) this user may see: None for every
    team (admin), else the coordinator's own team; a peer worker sees no team-wide list."""
    kind = kind_of(user)
    if kind == ALL:
        return None
    if kind == TEAM and user.team_id is not None:
        return [user.team_id]
    return []


class Scope:
    """One user's view, for a request or a push batch. A worker's caseload is asked about only for the people
    at hand (`prefetch`, one query for a whole push batch), never read whole."""

    def __init__(self, user: User):
        self.user = user
        self.kind = kind_of(user)
        self._on_caseload: dict[int, bool] = {}

    def prefetch(self, person_ids) -> None:
        """Learn in one query which of these people are on this worker's open caseload."""
        ids = [pid for pid in set(person_ids) if pid not in self._on_caseload]
        if self.kind != CASELOAD or not ids:
            return
        a = CaseloadAssignment
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            found = {pid for (pid,) in a.select(a.person).where(
                (a.worker == self.user.id) & a.ended_at.is_null() & a.person.in_(chunk)).tuples()}
            for pid in chunk:
                self._on_caseload[pid] = pid in found

    def joined(self, person_id: int) -> None:
        """A person just put on this worker's caseload in the same transaction."""
        self._on_caseload[person_id] = True

    def allows(self, person) -> bool:
        """May this user see (and, within their role, write) this person's records? `person` needs only `id`
        and `team_id`."""
        if self.kind == ALL:
            return True
        if self.kind == TEAM:
            return self.user.team_id is not None and person.team_id == self.user.team_id
        if person.id not in self._on_caseload:
            self.prefetch([person.id])
        return self._on_caseload[person.id]

    def people(self, include_deleted: bool = False):
        """A query of the people this user may see."""
        query = Person.select()
        if not include_deleted:
            query = query.where(~Person.deleted)
        if self.kind == ALL:
            return query
        if self.kind == TEAM:
            return query.where(Person.team == (self.user.team_id or 0))
        return query.where(Person.id.in_(CaseloadAssignment
                                         .select(CaseloadAssignment.person)
                                         .where((CaseloadAssignment.worker == self.user)
                                                & CaseloadAssignment.ended_at.is_null())))

    def find(self, person_id) -> Person | None:
        """The (not deleted) person with this public id if this user may see them, else None: an id that
        exists but is out of scope answers exactly as one that does not exist."""
        pid = parse_uuid(person_id)
        return None if pid is None else self.people().where(Person.uuid == pid).first()


def people_visible_to(user: User):
    return Scope(user).people()


def find_person_for(user: User, person_id) -> Person | None:
    return Scope(user).find(person_id)


# --- pull: the same rule as SQL, and who joined or left since a cursor ---------------------------------

def scope_value(user: User) -> int:
    """The value `people_filter` compares with: the worker's or the team's id (0 matches nobody)."""
    kind = kind_of(user)
    return user.id if kind == CASELOAD else (user.team_id or 0) if kind == TEAM else 0


def people_filter(kind: str, person_col, scope, cursor):
    """A condition on `person_col` (an expression naming a person id) that keeps the people in scope and steady
    since before `cursor`; None for every person. `scope` and `cursor` may be placeholders (pull caches SQL)."""
    if kind == ALL:
        return None
    if kind == TEAM:
        return person_col.in_(Person.select(Person.id).where(Person.team == scope))
    return person_col.in_(CaseloadAssignment
                          .select(CaseloadAssignment.person)
                          .where((CaseloadAssignment.worker == scope)
                                 & CaseloadAssignment.ended_at.is_null()
                                 & (CaseloadAssignment.rev <= cursor)))


@dataclass
class PullScope:
    """Who is in a pull's scope at snapshot `snapshot`: people steady since before `cursor`, people who joined
    a worker's caseload after it (whole history), people who left after it (purge)."""

    kind: str
    cursor: int
    snapshot: int
    value: int  # see scope_value
    joined: dict = field(default_factory=dict)  # person id -> rev of the assignment that brought them in
    left: dict = field(default_factory=dict)  # person id -> rev of the assignment's end
    user_id: int = 0  # the pulling user: records kept per user (Source.owner_col) are theirs alone


def pull_scope(user: User, cursor: int, snapshot: int) -> PullScope:
    kind = kind_of(user)
    scope = PullScope(kind, cursor, snapshot, scope_value(user), user_id=user.id)
    if kind != CASELOAD:
        return scope
    recent = [tuple(row) for row in _RECENT.rows(worker=user.id, cursor=cursor)]  # a few rows: cheap on every pull
    if not recent:
        return scope
    older = _OLDER.rows(worker=user.id, cursor=cursor)
    open_rows: dict[int, int] = {}
    uncertain: set[int] = set()
    ended: dict[int, int] = {}
    for person_id, rev, is_open in [*recent, *older]:
        if rev > snapshot:
            uncertain.add(person_id)  # changed after our snapshot: the next pull sees it settled
        elif is_open:
            open_rows[person_id] = min(rev, open_rows.get(person_id, rev))
        else:
            ended[person_id] = max(rev, ended.get(person_id, 0))
    scope.joined = {pid: rev for pid, rev in open_rows.items() if rev > cursor and pid not in uncertain}
    scope.left = {pid: rev for pid, rev in ended.items() if pid not in open_rows and pid not in uncertain}
    return scope
