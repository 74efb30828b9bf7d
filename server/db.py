"""The database: one unbound DatabaseProxy, bound at start-up to SQLite (embedded default) or
PostgreSQL (ALONGSIDE_DATABASE_URL, pooled); a connection per request; the migration runner."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import importlib
import os
import pkgutil
import threading
import time
from pathlib import Path

import peewee
from playhouse.db_url import connect as connect_url
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator

database = peewee.DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "synchronous": "normal",
}

MIGRATIONS_PACKAGE = "server.migrations"
PG_POOL_SIZE = 32  # per app process: above gunicorn's threads, well below PostgreSQL's max_connections


def make_database(url: str | None, instance: Path) -> peewee.Database:
    """Build (not bind) a database object from a URL; empty means SQLite under instance/."""
    if not url:
        instance.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{instance / 'alongside.db'}"
    if url.startswith("sqlite"):
        # Pooled too: closing SQLite's last connection to a file checkpoints and removes the WAL (about 10 ms,
        # on every request when each request opened its own), and an open connection keeps its page cache
        # warm. A connection serves one request at a time, whichever thread it is on.
        return connect_url(url.replace("sqlite://", "sqlite+pool://", 1), pragmas=SQLITE_PRAGMAS, timeout=10,
                           max_connections=PG_POOL_SIZE, stale_timeout=300, check_same_thread=False)
    if url.startswith(("postgres://", "postgresql://")):
        # Pooled: a new PostgreSQL connection is a new server process, costlier than most requests. A request
        # still opens and closes "its" connection; closing hands it back to the pool. Idle ones retire after
        # 5 minutes; a request waits up to 10 s for one when all are busy.
        return connect_url(url.replace("://", "+pool://", 1), max_connections=PG_POOL_SIZE, stale_timeout=300,
                           timeout=10)
    raise ValueError(f"Unsupported database URL scheme: {url.split(':', 1)[0]!r} (use sqlite or postgresql)")


def bind(db: peewee.Database) -> None:
    old = database.obj
    if old is not None and old is not db:
        _retire_pooled(old)  # a rebind (tests, benchmarks) retires the old pool's connections
    database.initialize(db)


def dispose() -> None:
    """Close this thread's connection and the pooled ones (tests, benchmarks, a process ending)."""
    if database.obj is not None:
        _retire_pooled(database.obj)


def _retire_pooled(db: peewee.Database) -> None:
    """Close a pool's connections. SQLite: only the idle ones. Closing a SQLite connection while another thread
    is running a statement on it crashes the whole process (a segmentation fault in sqlite3), so a connection
    still in use is left to its thread. PostgreSQL: in-use ones too, so no connection left open by a finished
    thread can hold a lock that the next TRUNCATE or DROP DATABASE would wait on."""
    if not db.is_closed():
        db.close()  # this thread's own connection (back to the pool, then closed below)
    if isinstance(db, peewee.SqliteDatabase):
        retire = getattr(db, "close_idle", None)
    else:
        retire = getattr(db, "close_all", None)
    if retire is not None:  # a pool (a plain database has only this thread's connection)
        retire()


def is_sqlite() -> bool:
    return isinstance(database.obj, peewee.SqliteDatabase)


def is_postgres() -> bool:
    return isinstance(database.obj, peewee.PostgresqlDatabase)


def execute_as_text(sql: str, params=()):
    """database.execute_sql, but on PostgreSQL uuids, timestamps and dates come back as PostgreSQL's text, as
    SQLite gives them, instead of uuid.UUID and datetime objects that the caller turns straight back into text
    (half of a big pull's Python time, and a third of an export's). For reads that write rows out as text: a
    sync pull's page, a CSV export."""
    if not is_postgres():
        return database.execute_sql(sql, params)
    import psycopg2.extensions

    cursor = database.cursor()
    for caster in _text_casters():  # before execute: psycopg2 picks a column's caster when the answer comes
        psycopg2.extensions.register_type(caster, cursor)
    with peewee.__exception_wrapper__:  # database errors as peewee's, as execute_sql gives them
        cursor.execute(sql, params)
    return cursor


@functools.cache
def _text_casters() -> tuple:
    import psycopg2.extensions as ext

    return (ext.new_type((2950,), "ALONGSIDE_UUID_TEXT", lambda value, cur: value),
            ext.new_type((1114,), "ALONGSIDE_TIMESTAMP_TEXT", lambda value, cur: value),
            ext.new_type((1082,), "ALONGSIDE_DATE_TEXT", lambda value, cur: value))


def write_transaction():
    """A transaction for writes. SQLite takes the write lock up front (BEGIN IMMEDIATE) so two writers
    never deadlock on a lock upgrade, and queues writers first (see _sqlite_writer); PostgreSQL uses row
    locks taken inside the transaction."""
    if is_sqlite():
        return _sqlite_writer()
    return database.atomic()


_WRITERS = threading.Lock()
WRITE_WAIT_SECONDS = 30
_writer = threading.local()


@contextlib.contextmanager
def _sqlite_writer():
    """SQLite has one writer at a time, and a writer that finds it busy waits by sleeping (up to 100 ms a
    try), which makes a slow tail under load. So writers queue instead: threads of one process on a lock
    (handed over at once), processes (gunicorn workers, the reminder dispatcher) on an flock of a file beside
    the database (polled every few ms). A nested write_transaction() is a savepoint."""
    if getattr(_writer, "depth", 0):
        _writer.depth += 1
        try:
            with database.atomic():
                yield
        finally:
            _writer.depth -= 1
        return
    path = database.obj.database
    on_disk = bool(path) and path != ":memory:" and not path.startswith("file:")
    if not _WRITERS.acquire(timeout=WRITE_WAIT_SECONDS):
        raise peewee.OperationalError("database is locked (waited for other writers in this process)")
    try:
        fd = os.open(f"{path}-writer", os.O_RDWR | os.O_CREAT, 0o600) if on_disk else None
        try:
            if fd is not None:
                _flock(fd)  # released by close
            _writer.depth = 1
            try:
                with database.atomic("IMMEDIATE"):
                    yield
            finally:
                _writer.depth = 0
        finally:
            if fd is not None:
                os.close(fd)
    finally:
        _WRITERS.release()


def _flock(fd: int) -> None:
    """Take the writers' file lock, polling in steps of at most 4 ms (SQLite's own busy handler sleeps up to
    100 ms), and give up like SQLite would after WRITE_WAIT_SECONDS rather than hang on a stuck writer."""
    deadline = time.monotonic() + WRITE_WAIT_SECONDS
    pause = 0.0005
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise peewee.OperationalError("database is locked (waited for writers in other processes)") from None
            time.sleep(pause)
            pause = min(pause * 2, 0.004)


def utcnow() -> dt.datetime:
    """Naive UTC: every stored time is UTC, converted only for display and scheduling."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def init_app(app) -> None:
    @app.before_request
    def _connect():
        database.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc):
        if not database.is_closed():
            database.close()


# --- migrations -------------------------------------------------------------------------------

class MigrationHistory(peewee.Model):
    name = peewee.CharField(primary_key=True, max_length=100)
    applied_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        database = database
        table_name = "migration_history"


def migration_names() -> list[str]:
    pkg = importlib.import_module(MIGRATIONS_PACKAGE)
    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if m.name[:4].isdigit())


def migrator_for(db: peewee.Database):
    if isinstance(db, peewee.PostgresqlDatabase):
        return PostgresqlMigrator(db)
    return SqliteMigrator(db)


def applied_migrations() -> set[str]:
    database.create_tables([MigrationHistory], safe=True)
    return {row.name for row in MigrationHistory.select(MigrationHistory.name)}


def pending_migrations() -> list[str]:
    done = applied_migrations()
    return [name for name in migration_names() if name not in done]


def upgrade(until: str | None = None) -> list[str]:
    """Apply pending migrations in order (up to and including `until`), each in its own transaction;
    returns what ran. Re-running is a no-op. On PostgreSQL an advisory lock stops two servers migrating
    at once. On SQLite, foreign keys are off while migrating: an ALTER that SQLite performs by rebuilding
    a table would otherwise cascade-delete every row that points at it. They are checked afterwards."""
    ran = []
    with database.connection_context():
        if is_postgres():
            database.execute_sql("SELECT pg_advisory_lock(72410)")
        if is_sqlite():
            database.execute_sql("PRAGMA foreign_keys = OFF")  # a no-op inside a transaction, so set it here
        try:
            for name in pending_migrations():
                if until is not None and name > until:
                    break
                module = importlib.import_module(f"{MIGRATIONS_PACKAGE}.{name}")
                with database.atomic():
                    if MigrationHistory.get_or_none(MigrationHistory.name == name):
                        continue  # another process applied it while we waited
                    module.up(migrator_for(database.obj), database.obj)
                    MigrationHistory.create(name=name)
                ran.append(name)
            if is_sqlite():
                broken = database.execute_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"Migration left {len(broken)} row(s) with broken references: {broken[:5]}")
        finally:
            if is_postgres():
                database.execute_sql("SELECT pg_advisory_unlock(72410)")
            if is_sqlite():
                database.execute_sql("PRAGMA foreign_keys = ON")
    return ran
