"""Pull: everything in a user's scope that changed after a cursor, oldest first, a page at a time ending on a
rev boundary; a person's whole history when they join a caseload, and `purge` when they leave (scope.py says
who; pull_queries.py holds the SQL)."""

from __future__ import annotations

from ..db import database
from ..models import Conflict, Device, Goal, GoalProgress, Person, Referral, Review, User, Visit
from . import wire
from .devices import touch_device
from .pull_queries import ORDER, joined_rows, sources, steady_revs, steady_rows, touched
from .revisions import current_rev
from .scope import PullScope, pull_scope


def pull_changes(user: User, device: Device, cursor: int = 0, limit: int = 500) -> dict:
    """Everything in this user's scope that changed after `cursor`, oldest first, about `limit` at a time.
    A page always ends on a rev boundary; `cursor` in the answer is where the next pull starts."""
    # Every row with a rev up to the snapshot has committed (revs commit in order), and every query below is
    # bounded by it: a later commit waits for the next pull instead of slipping past the cursor.
    snapshot = current_rev()
    if snapshot <= cursor:  # nothing at all has changed since: no more queries
        touch_device(device, synced=True)
        return {"changes": [], "purge": [], "cursor": cursor, "more": False}
    with database.atomic():  # one read snapshot on SQLite as well
        scope = pull_scope(user, cursor, snapshot)
        page, more, next_cursor = _page(scope, cursor, snapshot, limit)
        purge = _purge(scope, next_cursor)
        changes = [wire.change(item[3].entity, item[4], item[0]) for item in page]
    touch_device(device, synced=not more)
    return {"changes": changes, "purge": purge, "cursor": next_cursor, "more": more}


# A first look at each changed table fetches this many whole rows: an everyday pull of a few changes is done in
# one query per table. A table with more (an initial pull) is then looked at by rev alone to find where the page
# ends, and only the rows up to there are fetched whole: not `limit` rows from every table to keep a few. When
# more changes were made everywhere since the cursor than `limit` times PROBE_SPAN, the first look is skipped
# (it would rarely be enough) and every changed table is looked at by rev first.
PROBE = 100
PROBE_SPAN = 4


def _page(scope: PullScope, cursor: int, snapshot: int, limit: int) -> tuple[list[tuple], bool, int]:
    """The page after `cursor`: [(rev, order, id, source, row)] sorted, whether there is more, the next cursor."""
    found: list[tuple] = []  # (rev, order, id, source, row)
    partial: list = []  # sources with more changes than the first look fetches: rows not fetched yet
    joined_cut: list[tuple] = []  # (source, highest vrev fetched) of joined histories cut at limit + 1
    all_sources = sources()
    changed = touched([src.model for src in all_sources], cursor, snapshot)
    probe = snapshot - cursor <= limit * PROBE_SPAN
    for src in all_sources:
        if src.model in changed:
            rows = steady_rows(src, scope, cursor, snapshot, PROBE + 1) if probe else None
            if rows is None or len(rows) > PROBE:
                partial.append(src)
            else:
                found.extend((row["rev"], ORDER[src.entity], row["id"], src, row) for row in rows)
        if scope.joined and src.person_col is not None:
            rows = joined_rows(src, scope, None, limit + 1)
            found.extend((row["vrev"], ORDER[src.entity], row["id"], src, row) for row in rows)
            if len(rows) > limit:
                joined_cut.append((src, rows[-1]["vrev"]))
    # The lowest limit + 1 revs of those tables together: every rev not among them is above them all, so the
    # page's end (the limit-th rev of everything) is found among these and `found`.
    partial_revs = steady_revs(partial, scope, cursor, snapshot, limit + 1)
    revs = sorted([item[0] for item in found] + [rev for rev, _ in partial_revs])
    cut = bool(joined_cut) or len(partial_revs) > limit
    upto = snapshot if not cut and len(revs) <= limit else revs[limit - 1]
    # Whose rows come up to the page's end: the tables seen at or below it; every table when the look was cut
    # at exactly that rev (a table not seen may hold rows sharing it).
    tied = len(partial_revs) > limit and partial_revs[-1][0] == upto
    reaching = set(range(len(partial))) if tied else {tag for rev, tag in partial_revs if rev <= upto}
    for i in sorted(reaching):  # every row up to the page's end, however many share its last rev
        src = partial[i]
        found.extend((row["rev"], ORDER[src.entity], row["id"], src, row)
                     for row in steady_rows(src, scope, cursor, upto, None))
    for src, top in joined_cut:
        if top == upto:  # this history may hold more rows at exactly `upto`: fetch them all
            seen = {item[2] for item in found if item[3] is src}
            found.extend((upto, ORDER[src.entity], row["id"], src, row)
                         for row in joined_rows(src, scope, upto, None) if row["id"] not in seen)
    found.sort(key=lambda item: item[:3])
    if upto == snapshot:
        return found, False, snapshot
    more = cut or revs[-1] > upto
    # Nothing left beyond this page (one rev's group made it long): the page reaches the snapshot, so purges
    # after `upto` come with it instead of being skipped by the cursor.
    return [item for item in found if item[0] <= upto], more, upto if more else snapshot


def _purge(scope: PullScope, upto: int) -> list[dict]:
    """People who left the caseload in (cursor, upto], with every record of theirs a device may hold."""
    gone = [pid for pid, rev in scope.left.items() if rev <= upto]
    if not gone:
        return []
    out = [{"entity": "person", "record_id": wire.uuid_str(u)}
           for (u,) in Person.select(Person.uuid).where(Person.id.in_(gone)).tuples()]
    queries = [
        ("goal", Goal.select(Goal.uuid).where(Goal.person.in_(gone))),
        ("visit", Visit.select(Visit.uuid).where(Visit.person.in_(gone))),
        ("goal_progress", GoalProgress.select(GoalProgress.uuid).join(Goal).where(Goal.person.in_(gone))),
        ("referral", Referral.select(Referral.uuid).where(Referral.person.in_(gone))),
        ("review", Review.select(Review.uuid).join(Visit).where(Visit.person.in_(gone))),
        ("conflict", Conflict.select(Conflict.uuid).where(Conflict.person.in_(gone))),
    ]
    for entity, query in queries:
        out.extend({"entity": entity, "record_id": wire.uuid_str(u)} for (u,) in query.tuples())
    return out
