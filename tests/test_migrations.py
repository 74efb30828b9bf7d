"""Migrations: from empty on both engines, recorded, re-runnable, and the result matches the models."""

import importlib

import peewee

from server import db as dbmod
from server.models import ALL_MODELS, ChangeCounter


def test_all_migrations_recorded_and_rerun_is_a_noop(app):
    names = dbmod.migration_names()
    assert names[0] == "0001_initial"
    with dbmod.database.connection_context():
        assert dbmod.applied_migrations() == set(names)
        assert dbmod.pending_migrations() == []
    assert dbmod.upgrade() == []  # running again changes nothing


def test_schema_matches_models(app):
    """Every model column exists in the migrated database with the same nullability, and no model is
    missing its table: models.py and migrations/ cannot drift apart silently."""
    database = dbmod.database.obj
    with database.connection_context():
        for model in ALL_MODELS:
            table = model._meta.table_name
            assert database.table_exists(table), table
            columns = {c.name: c for c in database.get_columns(table)}
            for field in model._meta.sorted_fields:
                assert field.column_name in columns, f"{table}.{field.column_name} missing"
                assert columns[field.column_name].null == field.null, f"{table}.{field.column_name} nullability"
            extra = set(columns) - {f.column_name for f in model._meta.sorted_fields}
            assert not extra, f"{table} has columns the model lacks: {extra}"


def test_model_indexes_exist(app):
    database = dbmod.database.obj
    with database.connection_context():
        for model in ALL_MODELS:
            table = model._meta.table_name
            present = {tuple(i.columns) for i in database.get_indexes(table)}
            for fields, _unique in model._meta.indexes:
                columns = tuple(model._meta.fields[f].column_name for f in fields)
                assert columns in present, f"index {columns} missing on {table}"


def test_every_foreign_key_is_the_start_of_an_index(app):
    """A foreign key without an index of its own (0094 dropped those that only repeated the start of another)
    still begins one: deleting a person, user or goal checks and cascades through it, and the queries that
    follow it from the parent read it."""
    database = dbmod.database.obj
    with database.connection_context():
        for model in ALL_MODELS:
            table = model._meta.table_name
            starts = {tuple(i.columns)[:1] for i in _whole_indexes(database, table)}
            for field in model._meta.sorted_fields:
                if isinstance(field, peewee.ForeignKeyField) and not field.primary_key:
                    assert (field.column_name,) in starts, f"{table}.{field.column_name} begins no index"


def test_0094_dropped_the_indexes_that_repeated_the_start_of_another(app):
    migration = importlib.import_module("server.migrations.0094_fewer_visit_indexes")
    database = dbmod.database.obj
    with database.connection_context():
        for name, table, columns in migration.DROPPED:
            present = {tuple(i.columns) for i in _whole_indexes(database, table)}
            wanted = tuple(c.strip() for c in columns.split(","))
            assert wanted not in present, name
            assert any(cols[:len(wanted)] == wanted and len(cols) > len(wanted) for cols in present), name
            assert name not in {i.name for i in database.get_indexes(table)}


def _whole_indexes(database, table) -> list:
    """The table's indexes over every row (a partial index, with WHERE, serves only its own queries)."""
    return [i for i in database.get_indexes(table) if " WHERE " not in (i.sql or "").upper()]


def test_change_counter_seeded(app):
    with dbmod.database.connection_context():
        assert ChangeCounter.get(ChangeCounter.name == "changes").value == 0


def test_upgrade_from_empty_sqlite(tmp_path):
    database = peewee.SqliteDatabase(str(tmp_path / "fresh.db"), pragmas=dbmod.SQLITE_PRAGMAS)
    dbmod.bind(database)
    ran = dbmod.upgrade()
    assert ran == dbmod.migration_names()
    assert dbmod.upgrade() == []
    with database.connection_context():
        assert database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert database.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
        assert database.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_upgrade_from_empty_postgres(postgres_url):
    """A second, empty PostgreSQL database migrated from nothing (the shared one is migrated once per run)."""
    import uuid

    import psycopg2

    name = f"alongside_mig_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(postgres_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        url = postgres_url.rsplit("/", 1)[0] + "/" + name
        database = dbmod.make_database(url, None)
        dbmod.bind(database)
        assert dbmod.upgrade() == dbmod.migration_names()
        assert dbmod.upgrade() == []
        dbmod.dispose()
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


def test_later_migrations_keep_existing_rows(tmp_path):
    """A database that holds real data at 0001 keeps every row through all later migrations (on SQLite an
    ALTER rebuilds the table; with foreign keys on, that would cascade-delete everything pointing at it)."""
    import datetime as dt
    import uuid

    database = peewee.SqliteDatabase(str(tmp_path / "old.db"), pragmas=dbmod.SQLITE_PRAGMAS)
    dbmod.bind(database)
    assert dbmod.upgrade(until="0001_initial") == ["0001_initial"]
    now = dt.datetime(2026, 1, 5, 10, 0)
    with database.connection_context():
        sql = database.execute_sql
        sql("INSERT INTO team (uuid, name, created_at) VALUES (?, 'T', ?)", (uuid.uuid4().hex, now))
        sql("INSERT INTO user (uuid, email, name, role, team_id, active, password_hash, created_at) "
            "VALUES (?, 'w@x.test', 'W', 'peer_worker', 1, 1, 'h', ?)", (uuid.uuid4().hex, now))
        sql("INSERT INTO person (uuid, rev, deleted, created_at, updated_at, team_id, display_name, preferred_contact, "
            "status, reminders_opt_in, added_in_field) VALUES (?, 1, 0, ?, ?, 1, 'P', '', 'active', 1, 0)",
            (uuid.uuid4().hex, now, now))
        sql("INSERT INTO caseload_assignment (person_id, worker_id, started_at, rev) VALUES (1, 1, ?, 2)", (now,))
        sql("INSERT INTO visit (uuid, rev, deleted, created_at, updated_at, person_id, author_id, started_at, "
            "duration_minutes, mode, location_type, attendance, group_session, notes, goal_ids, concern, "
            "concern_notes, concern_ack_note) VALUES (?, 3, 0, ?, ?, 1, 1, ?, 60, '01', 'A01', '5', 0, 'n', '[]', "
            "'none', '', '')", (uuid.uuid4().hex, now, now, now))
        sql("INSERT INTO goal (uuid, rev, deleted, created_at, updated_at, person_id, title, life_area, steps, status) "
            "VALUES (?, 4, 0, ?, ?, 1, 'G', '', '', 'active')", (uuid.uuid4().hex, now, now))
        sql("INSERT INTO reminder (uuid, person_id, kind, visit_id, body, send_at, status, attempts, last_error, "
            "created_at) VALUES (?, 1, 'visit_soon', 1, 'Reminder', ?, 'pending', 0, '', ?)",
            (uuid.uuid4().hex, now, now))
    before = {t: _count(database, t) for t in ("person", "caseload_assignment", "visit", "goal", "reminder")}
    assert all(before.values())
    assert dbmod.upgrade() == dbmod.migration_names()[1:]
    after = {t: _count(database, t) for t in before}
    assert after == before
    with database.connection_context():
        assert database.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
        assert database.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"


def _count(database, table):
    with database.connection_context():
        return database.execute_sql(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
