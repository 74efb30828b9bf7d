"""The database: one unbound DatabaseProxy, bound at start-up to SQLite (embedded default) or
PostgreSQL (ALONGSIDE_DATABASE_URL); a connection per request; the migration runner."""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
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


def make_database(url: str | None, instance: Path) -> peewee.Database:
    """Build (not bind) a database object from a URL; empty means SQLite under instance/."""
    if not url:
        instance.mkdir(parents=True, exist_ok=True)
        return peewee.SqliteDatabase(str(instance / "alongside.db"), pragmas=SQLITE_PRAGMAS, timeout=10)
    if url.startswith("sqlite"):
        return connect_url(url, pragmas=SQLITE_PRAGMAS, timeout=10)
    if url.startswith(("postgres://", "postgresql://")):
        return connect_url(url)
    raise ValueError(f"Unsupported database URL scheme: {url.split(':', 1)[0]!r} (use sqlite or postgresql)")


def bind(db: peewee.Database) -> None:
    database.initialize(db)


def is_sqlite() -> bool:
    return isinstance(database.obj, peewee.SqliteDatabase)


def is_postgres() -> bool:
    return isinstance(database.obj, peewee.PostgresqlDatabase)


def write_transaction():
    """A transaction for writes. SQLite takes the write lock up front (BEGIN IMMEDIATE) so two writers
    never deadlock on a lock upgrade; PostgreSQL uses row locks taken inside the transaction."""
    if is_sqlite():
        return database.atomic("IMMEDIATE")
    return database.atomic()


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
