"""The SQL behind a pull: one source per entity (how to select its rows, with the uuids they refer to, and which
column names the person whose scope they are in), changes of people steady in scope, and the whole history of
people who joined a caseload. Queries are built once per shape and kept as SQL with numbered slots: building them
with peewee on every pull cost more than running them. Rows come back as dicts of raw column values."""

from __future__ import annotations

from dataclasses import dataclass

import peewee

from ..db import database, execute_as_text
from ..models import (
    CaseloadAssignment,
    CheckIn,
    Conflict,
    Goal,
    GoalProgress,
    Person,
    Referral,
    Resource,
    Review,
    SupervisionSession,
    User,
    Visit,
)
from . import wire
from .scope import ALL, PullScope, people_filter

# Parents before children inside one rev, so a device with foreign keys can apply a page in order.
PULL_ORDER = ("resource", "person", "goal", "visit", "goal_progress", "referral", "review", "conflict", "supervision",
              "check_in")


@dataclass
class Source:
    """One entity's pull query: how to select its rows (with the uuids it refers to) and which column names
    the person whose scope it is in."""

    entity: str
    model: type
    select: object  # () -> query
    person_col: object  # () -> expression
    fields: object  # row -> dict
    owner_col: object = None  # () -> expression: rows only of the pulling user (not of a person), e.g. supervision
    # Its joins only add columns (each joins on a foreign key that cannot be null, and names the person by a column
    # of its own table), so a look at its revs reads its own table alone: with the joins, an initial pull's
    # look along the revs hashed every joined row and sorted them all for each page, about a fifth of its time.
    revs_alone: bool = False


def sources() -> list[Source]:
    author = User.alias("author")
    lost_by = User.alias("lost_by")
    won_by = User.alias("won_by")
    reviewer = User.alias("reviewer")
    return [
        Source("resource", Resource, lambda: Resource.select(), None, wire.resource_fields, revs_alone=True),
        Source("person", Person, lambda: Person.select(), lambda: Person.id, wire.person_fields, revs_alone=True),
        Source("goal", Goal,
                lambda: Goal.select(Goal, Person.uuid.alias("p_uuid")).join(Person, on=(Goal.person == Person.id)),
                lambda: Goal.person, wire.goal_fields, revs_alone=True),
        Source("visit", Visit,
                lambda: (Visit.select(Visit, Person.uuid.alias("p_uuid"), author.uuid.alias("a_uuid"))
                         .join(Person, on=(Visit.person == Person.id))
                         .join_from(Visit, author, on=(Visit.author == author.id))),
                lambda: Visit.person, wire.visit_fields, revs_alone=True),
        Source("goal_progress", GoalProgress,
                lambda: (GoalProgress.select(GoalProgress, Goal.uuid.alias("g_uuid"), Person.uuid.alias("p_uuid"),
                                             Visit.uuid.alias("v_uuid"), author.uuid.alias("a_uuid"))
                         .join(Goal, on=(GoalProgress.goal == Goal.id))
                         .join(Person, on=(Goal.person == Person.id))
                         .join_from(GoalProgress, Visit, peewee.JOIN.LEFT_OUTER, on=(GoalProgress.visit == Visit.id))
                         .join_from(GoalProgress, author, peewee.JOIN.LEFT_OUTER,
                                    on=(GoalProgress.author == author.id))),
                lambda: Goal.person, wire.goal_progress_fields),
        Source("referral", Referral,
                lambda: (Referral.select(Referral, Person.uuid.alias("p_uuid"), Resource.uuid.alias("res_uuid"))
                         .join(Person, on=(Referral.person == Person.id))
                         .join_from(Referral, Resource, on=(Referral.resource == Resource.id))),
                lambda: Referral.person, wire.referral_fields, revs_alone=True),
        Source("review", Review,
                lambda: (Review.select(Review, Visit.uuid.alias("v_uuid"), Person.uuid.alias("p_uuid"),
                                       reviewer.name.alias("reviewer_name"))
                         .join(Visit, on=(Review.visit == Visit.id))
                         .join(Person, on=(Visit.person == Person.id))
                         .join_from(Review, reviewer, on=(Review.reviewer == reviewer.id))),
                lambda: Visit.person, wire.review_fields),
        Source("conflict", Conflict,
                lambda: (Conflict.select(Conflict, Person.uuid.alias("p_uuid"), lost_by.name.alias("lost_by_name"),
                                         won_by.name.alias("won_by_name"))
                         .join(Person, on=(Conflict.person == Person.id))
                         .join_from(Conflict, lost_by, peewee.JOIN.LEFT_OUTER, on=(Conflict.lost_by == lost_by.id))
                         .join_from(Conflict, won_by, peewee.JOIN.LEFT_OUTER, on=(Conflict.won_by == won_by.id))),
                lambda: Conflict.person, wire.conflict_fields),
        Source("supervision", SupervisionSession,
                lambda: (SupervisionSession.select(SupervisionSession, reviewer.name.alias("recorder_name"))
                         .join(reviewer, peewee.JOIN.LEFT_OUTER, on=(SupervisionSession.recorded_by == reviewer.id))),
                None, wire.supervision_fields, owner_col=lambda: SupervisionSession.worker),
        check_in_source(),
    ]


def check_in_source() -> Source:
    """A worker's own lone-working check-ins (issue 14): owned by the worker, not by the person's scope."""
    visit = Visit.alias("ci_visit")
    return Source("check_in", CheckIn,
                  lambda: (CheckIn.select(CheckIn, Person.uuid.alias("p_uuid"), visit.uuid.alias("v_uuid"))
                           .join(Person, on=(CheckIn.person == Person.id))
                           .join_from(CheckIn, visit, peewee.JOIN.LEFT_OUTER, on=(CheckIn.visit == visit.id))),
                  None, wire.check_in_fields, owner_col=lambda: CheckIn.worker)


ORDER = {name: i for i, name in enumerate(PULL_ORDER)}


# Distinct sentinel numbers mark where each value goes in the cached SQL.
_SENTINELS = {"low": -9_100_000_001, "high": -9_100_000_002, "scope": -9_100_000_003,
              "cursor": -9_100_000_004, "snapshot": -9_100_000_005, "exact": -9_100_000_006,
              "limit": 9_100_000_007, "owner": -9_100_000_008}
_SQL_CACHE: dict = {}


def _cached_rows(key: tuple, build, values: dict) -> list[dict]:
    """Run the query `build(sentinels)` describes with `values`; rows as dicts of raw column values
    (peewee's per-value conversion is most of a big pull's time; the serialisers read raw values)."""
    key = (type(database.obj), *key)
    entry = _SQL_CACHE.get(key)
    if entry is None:
        sentinels = {name: _SENTINELS[name] for name in values}
        sql, params = build(sentinels).sql()
        by_value = {v: name for name, v in sentinels.items()}
        slots = [(by_value[p], None) if type(p) is int and p in by_value else (None, p) for p in params]
        if any(str(v) in sql for v in sentinels.values()):
            raise RuntimeError("a pull value was inlined into SQL; it cannot be cached")
        entry = _SQL_CACHE[key] = (sql, slots)
    sql, slots = entry
    params = [values[name] if name else const for name, const in slots]
    cursor = execute_as_text(sql, params)  # uuids, times and dates as text on both engines: wire reads either
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


_TOUCHED_SQL: dict = {}


def touched(models: list, low: int, high: int) -> set:
    """Which of these tables hold any row changed in (low, high]: one query with an EXISTS per table on its rev
    index, so an everyday pull of a few changes asks only the tables that have some."""
    names = tuple(m._meta.table_name for m in models)
    key = (type(database.obj), names)
    sql = _TOUCHED_SQL.get(key)
    if sql is None:
        p = database.param
        sql = _TOUCHED_SQL[key] = "SELECT " + ", ".join(  # noqa: S608 - table names from the models
            f'EXISTS (SELECT 1 FROM "{name}" WHERE "rev" > {p} AND "rev" <= {p})' for name in names)  # noqa: S608
    row = database.execute_sql(sql, [low, high] * len(names)).fetchone()
    return {model for model, hit in zip(models, row, strict=True) if hit}


def _steady_query(src: Source, scope: PullScope, v: dict, revs_only: bool, tag: int = 0):
    """Changes in (v["low"], v["high"]] to records of people in scope since before the cursor (and resources);
    `revs_only`: just each row's rev, and `tag` to say which table it came from."""
    if revs_only:
        columns = (src.model.rev, peewee.SQL(str(int(tag))).alias("tag"))
        q = src.model.select(*columns) if src.revs_alone else src.select().select(*columns)
    else:
        q = src.select()
    q = q.where((src.model.rev > v["low"]) & (src.model.rev <= v["high"]))
    if src.person_col is not None:
        condition = people_filter(scope.kind, src.person_col(), v.get("scope"), v.get("cursor"))
        if condition is not None:
            q = q.where(condition)
    if src.owner_col is not None:
        q = q.where(src.owner_col() == v["owner"])
    return q


def _steady_values(srcs: list[Source], scope: PullScope, low: int, high: int) -> dict:
    values = {"low": low, "high": high}
    if scope.kind != ALL and any(src.person_col is not None for src in srcs):
        values.update(scope=scope.value, cursor=scope.cursor)
    if any(src.owner_col is not None for src in srcs):
        values["owner"] = scope.user_id
    return values


def steady_rows(src: Source, scope: PullScope, low: int, high: int, limit: int | None) -> list[dict]:
    """Changes in (low, high] to records of people in scope since before the cursor (and resources), in rev
    order, whole; at most `limit` of them."""

    def build(v):
        q = _steady_query(src, scope, v, False).order_by(src.model.rev, src.model.id)
        return q.limit(v["limit"]) if "limit" in v else q

    values = _steady_values([src], scope, low, high)
    if limit:
        values["limit"] = limit
    return _cached_rows(("steady", src.entity, scope.kind, bool(limit)), build, values)


def steady_revs(srcs: list[Source], scope: PullScope, low: int, high: int, limit: int) -> list[tuple[int, int]]:
    """The `limit` lowest revs of changes in (low, high] across these tables, each as (rev, index of its table in
    `srcs`), in one statement: a look along each table's rev index, merged, that stops at `limit` (to find where a
    page ends). A look per table read up to `limit` revs of each, most of them past the page's end when a table's
    changes are spread thin."""
    if not srcs:
        return []

    def build(v):
        arms = [_steady_query(src, scope, v, True, i) for i, src in enumerate(srcs)]
        union = arms[0]
        for arm in arms[1:]:
            union = union.union_all(arm)
        return union.order_by(peewee.SQL("1")).limit(v["limit"])

    values = _steady_values(srcs, scope, low, high)
    values["limit"] = limit
    rows = _cached_rows(("steady_revs", tuple(src.entity for src in srcs), scope.kind), build, values)
    return [(row["rev"], row["tag"]) for row in rows]


def joined_rows(src: Source, scope: PullScope, exact: int | None, limit: int | None) -> list[dict]:
    """The whole history of people who joined the caseload after the cursor, each record at the rev of its
    own last change or of the joining, whichever is later. Tombstones come too, however old: a device may
    still hold a record of someone who left and came back, and leaving out tombstones older than the cursor
    loses them when paging (a tombstone rides at the joining's rev, so a page can end past its own rev
    before it is sent, and the next page's cursor then filtered it out, leaving a deleted visit on a phone)."""

    def build(v):
        assignment = CaseloadAssignment.alias("joining")
        vrev = peewee.Case(None, [(assignment.rev > src.model.rev, assignment.rev)], src.model.rev)
        q = (src.select()
             .select_extend(vrev.alias("vrev"))
             .join_from(src.model, assignment, on=(
                 (assignment.person == src.person_col())
                 & (assignment.worker == v["scope"])
                 & assignment.ended_at.is_null()
                 & (assignment.rev > v["cursor"])
                 & (assignment.rev <= v["snapshot"])))
             .where(src.model.rev <= v["snapshot"]))
        if "exact" in v:
            q = q.where(vrev == v["exact"])
        q = q.order_by(vrev, src.model.id)
        return q.limit(v["limit"]) if "limit" in v else q

    values = {"scope": scope.value, "cursor": scope.cursor, "snapshot": scope.snapshot}
    if exact is not None:
        values["exact"] = exact
    if limit:
        values["limit"] = limit
    return _cached_rows(("joined", src.entity, exact is not None, bool(limit)), build, values)
