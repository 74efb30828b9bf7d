"""Lone working and safety: the whole dispatcher pass (issue 14; not a test: prints figures beside the target,
never asserts on time).

The organisation of coordinator_bench.py (200 workers in 10 teams, 5,000 people, 1,000,000 visits with goals,
ratings and referrals), plus a year of lone-working history (--history closed check-ins, default 100,000) and of
staff alerts (--alerts resolved ones, default 20,000). Then, --runs times: 200 workers are out on visits at once
(200 open check-ins: 150 on time, 30 past their expected end and the grace, 20 prompted long enough ago to
escalate) and 20 serious-concern alerts nobody acknowledged are past their escalation time; one dispatcher pass
(safety.passes.run_passes: escalate_due, then lone working's overdue_pass) must find and handle every one of them
within 200 ms. Email is configured (a local address nothing listens on: messages are queued, not sent), so each
prompt, alert and escalation writes its outbox rows inside the timed pass. Also timed: a quiet pass (nothing due),
and the finding queries alone.

    .venv/bin/python bench/lone_working_bench.py --engine sqlite [--visits 1000000] [--runs 7] [--keep /tmp/safety.db]
    .venv/bin/python bench/lone_working_bench.py --engine postgres [--postgres-url postgresql://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from coordinator_bench import make_postgres, seed  # noqa: E402

TARGET_MS = 200
CHUNK = 5000


def seed_safety(n_history: int, n_alerts: int, rng: random.Random) -> None:
    """Closed check-ins over the last year and resolved alerts: what the pass must not wade through."""
    from server.db import utcnow, write_transaction
    from server.models import CheckIn, Person, PushSubscription, StaffAlert, Team, User
    from server.sync.revisions import next_rev

    now = utcnow().replace(microsecond=0)
    workers = list(User.select(User.id, User.team).where(User.role == "peer_worker").tuples())
    with write_transaction():  # every team has a coordinator; every worker's phone can be asked "Are you OK?"
        pw = User.get(User.email == "coord@bench.test").password_hash
        for team in Team.select().where(Team.id.not_in(User.select(User.team).where(User.role == "coordinator"))):
            User.create(email=f"coord{team.id}@bench.test", name=f"Coordinator {team.id}", role="coordinator",
                        team=team, password_hash=pw, work_phone="07700 900000")
        PushSubscription.insert_many([{"user": w, "endpoint": f"https://fcm.googleapis.com/fcm/send/{uuid.uuid4()}",
                                       "endpoint_hash": uuid.uuid4().hex + uuid.uuid4().hex, "p256dh": "x" * 87,
                                       "auth": "y" * 22} for w, _ in workers]).execute()
    people = [pid for (pid,) in Person.select(Person.id).tuples()]
    with write_transaction():
        rev = next_rev()
        rows = []
        for i in range(n_history):
            worker, team = workers[i % len(workers)]
            start = now - dt.timedelta(minutes=rng.randrange(365 * 24 * 60))
            end = start + dt.timedelta(minutes=rng.choice((30, 60, 90)))
            late = rng.random() < 0.02
            rows.append({"uuid": uuid.uuid4(), "person": rng.choice(people), "worker": worker, "team": team,
                         "started_at": start, "expected_end_at": end, "place": None,
                         "checked_out_at": end + dt.timedelta(minutes=40 if late else -5),
                         "checked_out_received_at": end, "status": "closed", "rev": rev,
                         "prompted_at": end + dt.timedelta(minutes=15) if late else None,
                         "escalated_at": end + dt.timedelta(minutes=30) if late else None,
                         "created_at": start, "updated_at": end})
        for at in range(0, len(rows), CHUNK):
            CheckIn.insert_many(rows[at:at + CHUNK]).execute()
        rows = []
        for i in range(n_alerts):
            worker, team = workers[i % len(workers)]
            raised = now - dt.timedelta(minutes=rng.randrange(365 * 24 * 60))
            rows.append({"uuid": uuid.uuid4(), "team": team, "kind": rng.choice(("concern", "lone_overdue", "help")),
                         "subject_uuid": uuid.uuid4(), "worker": worker, "raised_at": raised,
                         "escalate_at": raised + dt.timedelta(minutes=120),
                         "escalated_at": raised + dt.timedelta(minutes=120) if i % 7 == 0 else None,
                         "acknowledged_at": raised + dt.timedelta(minutes=20), "acknowledged_by": worker,
                         "resolved_at": raised + dt.timedelta(minutes=60), "resolved_by": worker,
                         "outcome": "no_action"})
        for at in range(0, len(rows), CHUNK):
            StaffAlert.insert_many(rows[at:at + CHUNK]).execute()


def stage_run(now: dt.datetime, rng: random.Random) -> dict:
    """200 workers out on visits now (some overdue, some to escalate) and 20 unacknowledged concerns due."""
    from server.db import write_transaction
    from server.models import CheckIn, Person, StaffAlert, User
    from server.sync.revisions import next_rev

    workers = list(User.select(User.id, User.team).where(User.role == "peer_worker").tuples())
    people = [pid for (pid,) in Person.select(Person.id).limit(2000).tuples()]
    with write_transaction():
        # the previous run's visits end: checked out
        CheckIn.update(status="closed", checked_out_at=now, checked_out_received_at=now, place=None).where(
            CheckIn.status.in_(("open", "prompted", "escalated"))).execute()
        StaffAlert.update(acknowledged_at=now, resolved_at=now).where(StaffAlert.resolved_at.is_null()).execute()
        rev = next_rev()
        rows = []
        for i, (worker, team) in enumerate(workers[:200]):
            start = now - dt.timedelta(minutes=50)
            if i < 150:  # on time
                end, status, prompted = now + dt.timedelta(minutes=20), "open", None
            elif i < 180:  # past the expected end and the grace: prompt the worker
                end, status, prompted = now - dt.timedelta(minutes=16), "open", None
            else:  # prompted 16 minutes ago: escalate to the coordinators
                end, status, prompted = now - dt.timedelta(minutes=32), "prompted", now - dt.timedelta(minutes=16)
            rows.append({"uuid": uuid.uuid4(), "person": rng.choice(people), "worker": worker, "team": team,
                         "started_at": start, "expected_end_at": end, "place": "Somewhere", "status": status,
                         "prompted_at": prompted, "rev": rev, "created_at": start, "updated_at": start})
        CheckIn.insert_many(rows).execute()
        StaffAlert.insert_many([{"uuid": uuid.uuid4(), "team": workers[i][1], "kind": "concern",
                                 "subject_uuid": uuid.uuid4(), "worker": workers[i][0], "level": "high",
                                 "raised_at": now - dt.timedelta(minutes=130),
                                 "escalate_at": now - dt.timedelta(minutes=10)} for i in range(20)]).execute()
    return {"prompts": 30, "escalations": 20, "concerns": 20}


def find_only(now: dt.datetime) -> float:
    """The finding queries alone: overdue check-ins, check-ins to escalate, unacknowledged concerns due."""
    from server.models import StaffAlert
    from server.safety.lone_working import due_escalations, due_prompts

    t0 = time.perf_counter()
    found = len(list(due_prompts(now).tuples())) + len(list(due_escalations(now).tuples()))
    found += len(list(StaffAlert.select(StaffAlert.id)
                      .where(StaffAlert.escalated_at.is_null() & (StaffAlert.escalate_at <= now)
                             & StaffAlert.acknowledged_at.is_null() & StaffAlert.resolved_at.is_null()).tuples()))
    assert found == 70, found
    return (time.perf_counter() - t0) * 1000


def measure(app, runs: int) -> None:
    from server import db as dbmod
    from server.db import utcnow
    from server.models import OutboxMessage
    from server.safety.passes import PASSES, run_passes

    rng = random.Random(5)
    finds, passes, quiet = [], [], []
    with app.app_context(), dbmod.database.connection_context():
        for run in range(runs + 1):  # the first run warms caches and is not counted
            now = utcnow().replace(microsecond=0) + dt.timedelta(hours=run)
            expected = stage_run(now, rng)
            find_ms = find_only(now)
            before = OutboxMessage.select().count()
            t0 = time.perf_counter()
            done, parts = {}, []
            for check in PASSES:  # what run_passes does, each pass timed on its own
                t = time.perf_counter()
                done[check.__name__] = check(now)
                parts.append(f"{check.__name__} {(time.perf_counter() - t) * 1000:.0f} ms")
            elapsed = (time.perf_counter() - t0) * 1000
            queued = OutboxMessage.select().count() - before
            assert done["escalate_due"] == expected["concerns"], done
            assert done["overdue_pass"] == expected["prompts"] + expected["escalations"], done
            t1 = time.perf_counter()
            again = run_passes(now)
            quiet_ms = (time.perf_counter() - t1) * 1000
            assert not any(again.values()), again
            if run:
                finds.append(find_ms)
                passes.append(elapsed)
                quiet.append(quiet_ms)
            print(f"  run {run}{' (warm-up)' if not run else ''}: find {find_ms:6.1f} ms, pass {elapsed:6.1f} ms "
                  f"({', '.join(parts)}; {queued} messages queued), quiet pass {quiet_ms:5.1f} ms")

    def line(name, values):
        med = statistics.median(values)
        print(f"{name:<58} median {med:7.1f} ms  max {max(values):7.1f} ms  target {TARGET_MS} ms  "
              f"{'OK' if max(values) <= TARGET_MS else 'MISSED'}")

    print()
    line("finding queries (30 overdue, 20 to escalate, 20 concerns)", finds)
    line("one dispatcher pass handling all of them (+ outbox rows)", passes)
    line("a quiet pass (nothing due)", quiet)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--alerts", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", metavar="PATH", help="SQLite only: keep the seeded file here and reuse it")
    parser.add_argument("--postgres-url", default=os.environ.get("ALONGSIDE_TEST_POSTGRES_URL",
                                                                "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()

    from server import create_app
    from server import db as dbmod

    workdir = Path(tempfile.mkdtemp(prefix="alongside-safety-bench-"))
    drop = None
    reuse = False
    if args.engine == "sqlite":
        path = Path(args.keep) if args.keep else workdir / "bench.db"
        reuse = path.exists()
        url = f"sqlite:///{path}"
    else:
        url, drop = make_postgres(args.postgres_url)
    try:
        app = create_app({"TESTING": True, "DATABASE_URL": url, "INSTANCE_PATH": str(workdir / "instance"),
                          "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789", "AUTO_MIGRATE": False,
                          "TOTP_REQUIRED": False, "SMTP_URL": "smtp+plain://127.0.0.1:9",
                          "SMTP_FROM": "alerts@bench.test"})
        dbmod.upgrade()
        if not reuse:
            print(f"Seeding {args.engine}: 200 workers, 5,000 people, {args.visits:,} visits, {args.history:,} "
                  f"closed check-ins, {args.alerts:,} resolved alerts ...")
            t0 = time.perf_counter()
            with app.app_context(), dbmod.database.connection_context():
                seed(args.visits, 200, 5000, 10)
                seed_safety(args.history, args.alerts, random.Random(3))
                dbmod.database.execute_sql("VACUUM ANALYZE" if dbmod.is_postgres() else "ANALYZE")
            print(f"  seeded in {time.perf_counter() - t0:.0f} s")
        dbmod.database.close()
        measure(app, args.runs)
    finally:
        if not dbmod.database.is_closed():
            dbmod.database.close()
        if drop:
            drop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
