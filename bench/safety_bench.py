"""Benchmark (issue 14): one dispatcher pass's safety checks (server/safety/passes.py: escalation of unacknowledged
alerts) with 200 serious concerns waiting past their escalation time, among many closed alerts, in a database of
--visits visits. Times the finding query alone and the whole escalation (claim, mark, queue every message to the
team's coordinators and the admins), median of --runs. Prints figures; asserts nothing.

    .venv/bin/python bench/safety_bench.py [--visits 1000000] [--due 200] [--closed 20000] [--runs 5]
                                           [--postgres postgresql://postgres@127.0.0.1:5432/test] [--keep PATH]

--postgres creates a throwaway database beside the given one (dropped at the end); default SQLite."""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def seed(args, now):
    from server.db import database, write_transaction
    from server.models import OutboxMessage, Person, PushSubscription, StaffAlert, Team, User, Visit
    from server.notify.outbox import bulk_insert

    with database.connection_context():
        if User.select().exists():
            return
        with write_transaction():
            teams = [Team.create(name=f"Team {i}") for i in range(20)]
            users = []
            for i in range(200):
                users.append(User.create(email=f"w{i}@x.test", name=f"W{i}", role="peer_worker",
                                         team=teams[i % 20], password_hash="x"))
            for i, team in enumerate(teams):
                for j in range(2):
                    c = User.create(email=f"c{i}-{j}@x.test", name="C", role="coordinator", team=team,
                                    password_hash="x")
                    PushSubscription.create(user=c, endpoint=f"https://push.example/{c.id}",
                                            endpoint_hash=uuid.uuid4().hex, p256dh="x", auth="y")
            for i in range(2):
                User.create(email=f"a{i}@x.test", name="A", role="admin", password_hash="x")
            people = []
            for i in range(10_000):
                people.append((teams[i % 20].id, f"P{i}", uuid.uuid4()))
            bulk_insert(Person, ("team", "display_name", "uuid"), people)
        person_ids = [p for (p,) in Person.select(Person.id).tuples()]
        start = now - dt.timedelta(days=365)
        step = max(1, 365 * 24 * 3600 // max(1, args.visits))
        for chunk in range(0, args.visits, 20_000):
            rows = [(person_ids[i % len(person_ids)], users[i % 200].id, start + dt.timedelta(seconds=i * step),
                     "high" if i % 97 == 0 else "none", uuid.uuid4())
                    for i in range(chunk, min(args.visits, chunk + 20_000))]
            with write_transaction():
                bulk_insert(Visit, ("person", "author", "started_at", "concern", "uuid"), rows, chunk=500)
            print(f"  visits {min(args.visits, chunk + 20_000):,}", flush=True)
        with write_transaction():
            closed = [(teams[i % 20].id, "concern", uuid.uuid4(), uuid.uuid4(), now - dt.timedelta(days=30),
                       now - dt.timedelta(days=30), now - dt.timedelta(days=29), now - dt.timedelta(days=29))
                      for i in range(args.closed)]
            bulk_insert(StaffAlert, ("team", "kind", "uuid", "subject_uuid", "raised_at", "escalate_at",
                                     "acknowledged_at", "resolved_at"), closed)
            due = [(teams[i % 20].id, "concern", uuid.uuid4(), uuid.uuid4(), now - dt.timedelta(hours=3),
                    now - dt.timedelta(hours=1)) for i in range(args.due)]
            bulk_insert(StaffAlert, ("team", "kind", "uuid", "subject_uuid", "raised_at", "escalate_at"), due)
        OutboxMessage.delete().execute()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=200)
    parser.add_argument("--closed", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--keep", default=None)
    args = parser.parse_args()

    from server import create_app
    from server import db as dbmod

    tmp = Path(tempfile.mkdtemp())
    pg_admin, url = None, None
    if args.postgres:
        import psycopg2

        name = f"safety_bench_{uuid.uuid4().hex[:8]}"
        pg_admin = psycopg2.connect(args.postgres)
        pg_admin.autocommit = True
        pg_admin.cursor().execute(f'CREATE DATABASE "{name}"')
        url = args.postgres.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite:///{args.keep or tmp / 'bench.db'}"
    try:
        create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp / "instance"), "SECRET_KEY": "b" * 40,
                    "AUTO_MIGRATE": True, "TESTING": True, "SMTP_URL": "smtp+plain://127.0.0.1:9",
                    "SMTP_FROM": "alerts@x.test", "TOTP_REQUIRED": False})
        from server.db import database, write_transaction
        from server.models import OutboxMessage, StaffAlert, Visit
        from server.safety.passes import run_passes

        now = dt.datetime(2026, 12, 1, 12, 0)
        t0 = time.perf_counter()
        seed(args, now)
        print(f"seeded in {time.perf_counter() - t0:.1f} s")
        finds, passes = [], []
        with database.connection_context():
            print(f"visits {Visit.select().count():,}; alerts {StaffAlert.select().count():,}")
            for _ in range(args.runs):
                with write_transaction():
                    StaffAlert.update(escalated_at=None).where(StaffAlert.escalated_at.is_null(False)).execute()
                    OutboxMessage.delete().execute()
                t = time.perf_counter()
                found = (StaffAlert.select(StaffAlert.id)
                         .where(StaffAlert.escalated_at.is_null() & (StaffAlert.escalate_at <= now)
                                & StaffAlert.acknowledged_at.is_null() & StaffAlert.resolved_at.is_null())
                         .count())
                finds.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                done = run_passes(now)
                passes.append((time.perf_counter() - t) * 1000)
                queued = OutboxMessage.select().count()
            print(f"found {found} due; escalated {done}; messages queued {queued}")
        engine = "PostgreSQL" if args.postgres else "SQLite"
        print(f"{engine}: find {statistics.median(finds):.1f} ms, whole safety pass "
              f"{statistics.median(passes):.1f} ms (median of {args.runs})")
    finally:
        dbmod.dispose()
        if pg_admin is not None:
            pg_admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
