"""Bulk writes for a push: many rows of one model in one prepared INSERT, and the new records of a batch
(visits and their goal ratings, the usual day's push) checked first and written together, in batch order,
each with its rev, before anything else in the batch reads their tables."""

from __future__ import annotations

import peewee

from ..db import database, is_postgres
from ..models import GoalProgress, Visit
from .revisions import next_rev


def insert_rows(model, rows: list[dict]) -> None:
    """Many rows of one model in one prepared INSERT (peewee's insert_many builds SQL per value, which is
    most of a busy push's time). Rows are keyed by field name and carry every column but `id`."""
    if not rows:
        return
    fields = [f for f in model._meta.sorted_fields if f.name != "id"]
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    marks = ", ".join([database.param] * len(fields))
    sql = f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({marks})'  # noqa: S608 - names from the model
    params = [[f.db_value(row[f.name]) for f in fields] for row in rows]
    with peewee.__exception_wrapper__:  # driver errors as peewee's (IntegrityError: apply_batch retries)
        _insert(sql, marks, params)


def _insert(sql: str, marks: str, params: list) -> None:
    if is_postgres():
        import psycopg2.extras  # noqa: PLC0415 - PostgreSQL only. executemany is a round trip per row

        psycopg2.extras.execute_values(database.cursor(), sql.replace(f"({marks})", "%s"), params,
                                       page_size=len(params))
    else:
        database.cursor().executemany(sql, params)


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
        pending = {row["visit"].uuid for row in ratings if isinstance(row["visit"], NewVisitRef)}
        if pending:
            ids = dict(Visit.select(Visit.uuid, Visit.id).where(Visit.uuid.in_(list(pending))).tuples())
            for row in ratings:
                if isinstance(row["visit"], NewVisitRef):
                    row["visit"] = ids[row["visit"].uuid]
        insert_rows(GoalProgress, ratings)
