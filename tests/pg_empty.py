"""Emptying a test's PostgreSQL database between tests: DELETE in reverse dependency order and sequences back to 1.
TRUNCATE ... RESTART IDENTITY CASCADE did the same in about 200 ms (a new file for each of the 34 tables and their
indexes); this takes about 15 ms, and the suite empties the database hundreds of times."""

from __future__ import annotations

from server.models import ALL_MODELS, ChangeCounter

# The sequences behind id columns (serial or identity), of the tables the app's models name.
_SEQUENCES = """SELECT s.relname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')
JOIN pg_class t ON t.oid = d.refobjid WHERE s.relkind = 'S' AND t.relname = ANY(%s)"""
_statements: dict[str, str] = {}  # per database name: the sequences are read once


def empty_postgres(database) -> None:
    """Every model's table empty, ids from 1 again, and the change counter at 0 (as after migrating)."""
    sql = _statements.get(database.database)
    if sql is None:
        tables = [m._meta.table_name for m in ALL_MODELS]
        sequences = [row[0] for row in database.execute_sql(_SEQUENCES, (tables,)).fetchall()]
        sql = _statements[database.database] = "; ".join(
            [f'DELETE FROM "{m._meta.table_name}"' for m in reversed(ALL_MODELS)]  # noqa: S608 - model names
            + [f'ALTER SEQUENCE "{name}" RESTART' for name in sequences])
    database.execute_sql(sql)
    ChangeCounter.create(name="changes", value=0)


def truncate_postgres(database) -> None:
    """The slow way, for a test that reads query plans: TRUNCATE also resets each table's planner statistics,
    which DELETE leaves as earlier tests (or their ANALYZE) made them."""
    tables = ", ".join(f'"{m._meta.table_name}"' for m in ALL_MODELS)
    database.execute_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")  # noqa: S608 - model names
    ChangeCounter.create(name="changes", value=0)
