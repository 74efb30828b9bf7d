"""The one change sequence. Every write to a synced record takes its `rev` from here, inside the
writing transaction: the counter row is locked until commit, so revs become visible in order and a
pull cursor never skips a change (on SQLite the whole write holds the database lock)."""

from __future__ import annotations

import sqlite3

from peewee import PostgresqlDatabase

from .models import ChangeCounter

COUNTER = "changes"


def next_rev(count: int = 1) -> int:
    """Reserve `count` revs and return the last; call inside db.write_transaction()."""
    db = ChangeCounter._meta.database
    if isinstance(db.obj, PostgresqlDatabase) or sqlite3.sqlite_version_info >= (3, 35):
        # One round trip instead of two: sync's hot path takes a rev per mutation. Only constants in the SQL.
        sql = (f'UPDATE "{ChangeCounter._meta.table_name}" SET "value" = "value" + {db.obj.param} '  # noqa: S608
               f'WHERE "name" = {db.obj.param} RETURNING "value"')
        return db.execute_sql(sql, (count, COUNTER)).fetchall()[0][0]
    (ChangeCounter
     .update(value=ChangeCounter.value + count)
     .where(ChangeCounter.name == COUNTER)
     .execute())
    return ChangeCounter.get(ChangeCounter.name == COUNTER).value


def current_rev() -> int:
    row = ChangeCounter.get_or_none(ChangeCounter.name == COUNTER)
    return row.value if row else 0
