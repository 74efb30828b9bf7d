"""Rebinding or disposing the database never closes a SQLite connection another thread is still using:
closing one under a running statement crashes the whole process (it did, in a browser test whose request
was still running when the next test started)."""

from __future__ import annotations

import shutil
import threading

from server import db as dbmod


def _hold_a_connection(database, ready: threading.Event, go_on: threading.Event, out: dict) -> None:
    try:
        database.connect(reuse_if_open=True)
        database.execute_sql("SELECT 1").fetchone()
        ready.set()
        go_on.wait(10)
        out["row"] = database.execute_sql("SELECT count(*) FROM team").fetchone()
        database.close()
    except Exception as exc:  # noqa: BLE001 - reported to the test below
        out["error"] = repr(exc)
        ready.set()


def _run_while_another_thread_holds_a_connection(tmp_path, sqlite_template, action) -> dict:
    path = tmp_path / "pool.db"
    shutil.copy(sqlite_template, path)
    old = dbmod.make_database(f"sqlite:///{path}", tmp_path)
    dbmod.bind(old)
    ready, go_on, out = threading.Event(), threading.Event(), {}
    thread = threading.Thread(target=_hold_a_connection, args=(old, ready, go_on, out))
    thread.start()
    assert ready.wait(10)
    try:
        action(tmp_path)
    finally:
        go_on.set()
        thread.join(10)
    dbmod.dispose()
    return out


def test_rebinding_leaves_another_threads_sqlite_connection_working(tmp_path, sqlite_template):
    def rebind(tmp):
        dbmod.bind(dbmod.make_database(f"sqlite:///{tmp / 'other.db'}", tmp))

    out = _run_while_another_thread_holds_a_connection(tmp_path, sqlite_template, rebind)
    assert out == {"row": (0,)}


def test_disposing_leaves_another_threads_sqlite_connection_working(tmp_path, sqlite_template):
    out = _run_while_another_thread_holds_a_connection(tmp_path, sqlite_template, lambda tmp: dbmod.dispose())
    assert out == {"row": (0,)}


def test_disposing_closes_idle_sqlite_connections(tmp_path, sqlite_template):
    path = tmp_path / "idle.db"
    shutil.copy(sqlite_template, path)
    database = dbmod.make_database(f"sqlite:///{path}", tmp_path)
    dbmod.bind(database)
    database.connect()
    database.execute_sql("SELECT 1")
    database.close()  # back to the pool, idle
    assert len(database._connections) == 1
    dbmod.dispose()
    assert database._connections == [] and database.is_closed()
