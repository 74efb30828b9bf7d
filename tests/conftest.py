"""Shared fixtures. Every test that takes `app` (or anything built on it) runs twice: on SQLite and on
PostgreSQL. PostgreSQL is optional locally (skipped with a reason) and compulsory when
ALONGSIDE_REQUIRE_POSTGRES=1 (CI), where its absence fails the run instead."""

from __future__ import annotations

import os
import shutil
import uuid

import peewee
import pytest
from helpers import PASSWORD, TEST_SECRET, api_login
from pg_empty import empty_postgres

from server import create_app
from server import db as dbmod
from server.models import Team, User
from server.passwords import hash_password

PG_ADMIN_URL = os.environ.get("ALONGSIDE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("ALONGSIDE_REQUIRE_POSTGRES") == "1"
_HASH_CACHE: dict[str, str] = {}


def _pg_params():
    import psycopg2
    from playhouse.db_url import parse

    return parse(PG_ADMIN_URL), psycopg2


@pytest.fixture(scope="session")
def postgres_url():
    """A database of its own for this run (created here, dropped at the end), migrated once."""
    try:
        params, psycopg2 = _pg_params()
        conn = psycopg2.connect(**params, connect_timeout=3)
    except Exception as exc:  # noqa: BLE001 - any failure to reach PostgreSQL means "not available"
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required (ALONGSIDE_REQUIRE_POSTGRES=1) but unreachable: {exc}")
        pytest.skip(f"PostgreSQL not available: {exc}")
    conn.autocommit = True
    name = f"alongside_test_{uuid.uuid4().hex[:12]}"
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    host = params.get("host", "127.0.0.1")
    port = params.get("port", 5432)
    user = params.get("user", "postgres")
    url = f"postgresql://{user}@{host}:{port}/{name}"
    yield url
    dbmod.dispose()
    with conn.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
    conn.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated SQLite file, copied for each test (faster than migrating every time)."""
    path = tmp_path_factory.mktemp("template") / "alongside.db"
    database = peewee.SqliteDatabase(str(path), pragmas=dbmod.SQLITE_PRAGMAS)
    dbmod.bind(database)
    dbmod.upgrade()
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    return path


_pg_migrated: set[str] = set()


def _reset_postgres(url: str) -> None:
    database = dbmod.make_database(url, None)
    dbmod.bind(database)
    if url not in _pg_migrated:
        dbmod.upgrade()
        _pg_migrated.add(url)
    with database.connection_context():
        empty_postgres(database)
    dbmod.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "alongside.db"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    _reset_postgres(url)
    return url


@pytest.fixture
def make_app(db_url, tmp_path):
    """Build an app on this test's database; extra config as keyword arguments."""

    def _make(**overrides):
        config = {
            "TESTING": True,
            "DATABASE_URL": db_url,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": TEST_SECRET,
            "AUTO_MIGRATE": False,
            # Coordinators sign in with a password alone here; test_two_step.py turns the required second
            # step on (the default everywhere else) and tests it.
            "TOTP_REQUIRED": False,
        }
        config.update(overrides)
        return create_app(config)

    return _make


@pytest.fixture
def app(make_app):
    application = make_app()
    yield application
    dbmod.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- people and sign-in ------------------------------------------------------------------------

def _hash(password: str) -> str:
    # argon2 is deliberately slow; hash each distinct test password once per run.
    if password not in _HASH_CACHE:
        _HASH_CACHE[password] = hash_password(password)
    return _HASH_CACHE[password]


@pytest.fixture
def make_user(app):
    def _make(role="peer_worker", team=None, email=None, name=None, password=PASSWORD, active=True):
        if team is None and role != "admin":
            team, _ = Team.get_or_create(name="Team A")
        email = email or f"{role}-{uuid.uuid4().hex[:8]}@example.test"
        return User.create(email=email, name=name or role.replace("_", " ").title(), role=role, team=team,
                           password_hash=_hash(password), active=active)

    return _make


@pytest.fixture
def team(app):
    return Team.create(name="Team A")


@pytest.fixture
def other_team(app):
    return Team.create(name="Team B")


@pytest.fixture
def worker(make_user, team):
    return make_user("peer_worker", team=team, name="Worker One")


@pytest.fixture
def coordinator(make_user, team):
    return make_user("coordinator", team=team, name="Coordinator One")


@pytest.fixture
def login():
    """login(client, user) -> csrf token (API sign-in)."""
    return api_login
