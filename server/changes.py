"""The one change sequence. Every write to a synced record takes its `rev` from here, inside the
writing transaction: the counter row is locked until commit, so revs become visible in order and a
pull cursor never skips a change (on SQLite the whole write holds the database lock)."""

from __future__ import annotations

from .models import ChangeCounter

COUNTER = "changes"


def next_rev(count: int = 1) -> int:
    """Reserve `count` revs and return the last; call inside db.write_transaction()."""
    (ChangeCounter
     .update(value=ChangeCounter.value + count)
     .where(ChangeCounter.name == COUNTER)
     .execute())
    return ChangeCounter.get(ChangeCounter.name == COUNTER).value


def current_rev() -> int:
    row = ChangeCounter.get_or_none(ChangeCounter.name == COUNTER)
    return row.value if row else 0
