"""Outcomes and subject access benchmark (issue 16; not a test: prints figures beside targets, never asserts).

One team's year: 20 peer workers, 10,000 people, 1,000,000 visits (six in ten with a wellbeing score),
20,000 goals (CHIME-tagged) with 200,000 ratings, 30,000 referrals; plus one person with 500 visits, 10 goals
and 100 ratings. Then, through the Flask test client signed in as the team's coordinator (rendering included):
  - the outcomes report page for the year (target <= 500 ms) and its CSV;
  - the subject access export of the person with 500 visits, as the page and as JSON (target <= 1 s).

    .venv/bin/python bench/outcomes_bench.py --engine sqlite [--visits 1000000] [--ratings 200000] [--runs 7]
    .venv/bin/python bench/outcomes_bench.py --engine postgres [--postgres-url postgresql://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
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
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from coordinator_bench import PASSWORD, make_postgres  # noqa: E402

CHUNK = 5000
TAGS = ["connectedness", "hope", "identity", "meaning", "empowerment"]


def seed(n_visits: int, n_ratings: int, n_people: int, n_workers: int, rng: random.Random) -> dict:
    from server.db import database, utcnow, write_transaction
    from server.models import Goal, Person, Referral, Resource, Team, User
    from server.models import GoalProgress as GP
    from server.models import Visit as V
    from server.passwords import hash_password
    from server.sync.revisions import next_rev

    now = utcnow().replace(microsecond=0)
    start = now - dt.timedelta(days=364)
    span = int((now - start).total_seconds())
    pw = hash_password(PASSWORD)
    with write_transaction():
        team = Team.create(name="Bench Team")
        User.create(email="coord@bench.test", name="Bench Coordinator", role="coordinator", team=team,
                    password_hash=pw)
        User.insert_many([{"uuid": uuid.uuid4(), "email": f"w{i}@bench.test", "name": f"Worker {i:02d}",
                           "role": "peer_worker", "team": team.id, "password_hash": pw}
                          for i in range(n_workers)]).execute()
        workers = [w for (w,) in User.select(User.id).where(User.role == "peer_worker").tuples()]
        Resource.insert_many([{"uuid": uuid.uuid4(), "name": f"Resource {i}", "category": f"Category {i % 8}",
                               "rev": next_rev()} for i in range(100)]).execute()
        resources = [r for (r,) in Resource.select(Resource.id).tuples()]
        rev = next_rev()
        for c in range(0, n_people + 1, CHUNK):
            Person.insert_many([{"uuid": uuid.uuid4(), "team": team.id, "display_name": f"Person {i:05d}",
                                 "rev": rev} for i in range(c, min(c + CHUNK, n_people + 1))]).execute()
    people = [p for (p,) in Person.select(Person.id).order_by(Person.id).tuples()]
    subject, people = people[0], people[1:]
    worker_of = {pid: workers[i % n_workers] for i, pid in enumerate(people + [subject])}

    def goals_for(pids, per_person):
        rows = []
        for pid in pids:
            for k in range(per_person):
                created = start + dt.timedelta(seconds=rng.randrange(span))
                achieved = rng.random() < 0.3
                rows.append({"uuid": uuid.uuid4(), "person": pid, "created_by": worker_of[pid], "title": f"Goal {k}",
                             "chime_tags": '["' + '", "'.join(sorted(rng.sample(TAGS, rng.randint(0, 2)))) + '"]'
                             if rng.random() < 0.8 else "[]",
                             "status": "achieved" if achieved else "active", "created_at": created,
                             "achieved_at": created + dt.timedelta(days=30) if achieved else None,
                             "updated_at": created, "rev": rev})
        with write_transaction():
            for c in range(0, len(rows), CHUNK):
                Goal.insert_many(rows[c:c + CHUNK]).execute()

    goals_for(people, 2)
    goals_for([subject], 10)
    goals = list(Goal.select(Goal.id, Goal.person).tuples())

    t0 = time.perf_counter()
    fields = [V.uuid, V.person, V.author, V.started_at, V.duration_minutes, V.mode, V.location_type, V.attendance,
              V.notes, V.wellbeing, V.rev, V.created_at, V.updated_at]

    def visits(pids, count):
        done = 0
        while done < count:
            size = min(CHUNK * 4, count - done)
            with write_transaction():
                last = next_rev(size)
                batch = []
                for j in range(size):
                    pid = pids[rng.randrange(len(pids))]
                    started = start + dt.timedelta(seconds=rng.randrange(span))
                    batch.append((uuid.uuid4(), pid, worker_of[pid], started, 60, "01", "A01",
                                  "3" if rng.random() < 0.1 else "5", "Talked about the week.",
                                  rng.randint(0, 10) if rng.random() < 0.6 else None, last - size + 1 + j,
                                  started, started))
                for c in range(0, size, CHUNK):
                    V.insert_many(batch[c:c + CHUNK], fields=fields).execute()
            done += size
            print(f"\r  visits {done:,}/{count:,} ({time.perf_counter() - t0:.0f} s)", end="", flush=True)
        print()

    visits(people, n_visits)
    visits([subject], 500)
    with write_transaction():
        rows = []
        for i in range(n_ratings + 100):
            gid, pid = goals[rng.randrange(len(goals))] if i < n_ratings else \
                rng.choice([g for g in goals if g[1] == subject])
            at = start + dt.timedelta(seconds=rng.randrange(span))
            rows.append({"uuid": uuid.uuid4(), "goal": gid, "author": worker_of[pid], "rating": rng.randint(0, 10),
                         "rated_by": rng.choice(["person", "together"]), "created_at": at, "updated_at": at,
                         "rev": rev})
        for c in range(0, len(rows), CHUNK):
            GP.insert_many(rows[c:c + CHUNK]).execute()
        refs = [{"uuid": uuid.uuid4(), "person": pid, "resource": rng.choice(resources), "created_by": worker_of[pid],
                 "status": rng.choice(["suggested", "made", "attended", "not_taken_up"]),
                 "created_at": start + dt.timedelta(seconds=rng.randrange(span)), "rev": rev}
                for pid in people for _ in range(3)]
        for c in range(0, len(refs), CHUNK):
            Referral.insert_many(refs[c:c + CHUNK]).execute()
    from server import db as dbmod

    database.execute_sql("VACUUM ANALYZE" if dbmod.is_postgres() else "ANALYZE")
    subject_uuid = Person.get_by_id(subject).uuid
    return {"today": now.date(), "subject": subject_uuid}


def keep_postgres(admin_url: str, name: str) -> tuple[str, bool]:
    """A named PostgreSQL database kept between runs: (its url, whether it already existed)."""
    import psycopg2
    from playhouse.db_url import parse

    if not name.replace("_", "").isalnum():
        raise SystemExit("--keep for PostgreSQL: a database name of letters, digits and _")
    params = parse(admin_url)
    conn = psycopg2.connect(**params)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        exists = cur.fetchone() is not None
        if not exists:
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    host, port = params.get("host", "127.0.0.1"), params.get("port", 5432)
    return f"postgresql://{params.get('user', 'postgres')}@{host}:{port}/{name}", exists


def timed(client, url: str, runs: int) -> tuple[float, int, int]:
    client.get(url)  # warm: templates compiled, statements prepared
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        response = client.get(url)
        body = response.get_data()
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, (url, response.status_code, body[:300])
    return statistics.median(times), len(body), response.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--ratings", type=int, default=200_000)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=20)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", metavar="PATH",
                        help="keep the seeded data and reuse it when it exists: for SQLite a file path, for "
                             "PostgreSQL a database name (its ids go to <tmp>/NAME.json)")
    parser.add_argument("--postgres-url", default=os.environ.get("ALONGSIDE_TEST_POSTGRES_URL",
                                                                "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()

    from helpers import form_login

    from server import create_app
    from server import db as dbmod

    workdir = Path(tempfile.mkdtemp(prefix="alongside-outcomes-bench-"))
    drop = None
    path = Path(args.keep) if args.keep and args.engine == "sqlite" else workdir / "bench.db"
    reuse = args.engine == "sqlite" and path.exists()
    url = f"sqlite:///{path}" if args.engine == "sqlite" else None
    if url is None and args.keep:
        url, reuse = keep_postgres(args.postgres_url, args.keep)
        path = Path(tempfile.gettempdir()) / f"{args.keep}.db"  # its sidecar: {name}.json in the temp dir
    elif url is None:
        url, drop = make_postgres(args.postgres_url)
    try:
        app = create_app({"TESTING": True, "DATABASE_URL": url, "INSTANCE_PATH": str(workdir / "instance"),
                          "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789", "AUTO_MIGRATE": False,
                          "TOTP_REQUIRED": False})
        dbmod.upgrade()
        sidecar = path.with_suffix(".json")
        if reuse:
            ids = json.loads(sidecar.read_text())
            ids["today"] = dt.date.fromisoformat(ids["today"])
        else:
            print(f"Seeding {args.engine}: {args.people:,} people, {args.visits:,} visits, {args.ratings:,} ratings")
            t0 = time.perf_counter()
            with app.app_context(), dbmod.database.connection_context():
                ids = seed(args.visits, args.ratings, args.people, args.workers, random.Random(16))
            print(f"  seeded in {time.perf_counter() - t0:.0f} s")
            if args.keep:
                sidecar.write_text(json.dumps({"today": str(ids["today"]), "subject": str(ids["subject"])}))
        dbmod.database.close()
        client = app.test_client()
        assert form_login(client, "coord@bench.test", PASSWORD).status_code == 302
        today = ids["today"]
        year = f"from={today - dt.timedelta(days=364)}&to={today}"
        rows = [
            ("outcomes report page, a team's year", f"/coordinator/outcomes?{year}", "<= 500 ms"),
            ("outcomes CSV, a team's year", f"/coordinator/exports/outcomes.csv?{year}", "report"),
            ("subject access page, 500 visits", f"/coordinator/people/{ids['subject']}/record", "<= 1 s"),
            ("subject access JSON, 500 visits", f"/coordinator/people/{ids['subject']}/record.json", "<= 1 s"),
        ]
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"\n| {args.engine} | median of {args.runs} | bytes | target |\n|---|---|---|---|")
        for label, path, target in rows:
            median, size, _ = timed(client, path, args.runs)
            print(f"| {label} | {median:.0f} ms | {size:,} | {target} |")
        print(f"load average (1, 5, 15 min) before: {load}; after: "
              + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    finally:
        dbmod.dispose() if hasattr(dbmod, "dispose") else None
        if drop:
            drop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
