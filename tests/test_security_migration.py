"""Migration 0050 (two-step sign-in, sessions' devices, sign-in throttle, the audit page's index) on both engines,
and from the schema before it with an existing user, who keeps everything and has no second step yet."""

from __future__ import annotations

import peewee

from server import db as dbmod


def test_0050_tables_columns_and_index(app):
    assert "0050_two_step_sign_in" not in dbmod.pending_migrations()
    database = dbmod.database.obj
    with database.connection_context():
        columns = {c.name for c in database.get_columns("user")}
        assert {"totp_secret", "totp_pending", "totp_enabled_at", "totp_last_step"} <= columns
        for table in ("recovery_code", "session_device", "sign_in_throttle"):
            assert database.table_exists(table), table
        indexes = {tuple(i.columns) for i in database.get_indexes("applied_mutation")}
        assert ("user_id", "created_at") in indexes
        assert ("user_id", "code_hash") in {tuple(i.columns) for i in database.get_indexes("recovery_code")}


def test_0050_keeps_existing_users(tmp_path):
    database = peewee.SqliteDatabase(str(tmp_path / "old.db"), pragmas=dbmod.SQLITE_PRAGMAS)
    dbmod.bind(database)
    dbmod.upgrade(until="0049")
    with database.connection_context():
        database.execute_sql(
            "INSERT INTO team (uuid, name, created_at) VALUES ('0b5f9a6e2d6c4f3a9e1f0a1b2c3d4e5f', 'T', '2026-01-01')")
        database.execute_sql(
            'INSERT INTO "user" (uuid, email, name, role, team_id, active, password_hash, created_at) VALUES '
            "('1b5f9a6e2d6c4f3a9e1f0a1b2c3d4e5f', 'c@example.test', 'C', 'coordinator', 1, 1, 'h', '2026-01-01')")
    assert "0050_two_step_sign_in" in dbmod.upgrade()
    with database.connection_context():
        row = database.execute_sql('SELECT email, totp_secret, totp_enabled_at FROM "user"').fetchone()
    assert row == ("c@example.test", None, None)
    dbmod.dispose()
