"""Bulk SQL for a push: many rows of one model in one prepared INSERT; rows named by a batch read in one prepared
SELECT each, as raw values (peewee's per-value conversion and model building cost more than the query); and
the new records of a batch (visits and their goal ratings, the usual day's push) checked first and written
together, in batch order, each with its rev, before anything else in the batch reads their tables."""

from __future__ import annotations

import datetime as dt
import io

import peewee

from ..db import database, is_postgres
from ..models import GoalProgress, Visit
from .revisions import next_rev

CHUNK = 500
# Field types whose values a push already holds in the driver's own form (validated ints, text, bools, dates,
# integer foreign keys): passed as they are. Others (UUIDs) go through the field's db_value.
_AS_IS = (peewee.IntegerField, peewee.CharField, peewee.TextField, peewee.BooleanField, peewee.DateTimeField,
          peewee.DateField, peewee.ForeignKeyField)


def _converter(f):
    return None if isinstance(f, _AS_IS) else f.db_value


def insert_rows(model, rows: list[dict]) -> None:
    """Many rows of one model in one statement: a prepared INSERT on SQLite, COPY on PostgreSQL (peewee's
    insert_many builds SQL per value, which was most of a busy push's time). Rows are keyed by field name and
    carry every column but `id`."""
    if not rows:
        return
    fields = [f for f in model._meta.sorted_fields if f.name != "id"]
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    into = f'"{model._meta.table_name}" ({columns})'
    plan = [(f.name, _converter(f)) for f in fields]
    params = [[row[name] if conv is None or row[name] is None else conv(row[name]) for name, conv in plan]
              for row in rows]
    with peewee.__exception_wrapper__:  # driver errors as peewee's (IntegrityError: apply_batch retries)
        if is_postgres():
            copy_rows(into, params)
        else:
            marks = ", ".join([database.param] * len(fields))
            database.cursor().executemany(f"INSERT INTO {into} VALUES ({marks})", params)  # noqa: S608 - model names


def copy_rows(into: str, params: list) -> None:
    """PostgreSQL: rows in through COPY, in its text format. A multi-row INSERT of the same rows cost about three
    times as much: the driver quoted every value into one long statement, and the server parsed it."""
    text = "".join("\t".join(map(_copy_value, row)) + "\n" for row in params)
    database.cursor().copy_expert(f"COPY {into} FROM STDIN", io.StringIO(text))


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    kind = type(value)
    if kind is str:
        return value.translate(_COPY_ESCAPES)
    if kind is bool:
        return "t" if value else "f"
    if kind is int:
        return str(value)
    if kind is dt.datetime:  # stored as UTC without a zone, as everywhere in the app
        return (value if value.tzinfo is None else value.astimezone(dt.UTC).replace(tzinfo=None)).isoformat()
    if kind is dt.date:
        return value.isoformat()
    return str(value).translate(_COPY_ESCAPES)


def select_in(columns: list, key, values) -> list[tuple]:
    """Raw rows of `columns` (fields of one model) whose `key` is one of `values`, CHUNK at a time. UUIDs come
    back as the driver gives them (hex text on SQLite, uuid.UUID on PostgreSQL): compare them with key_of()."""
    values = [v for v in values if v is not None]
    if not values:
        return []
    table = key.model._meta.table_name
    names = ", ".join(f'"{c.column_name}"' for c in columns)
    out = []
    for start in range(0, len(values), CHUNK):
        chunk = values[start:start + CHUNK]
        marks = ", ".join([database.param] * len(chunk))
        sql = f'SELECT {names} FROM "{table}" WHERE "{key.column_name}" IN ({marks})'  # noqa: S608 - model names
        out.extend(database.execute_sql(sql, [key.db_value(v) for v in chunk]).fetchall())
    return out


def key_of(value) -> str | None:
    """A UUID (object, hex or text with dashes) as 32 hex digits: one key for ids from the wire and the database."""
    if value is None:
        return None
    if type(value) is str:
        return value if len(value) == 32 else value.replace("-", "").lower()
    return value.hex


def _default(field):
    return field.default() if callable(field.default) else field.default


def defaults(model) -> dict:
    """Every column of a new row of `model` but `id`, at its default, so the rows of one INSERT agree."""
    return {name: _default(f) for name, f in model._meta.fields.items() if name != "id"}


class LateRev:
    """The rev of a deferred new record: given when its row is written (flush), under the counter lock, so
    the checks before it run without the lock. Resolved in every answer before it leaves."""

    __slots__ = ("value",)

    def __init__(self):
        self.value: int | None = None


class NewVisitRef:
    """A goal rating's visit that is itself new in this batch: its integer id is known once it is written."""

    __slots__ = ("uuid",)

    def __init__(self, uuid):
        self.uuid = uuid


class Deferred:
    """New visits and goal ratings waiting to be written, in batch order."""

    ORDER = (Visit, GoalProgress)  # parents first: a rating may name a visit of the same flush

    def __init__(self):
        self.rows: list[tuple[type, dict]] = []

    def __bool__(self) -> bool:
        return bool(self.rows)

    def add(self, model, row: dict) -> LateRev:
        row["rev"] = LateRev()
        self.rows.append((model, row))
        return row["rev"]

    def flush(self) -> None:
        """Give the waiting rows their revs in batch order and write them, one INSERT per table."""
        if not self.rows:
            return
        rows, self.rows = self.rows, []
        first = next_rev(len(rows)) - len(rows)
        for i, (_, row) in enumerate(rows, 1):
            row["rev"].value = first + i
            row["rev"] = first + i
        by_model = {model: [row for m, row in rows if m is model] for model in self.ORDER}
        insert_rows(Visit, by_model[Visit])
        ratings = by_model[GoalProgress]
        pending = {key_of(row["visit"].uuid): row["visit"].uuid for row in ratings
                   if isinstance(row["visit"], NewVisitRef)}
        if pending:  # the new visits' ids, just written: read raw, as the batch's other lookups are
            ids = {key_of(u): vid for u, vid in select_in([Visit.uuid, Visit.id], Visit.uuid, list(pending.values()))}
            for row in ratings:
                if isinstance(row["visit"], NewVisitRef):
                    row["visit"] = ids[key_of(row["visit"].uuid)]
        insert_rows(GoalProgress, ratings)
