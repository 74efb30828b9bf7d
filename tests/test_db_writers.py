"""How writers share the database: the change counter handed out in blocks, SQLite writers queued on a
file lock across processes, PostgreSQL connections pooled. Real databases, both engines where it applies."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import peewee
import pytest
from helpers import api_login
from sync_support import mutation, new_id, person_on_caseload, visit_fields

from server import db as dbmod
from server import sync
from server.db import database, write_transaction
from server.models import ChangeCounter, Visit
from server.sync import revisions as changes

ROOT = Path(__file__).resolve().parent.parent


def stored_counter() -> int:
    return ChangeCounter.get(ChangeCounter.name == changes.COUNTER).value


# --- the change counter ------------------------------------------------------------------------

def test_a_reserved_block_hands_out_revs_in_order_and_stores_the_last_once(app):
    start = stored_counter()
    with write_transaction(), changes.reserved():
        revs = [changes.next_rev() for _ in range(5)] + [changes.next_rev(3)]
        assert changes.current_rev() == start + 8  # inside the block, the block's own count
        with changes.reserved():  # nested: the same block, not a second lock
            revs.append(changes.next_rev())
    assert revs == [start + 1, start + 2, start + 3, start + 4, start + 5, start + 8, start + 9]
    assert stored_counter() == start + 9
    with write_transaction():
        assert changes.next_rev() == start + 10  # after the block, back to the stored counter


def test_a_failed_block_stores_nothing_and_its_revs_are_given_again(app):
    start = stored_counter()
    with pytest.raises(RuntimeError), write_transaction(), changes.reserved():
        changes.next_rev(4)
        raise RuntimeError("the batch failed")
    assert stored_counter() == start
    with write_transaction():
        assert changes.next_rev() == start + 1


def test_a_mutation_rolled_back_inside_a_batch_leaves_a_gap_never_a_reused_rev(app, worker):
    """A savepoint that rolls back inside the block does not give its revs back: the next mutation gets a
    higher rev, and no two records share one."""
    person = person_on_caseload(worker)
    device = sync.register_device(worker, "Phone")
    start = stored_counter()
    with write_transaction(), changes.reserved():
        first = changes.next_rev()
        with pytest.raises(RuntimeError), database.atomic():
            changes.next_rev()
            raise RuntimeError("this mutation is rejected half-way")
        later = changes.next_rev()
    assert (first, later) == (start + 1, start + 3)
    results = sync.apply_batch(worker, device, [mutation("visit", new_id(), visit_fields(person.uuid))
                                                for _ in range(3)])
    revs = [r["rev"] for r in results]
    assert revs == sorted(set(revs)) and revs[0] > later
    assert sorted(v.rev for v in Visit.select()) == revs
    assert stored_counter() == revs[-1]


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_the_counter_is_locked_at_the_first_rev_not_before(app, db_url):
    """A push's checks run before it holds the counter: other writers are not held up by them."""
    import psycopg2

    other = psycopg2.connect(db_url)
    try:
        def other_can_lock() -> bool:
            with other.cursor() as cur:
                try:
                    cur.execute("SELECT value FROM change_counter WHERE name = 'changes' FOR UPDATE NOWAIT")
                    return True
                except psycopg2.errors.LockNotAvailable:
                    return False
                finally:
                    other.rollback()

        with write_transaction(), changes.reserved():
            assert other_can_lock()
            changes.hold()
            assert not other_can_lock()
            changes.next_rev()
        assert other_can_lock()
    finally:
        other.close()


# --- SQLite: writers queue on a file lock ------------------------------------------------------

# The writers' file lock is SQLite's (PostgreSQL writers take row locks): these run on SQLite only.
only_sqlite = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
only_postgres = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)


@pytest.fixture
def sqlite_app(app):
    assert dbmod.is_sqlite()
    return app


def _writer_lock_is_free(path: str) -> bool:
    fd = os.open(f"{path}-writer", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


@only_sqlite
def test_a_sqlite_write_holds_the_file_lock_other_processes_queue_on(sqlite_app):
    path = database.obj.database
    assert _writer_lock_is_free(path)
    with write_transaction():
        assert not _writer_lock_is_free(path)
        with write_transaction():  # nested: a savepoint, not a second lock (which would wait for ever)
            changes.next_rev()
        assert not _writer_lock_is_free(path)
    assert _writer_lock_is_free(path)


@only_sqlite
def test_a_sqlite_writer_in_another_process_waits_its_turn_then_writes(sqlite_app):
    """Another process holds the write lock for a moment; our write waits for it (without SQLite's busy
    handler, whose timeout is set to almost nothing here) and then goes through."""
    path = database.obj.database
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from server import db
        from server.sync.revisions import next_rev
        database = db.make_database("sqlite:///{path}", None)
        db.bind(database)
        with database.connection_context(), db.write_transaction():
            next_rev()
            print("holding", flush=True)
            time.sleep(0.8)
        print("released", flush=True)
    """)
    other = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "holding"
        database.execute_sql("PRAGMA busy_timeout = 1")
        start = time.monotonic()
        with write_transaction():
            rev = changes.next_rev()
        waited = time.monotonic() - start
        assert other.wait(timeout=30) == 0
    finally:
        other.kill()
    assert waited > 0.2  # it queued behind the other process instead of failing with "database is locked"
    assert stored_counter() == rev


@only_sqlite
def test_a_stuck_writer_elsewhere_gives_a_clear_error_not_a_hang(sqlite_app, monkeypatch):
    path = database.obj.database
    fd = os.open(f"{path}-writer", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as another process would while writing
        monkeypatch.setattr(dbmod, "WRITE_WAIT_SECONDS", 0.3)
        start = stored_counter()
        with pytest.raises(peewee.OperationalError, match="database is locked"), write_transaction():
            changes.next_rev()
    finally:
        os.close(fd)
    assert stored_counter() == start
    with write_transaction():  # and once it is free, writing works again
        assert changes.next_rev() == start + 1


@only_sqlite
def test_threads_of_one_process_take_turns_at_writing(sqlite_app, worker):
    """Eight threads push at once to one SQLite file: all applied, revs unique, nothing 'database is locked'."""
    person = person_on_caseload(worker)
    device = sync.register_device(worker, "Phone")
    results, errors = [], []

    def push():
        try:
            batch = [mutation("visit", new_id(), visit_fields(person.uuid)) for _ in range(5)]
            with database.connection_context():
                results.extend(sync.apply_batch(worker, device, batch))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    database.close()  # each thread opens its own connection to the same file
    threads = [threading.Thread(target=push) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert [r["status"] for r in results] == ["applied"] * 40
    assert len({r["rev"] for r in results}) == 40
    assert Visit.select().count() == 40


# --- PostgreSQL: pooled connections ---------------------------------------------------------------

@only_postgres
def test_postgres_requests_reuse_pooled_connections(app, client):
    database.close()
    pids = set()
    for _ in range(5):
        assert client.get("/healthz").status_code == 200
        with database.connection_context():
            pids.add(database.execute_sql("SELECT pg_backend_pid()").fetchone()[0])
    assert len(pids) == 1  # one server process served them all: no new connection per request
    dbmod.dispose()
    assert database.obj._in_use == {} and database.obj._connections == []


@only_postgres
def test_a_pooled_connection_the_server_dropped_is_replaced_not_a_500(app, client, postgres_url, worker):
    """PostgreSQL restarted, or an idle connection killed: the next request gets a fresh connection."""
    import psycopg2

    database.close()
    with database.connection_context():
        pid = database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    admin = psycopg2.connect(postgres_url)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
    finally:
        admin.close()
    csrf = api_login(client, worker)
    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200 and csrf
    with database.connection_context():
        assert database.execute_sql("SELECT pg_backend_pid()").fetchone()[0] != pid
