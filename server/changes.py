"""The one change sequence. Every write to a synced record takes its `rev` from here, inside the
writing transaction: the counter row is locked until commit, so revs become visible in order and a
pull cursor never skips a change (on SQLite the whole write holds the database lock).

A sync push takes many revs in one transaction; `reserved()` locks the counter once, at the first rev it
needs (so a batch's checks run before it), hands revs out from memory and writes the counter back once
before commit, instead of one UPDATE per mutation."""

from __future__ import annotations

import contextlib
import sqlite3
import threading

from peewee import PostgresqlDatabase

from .models import ChangeCounter

COUNTER = "changes"

# While reserved(): .revs is [] until the first rev is asked for, then [value read under the lock, highest
# rev handed out]; None outside a block.
_block = threading.local()


def _sql(db, text: str) -> str:
    return text.format(table=ChangeCounter._meta.table_name, p=db.obj.param)


def next_rev(count: int = 1) -> int:
    """Reserve `count` revs and return the last; call inside db.write_transaction()."""
    revs = getattr(_block, "revs", None)
    if revs is not None:
        hold()
        revs[1] += count
        return revs[1]
    db = ChangeCounter._meta.database
    if isinstance(db.obj, PostgresqlDatabase) or sqlite3.sqlite_version_info >= (3, 35):
        # One round trip instead of two. Only constants in the SQL.
        sql = _sql(db, 'UPDATE "{table}" SET "value" = "value" + {p} WHERE "name" = {p} RETURNING "value"')
        return db.execute_sql(sql, (count, COUNTER)).fetchall()[0][0]
    (ChangeCounter
     .update(value=ChangeCounter.value + count)
     .where(ChangeCounter.name == COUNTER)
     .execute())
    return ChangeCounter.get(ChangeCounter.name == COUNTER).value


def _locked_value() -> int:
    db = ChangeCounter._meta.database
    select = 'SELECT "value" FROM "{table}" WHERE "name" = {p}'
    if isinstance(db.obj, PostgresqlDatabase):
        select += " FOR UPDATE"  # held until commit; SQLite's write lock already covers it
    return db.execute_sql(_sql(db, select), (COUNTER,)).fetchall()[0][0]


def hold() -> None:
    """Inside reserved(): take the counter lock now if it is not held yet. Call it outside any savepoint: a
    row lock taken inside one that rolls back is released with it (PostgreSQL), while the block would go on
    counting from the value it read."""
    revs = getattr(_block, "revs", None)
    if revs is not None and not revs:
        revs.extend([_locked_value()] * 2)


@contextlib.contextmanager
def reserved():
    """Inside a write transaction: the first next_rev() locks the counter row, later ones count in memory,
    and the new value is stored on the way out, before the commit. On an exception nothing is stored and the
    transaction's rollback undoes the rest. Revs of a mutation whose savepoint rolls back are skipped, never
    reused: a gap in the sequence is harmless to a pull cursor."""
    if getattr(_block, "revs", None) is not None:  # nested: the outer block already holds the counter
        yield
        return
    _block.revs = []
    try:
        yield
        revs = _block.revs
        if revs and revs[1] != revs[0]:
            db = ChangeCounter._meta.database
            db.execute_sql(_sql(db, 'UPDATE "{table}" SET "value" = {p} WHERE "name" = {p}'), (revs[1], COUNTER))
    finally:
        _block.revs = None


def current_rev() -> int:
    revs = getattr(_block, "revs", None)
    if revs:
        return revs[1]
    row = ChangeCounter.get_or_none(ChangeCounter.name == COUNTER)
    return row.value if row else 0
