"""The one change sequence, and the one way a synced write is stamped. Every write to a synced record takes
its `rev` from here, inside the writing transaction: the counter row is locked until commit, so revs become
visible in order and a pull cursor never skips a change (on SQLite the whole write holds the database lock).
`stamp_change()` is how every writer (sync push, coordinator pages, the person's own pages) marks a record
changed: rev, `updated_at`, and for records that keep conflicts, each changed field's last change in
`field_revs` ({field: [rev, device id, user id]}, private to this module and the push's conflict check).

A sync push takes many revs in one transaction; `reserved()` locks the counter once, at the first rev it
needs (so a batch's checks run before it), hands revs out from memory and writes the counter back once
before commit, instead of one UPDATE per mutation."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterable

from peewee import PostgresqlDatabase

from ..db import utcnow
from ..models import ChangeCounter
from ..prepared import Prepared

COUNTER = "changes"
_COUNTER = Prepared(lambda name: ChangeCounter.select(ChangeCounter.value).where(ChangeCounter.name == name).limit(1)
                    .tuples(), name=ChangeCounter.name)  # every pull reads it first

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
    row = _COUNTER.first(name=COUNTER)
    return row[0] if row else 0


# --- stamping a change ------------------------------------------------------------------------------

def _id(value) -> int | None:
    return getattr(value, "id", value)


def stamp_change(record, fields: Iterable[str] = (), by=None, device=None, rev: int | None = None) -> int:
    """Mark `record` (a model instance, not yet saved) as changed now: a new rev (or `rev` when the caller
    already took one for several records of one change), `updated_at`, and, on records that keep conflicts,
    each of `fields` stamped as last changed by this user on this device (None for the coordinator pages and
    the person's own pages). The caller saves. Returns the rev."""
    rev = next_rev() if rev is None else rev
    record.rev = rev
    if hasattr(record, "updated_at"):
        record.updated_at = utcnow()
    if hasattr(record, "field_revs"):
        names = list(fields)
        if names:
            stamps = json.loads(record.field_revs or "{}")
            mark = [rev, _id(device), _id(by)]
            for name in names:
                stamps[name] = mark
            record.field_revs = json.dumps(stamps)
    return rev


def stamp_new(model, fields: Iterable[str] = (), by=None, device=None, rev: int | None = None) -> dict:
    """The stamp of a new record, as column values for `model.create(**values, **stamp_new(...))`."""
    rev = next_rev() if rev is None else rev
    now = utcnow()
    values = {"rev": rev, "created_at": now, "updated_at": now}
    if "field_revs" in model._meta.fields:
        mark = [rev, _id(device), _id(by)]
        values["field_revs"] = json.dumps({name: mark for name in fields})
    return values


def stamp_values(record, fields: Iterable[str], by=None, device=None, rev: int | None = None) -> dict:
    """The stamp of a change as column values for an `UPDATE` (`Model.update(**values, **stamp_values(...))`),
    read from the row as it is now: call it under the counter lock (it takes the rev first), so no other
    writer's field stamps are lost between the read and the update."""
    rev = next_rev() if rev is None else rev
    values = {"rev": rev, "updated_at": utcnow()}
    if "field_revs" in type(record)._meta.fields:
        fresh = type(record).get_by_id(record.id)
        stamps = json.loads(fresh.field_revs or "{}")
        mark = [rev, _id(device), _id(by)]
        for name in fields:
            stamps[name] = mark
        values["field_revs"] = json.dumps(stamps)
    return values


def field_stamps(record) -> dict:
    """{field: [rev, device id, user id]} of a record's last change per field."""
    return json.loads(getattr(record, "field_revs", None) or "{}")


def changed_elsewhere(stamp, base_rev: int, device_id: int) -> bool:
    """True when a field's last change landed after `base_rev` (what the pushing device had seen) from
    another device: the push overwrites it, so the overwritten value is kept as a conflict."""
    return bool(stamp) and stamp[0] > base_rev and stamp[1] != device_id


def stamp_author(stamp) -> int | None:
    """The user who made a field's last change."""
    return stamp[2] if stamp else None
