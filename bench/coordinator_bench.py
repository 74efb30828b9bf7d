"""Coordinator workspace benchmark (not a test: prints figures beside targets, never asserts on time).

200 peer workers in 10 teams, 5,000 people, 1,000,000 visits over two years (plus goals, progress ratings
and referrals), bulk-inserted with insert_many in chunks inside write transactions, on SQLite or PostgreSQL.
Then, through the Flask test client signed in as a team coordinator (rendering included):
  - the review queue page (target <= 150 ms), and its "not yet reviewed" and "any concern" filters;
  - a year's team report (target <= 500 ms), and the admin's all-teams report;
  - a year's visits CSV export, streamed: time, rows, and memory (tracemalloc peak and RSS growth while
    streaming) against a quarter's export, to show memory stays flat as rows grow.

    .venv/bin/python bench/coordinator_bench.py --engine sqlite [--visits 1000000] [--runs 7]
    .venv/bin/python bench/coordinator_bench.py --engine postgres [--postgres-url postgresql://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

PASSWORD = "bench-password-123"
CHUNK = 5000


def rss_kb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def make_postgres(admin_url: str) -> tuple[str, callable]:
    import psycopg2
    from playhouse.db_url import parse

    params = parse(admin_url)
    conn = psycopg2.connect(**params)
    conn.autocommit = True
    name = f"alongside_bench_{uuid.uuid4().hex[:10]}"
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    host, port = params.get("host", "127.0.0.1"), params.get("port", 5432)
    url = f"postgresql://{params.get('user', 'postgres')}@{host}:{port}/{name}"

    def drop():
        with conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                        "AND pid <> pg_backend_pid()", (name,))
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.close()

    return url, drop


def dbmod_is_postgres() -> bool:
    from server import db as dbmod

    return dbmod.is_postgres()


def seed(n_visits: int, n_workers: int, n_people: int, n_teams: int, seed_value: int = 11) -> dict:
    """Bulk-load the organisation. Returns the ids the measurements need."""
    from server.db import database, utcnow, write_transaction
    from server.models import (
        CaseloadAssignment,
        Goal,
        GoalProgress,
        Person,
        Referral,
        Resource,
        Team,
        User,
    )
    from server.models import Visit as V
    from server.passwords import hash_password
    from server.sync.revisions import next_rev

    rng = random.Random(seed_value)
    now = utcnow().replace(microsecond=0)
    start = now - dt.timedelta(days=730)
    pw = hash_password(PASSWORD)
    with write_transaction():
        teams = [Team.create(name=f"Team {i + 1}") for i in range(n_teams)]
        coordinator = User.create(email="coord@bench.test", name="Bench Coordinator", role="coordinator",
                                  team=teams[0], password_hash=pw)
        admin = User.create(email="admin@bench.test", name="Bench Admin", role="admin", password_hash=pw)
        User.insert_many([{"uuid": uuid.uuid4(), "email": f"w{i}@bench.test", "name": f"Worker {i:03d}",
                           "role": "peer_worker", "team": teams[i % n_teams].id, "password_hash": pw}
                          for i in range(n_workers)]).execute()
        workers = list(User.select(User.id, User.team).where(User.role == "peer_worker").order_by(User.id).tuples())
        Resource.insert_many([{"uuid": uuid.uuid4(), "name": f"Resource {i}", "category": f"Category {i % 8}",
                               "rev": next_rev()} for i in range(300)]).execute()
        resources = [r for (r,) in Resource.select(Resource.id).tuples()]
        rev = next_rev(n_people)
        people_rows = []
        for i in range(n_people):
            worker_id, team_id = workers[i % n_workers]
            started = (start + dt.timedelta(days=rng.randint(0, 700))).date()
            people_rows.append({"uuid": uuid.uuid4(), "team": team_id, "display_name": f"Person {i:04d}",
                                "engagement_start": started, "planned_end": started + dt.timedelta(days=180),
                                "rev": rev - n_people + 1 + i, "status": "active" if i % 10 else "paused"})
        for chunk in range(0, n_people, CHUNK):
            Person.insert_many(people_rows[chunk:chunk + CHUNK]).execute()
        people = list(Person.select(Person.id, Person.team).order_by(Person.id).tuples())
        CaseloadAssignment.insert_many([{"person": pid, "worker": workers[i % n_workers][0], "rev": next_rev(),
                                         "started_at": start} for i, (pid, _) in enumerate(people)]).execute()
    person_worker = {pid: workers[i % n_workers][0] for i, (pid, _) in enumerate(people)}

    # goals: two per person
    with write_transaction():
        rows = []
        for pid, _ in people:
            for k in range(2):
                created = start + dt.timedelta(days=rng.randint(0, 720))
                achieved = rng.random() < 0.3
                rows.append({"uuid": uuid.uuid4(), "person": pid, "created_by": person_worker[pid],
                             "title": f"Goal {k}", "status": "achieved" if achieved else "active",
                             "achieved_at": created + dt.timedelta(days=40) if achieved else None,
                             "created_at": created, "updated_at": created, "rev": next_rev()})
        for chunk in range(0, len(rows), CHUNK):
            Goal.insert_many(rows[chunk:chunk + CHUNK]).execute()
    goals_by_person: dict[int, list[int]] = {}
    for gid, pid in Goal.select(Goal.id, Goal.person).tuples():
        goals_by_person.setdefault(pid, []).append(gid)

    # visits (and a progress rating on one visit in five), chunk by chunk, each chunk one transaction
    t0 = time.perf_counter()
    span = int((now - start).total_seconds())
    fields = [V.uuid, V.person, V.author, V.started_at, V.duration_minutes, V.mode, V.location_type, V.attendance,
              V.notes, V.concern, V.concern_notes, V.reviewed_at, V.reviewed_by, V.concern_ack_at, V.rev,
              V.created_at, V.updated_at, V.next_visit_at]
    modes = ["01", "01", "01", "02", "02", "11", "09"]
    done = 0
    progress_rows = 0
    while done < n_visits:
        size = min(CHUNK * 4, n_visits - done)
        with write_transaction():
            last = next_rev(size)
            batch = []
            for j in range(size):
                pid = people[rng.randrange(n_people)][0]
                started = start + dt.timedelta(seconds=rng.randrange(span))
                started = started.replace(minute=0, second=0)
                attendance = "3" if rng.random() < 0.1 else ("2" if rng.random() < 0.04 else "5")
                roll = rng.random()
                concern = "high" if roll < 0.01 else ("low" if roll < 0.03 else "none")
                old = (now - started).days > 14
                batch.append((uuid.uuid4(), pid, person_worker[pid], started, rng.choice([30, 45, 60, 90]),
                              rng.choice(modes), "A01", attendance, "Talked about the week.", concern,
                              "Worried." if concern != "none" else "", started + dt.timedelta(days=2) if old else None,
                              coordinator.id if old else None,
                              started + dt.timedelta(days=1) if old and concern != "none" else None,
                              last - size + 1 + j, started, started, started + dt.timedelta(days=7)))
            for chunk in range(0, size, CHUNK):
                V.insert_many(batch[chunk:chunk + CHUNK], fields=fields).execute()
            # progress ratings for every fifth visit of this batch
            ids = list(V.select(V.id, V.person, V.started_at).where(V.rev > last - size).tuples())
            prev_rev = next_rev(len(ids) // 5 + 1)
            prog = []
            for k, (vid, pid, started) in enumerate(ids[::5]):
                prog.append({"uuid": uuid.uuid4(), "goal": goals_by_person[pid][k % 2], "visit": vid,
                             "author": person_worker[pid], "rating": rng.randint(0, 10), "created_at": started,
                             "updated_at": started, "rev": prev_rev})
            for chunk in range(0, len(prog), CHUNK):
                GoalProgress.insert_many(prog[chunk:chunk + CHUNK]).execute()
            progress_rows += len(prog)
        done += size
        print(f"\r  visits {done:,}/{n_visits:,} ({time.perf_counter() - t0:.0f} s)", end="", flush=True)
    print()

    with write_transaction():
        rows = []
        statuses = ["suggested", "made", "made", "attended", "attended", "not_taken_up", "closed"]
        for i, (pid, _) in enumerate(people):
            for _k in range(3):
                created = start + dt.timedelta(days=rng.randint(0, 725))
                rows.append({"uuid": uuid.uuid4(), "person": pid, "resource": rng.choice(resources),
                             "created_by": person_worker[pid], "status": rng.choice(statuses),
                             "created_at": created, "updated_at": created, "rev": next_rev()})
        for chunk in range(0, len(rows), CHUNK):
            Referral.insert_many(rows[chunk:chunk + CHUNK]).execute()
    # what autovacuum does on PostgreSQL soon after a load (the visibility map enables index-only scans)
    database.execute_sql("VACUUM ANALYZE" if dbmod_is_postgres() else "ANALYZE")
    return {"coordinator": coordinator, "admin": admin, "team": teams[0], "progress": progress_rows,
            "today": now.date()}


def timed_get(client, url: str, runs: int) -> tuple[float, list[float], int]:
    times = []
    status = 0
    for _ in range(runs + 1):  # the first run warms caches and is not counted
        t0 = time.perf_counter()
        response = client.get(url)
        body = response.get_data()
        times.append((time.perf_counter() - t0) * 1000)
        status = response.status_code
        assert body
    return statistics.median(times[1:]), times[1:], status


def stream_export(client, url: str, trace: bool = False) -> dict:
    """Stream one export. Timed without tracemalloc (it slows every allocation several times over); with
    `trace`, a second, untimed figure of the peak Python memory."""
    gc.collect()
    if trace:
        tracemalloc.start()
    rss_before = rss_kb()
    rss_peak = rss_before
    t0 = time.perf_counter()
    response = client.get(url, buffered=False)
    size = rows = 0
    for chunk in response.response:
        size += len(chunk)
        rows += chunk.count(b"\n")
        if rows % 50 == 0:
            rss_peak = max(rss_peak, rss_kb())
    response.close()
    elapsed = time.perf_counter() - t0
    peak = 0
    if trace:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {"rows": rows - 1, "mb": size / 1e6, "seconds": elapsed, "peak_kb": peak / 1024,
            "rss_growth_kb": rss_peak - rss_before, "status": response.status_code}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=200)
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--teams", type=int, default=10)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", metavar="PATH", help="SQLite only: keep the seeded file here, and reuse it if it "
                        "exists (for repeated measurements)")
    parser.add_argument("--profile", metavar="URL", help="print a cProfile of one GET of this URL and stop")
    parser.add_argument("--postgres-url", default=os.environ.get("ALONGSIDE_TEST_POSTGRES_URL",
                                                                "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()


    from server import create_app
    from server import db as dbmod

    workdir = Path(tempfile.mkdtemp(prefix="alongside-bench-"))
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
                          "RATELIMIT_ENABLED": False, "TOTP_REQUIRED": False})
        dbmod.upgrade()
        if reuse:
            with dbmod.database.connection_context():
                dbmod.database.execute_sql("ANALYZE")  # new indexes from migrations need their statistics
            measure(app, args, dbmod.utcnow().date())
            return
        print(f"Seeding {args.engine}: {args.teams} teams, {args.workers} workers, {args.people:,} people, "
              f"{args.visits:,} visits ...")
        t0 = time.perf_counter()
        with app.app_context(), dbmod.database.connection_context():
            ids = seed(args.visits, args.workers, args.people, args.teams)
        print(f"  seeded in {time.perf_counter() - t0:.0f} s ({ids['progress']:,} progress ratings)")
        dbmod.database.close()
        measure(app, args, ids["today"])
    finally:
        dbmod.database.close() if not dbmod.database.is_closed() else None
        if drop:
            drop()
        shutil.rmtree(workdir, ignore_errors=True)


def measure(app, args, today) -> None:
    from helpers import form_login

    if True:
        year = f"from={today - dt.timedelta(days=364)}&to={today}"
        quarter = f"from={today - dt.timedelta(days=90)}&to={today}"
        client = app.test_client()
        assert form_login(client, "coord@bench.test", PASSWORD).status_code == 302
        admin = app.test_client()
        assert form_login(admin, "admin@bench.test", PASSWORD).status_code == 302
        if args.profile:
            import cProfile
            import pstats

            client.get(args.profile)
            profiler = cProfile.Profile()
            profiler.enable()
            client.get(args.profile)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
            return

        print(f"\n{'measure (' + args.engine + ', median of ' + str(args.runs) + ')':<58} {'figure':>12}  target")
        rows = [
            ("review queue page (team of 20 workers)", client, "/coordinator/review", 150),
            ("review queue, not yet reviewed", client, "/coordinator/review?unreviewed=1", 150),
            ("review queue, any concern", client, "/coordinator/review?concern=any", 150),
            ("review queue, page 20", client, "/coordinator/review?page=20", None),
            ("concerns page", client, "/coordinator/concerns", None),
            ("start page (counts)", client, "/coordinator/", None),
            ("people page", client, "/coordinator/people", None),
            ("a year's report, one team", client, f"/coordinator/reports?{year}", 500),
            ("a year's report, all 10 teams (admin)", admin, f"/coordinator/reports?{year}", None),
        ]
        for label, who, url_, target in rows:
            median, times, status = timed_get(who, url_, args.runs)
            tgt = f"<= {target} ms" if target else "(no target)"
            flag = "" if status == 200 else f"  HTTP {status}!"
            print(f"{label:<58} {median:>9.0f} ms  {tgt}  (runs {min(times):.0f}-{max(times):.0f}){flag}")

        for label, who, period, kind in [("a quarter's visits CSV, one team", client, quarter, "visits"),
                                         ("a year's visits CSV, one team", client, year, "visits"),
                                         ("a year's contacts CSV (MHSDS), one team", client, year, "contacts"),
                                         ("a year's visits CSV, all teams (admin)", admin, year, "visits")]:
            result = stream_export(who, f"/coordinator/exports/{kind}.csv?{period}")
            print(f"{label:<58} {result['seconds']:>9.1f} s   {result['rows']:,} rows, "
                  f"{result['rows'] / result['seconds']:,.0f} rows/s (target >= 30,000), {result['mb']:.1f} MB, "
                  f"RSS growth {result['rss_growth_kb']:,} KB")
        result = stream_export(client, f"/coordinator/exports/visits.csv?{quarter}", trace=True)
        print(f"{'  quarter again under tracemalloc: peak Python memory':<58} {result['peak_kb']:>9,.0f} KB")


if __name__ == "__main__":
    main()
