"""Pull: everything in a user's scope that changed after a cursor, oldest first, a page at a time ending on a
rev boundary; a person's whole history when they join a caseload, and `purge` when they leave (scope.py says
who; pull_queries.py holds the SQL)."""

from __future__ import annotations

from ..db import database
from ..models import Conflict, Device, Goal, GoalProgress, Person, Referral, Review, User, Visit
from . import wire
from .devices import touch_device
from .pull_queries import ORDER, joined_rows, sources, steady_rows, touched
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
        found: list[tuple] = []  # (rev, order, id, source, row)
        truncated: list[tuple] = []  # (source, kind, highest rev fetched)
        all_sources = sources()
        changed = touched([src.model for src in all_sources], cursor, snapshot)
        for src in all_sources:
            runs = [("steady", steady_rows(src, scope, cursor, snapshot, limit + 1) if src.model in changed else [])]
            if scope.joined and src.person_col is not None:
                runs.append(("joined", joined_rows(src, scope, None, limit + 1)))
            for kind, rows in runs:
                for row in rows:
                    rev = row["vrev"] if kind == "joined" else row["rev"]
                    found.append((rev, ORDER[src.entity], row["id"], src, row))
                if len(rows) > limit:
                    top = rows[-1]["vrev"] if kind == "joined" else rows[-1]["rev"]
                    truncated.append((src, kind, top))
        found.sort(key=lambda item: item[:3])
        if truncated or len(found) > limit:
            upto = found[limit - 1][0]
            for src, kind, top in truncated:
                if top == upto:  # this source may hold more rows at exactly `upto`: fetch them all
                    seen = {item[2] for item in found if item[3] is src}
                    rows = (steady_rows(src, scope, upto - 1, upto, None) if kind == "steady"
                            else joined_rows(src, scope, upto, None))
                    for row in rows:
                        if row["id"] not in seen:
                            found.append((upto, ORDER[src.entity], row["id"], src, row))
            found.sort(key=lambda item: item[:3])
            more = bool(truncated) or found[-1][0] > upto
            page = [item for item in found if item[0] <= upto]
            # Nothing left beyond this page (one rev's group made it long): the page reaches the snapshot, so
            # purges after `upto` come with it instead of being skipped by the cursor.
            next_cursor = upto if more else snapshot
        else:
            page, more, next_cursor = found, False, snapshot
        purge = _purge(scope, next_cursor)
        changes = [wire.change(item[3].entity, item[4], item[0]) for item in page]
    touch_device(device, synced=not more)
    return {"changes": changes, "purge": purge, "cursor": next_cursor, "more": more}


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
