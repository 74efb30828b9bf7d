"""Sync benchmarks on the shapes real use has (bench/sync_shapes.py): push of a day's visits spread over a
1,000-person caseload with goal ratings, in-process and over real HTTP (gunicorn, 2 workers); initial and
incremental pull of a 10,030-record caseload over HTTP; 20 devices at once. SQLite and PostgreSQL. Prints each
figure beside its target; never asserts on time.

    .venv/bin/python bench/sync_bench.py [--only push,http-push,pull,million,devices] [--engines sqlite,postgres]
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import requests  # noqa: E402
import sync_shapes as shapes  # noqa: E402

from server import create_app  # noqa: E402
from server import db as dbmod  # noqa: E402
from server.models import Person, Team, Visit  # noqa: E402

SECRET = "bench-secret-key-that-is-long-enough-0123456789"
PG_ADMIN = os.environ.get("ALONGSIDE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def row(label, figure, target="(report)"):
    print(f"  {label:<66} {figure:>20}   target {target}", flush=True)


# --- databases --------------------------------------------------------------------------------------

@contextlib.contextmanager
def database_url(engine: str, tmp: Path):
    """A fresh, migrated database of this engine; its URL."""
    if engine == "sqlite":
        path = tmp / f"bench-{uuid.uuid4().hex[:6]}.db"
        url = f"sqlite:///{path}"
        yield url
        return
    import psycopg2
    from playhouse.db_url import parse

    params = parse(PG_ADMIN)
    conn = psycopg2.connect(**params, connect_timeout=3)
    conn.autocommit = True
    name = f"alongside_bench_{uuid.uuid4().hex[:8]}"
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield (f"postgresql://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}:"
               f"{params.get('port', 5432)}/{name}")
    finally:
        dbmod.dispose()
        with conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.close()


def make_app(url: str, tmp: Path):
    return create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "INSTANCE_PATH": str(tmp / "instance"),
                       "AUTO_MIGRATE": True})


def seeded(url: str, tmp: Path):
    """App, worker and the 10,030-record caseload."""
    app = make_app(url, tmp)
    with app.app_context(), dbmod.database.connection_context():
        team, worker, coordinator = shapes.make_team()
        people, _ = shapes.seed_caseload(team, worker)
        dbmod.database.execute_sql("ANALYZE")
    return app, worker, people


def login(client, email):
    r = client.post("/api/v1/auth/login", json={"email": email, "password": shapes.PASSWORD})
    assert r.status_code == 200, r.get_data()
    token = r.get_json()["csrf_token"]
    device = client.post("/api/v1/devices", json={"name": "bench"}, headers={"X-CSRF-Token": token})
    return token, device.get_json()["device_id"]


# --- 1. push in-process ------------------------------------------------------------------------------------

def bench_push(engine: str, tmp: Path):
    with database_url(engine, tmp) as url:
        app, worker, people = seeded(url, tmp)
        client = app.test_client()
        token, device_id = login(client, worker.email)

        def push(batches):
            start, cpu = time.perf_counter(), time.process_time()
            count = 0
            for batch in batches:
                r = client.post("/api/v1/sync/push", json={"device_id": device_id, "mutations": batch},
                                headers={"X-CSRF-Token": token})
                results = r.get_json()["results"]
                assert r.status_code == 200 and all(x["status"] == "applied" for x in results), results[:3]
                count += len(batch)
            return count, time.perf_counter() - start, time.process_time() - cpu

        push(shapes.spread_batches(people, 1, 20))  # warm up
        runs = [push(shapes.spread_batches(people)) for _ in range(3)]
        count, elapsed, cpu = min(runs, key=lambda r: r[1])
        row(f"push {count:,} mutations (1,000 visits on 1,000 people + ratings), batches of 100 visits",
            f"{count / elapsed:,.0f} /s", ">= 5,000 /s")
        row("  the same as visits per second; CPU per mutation",
            f"{1000 / elapsed:,.0f} /s; {cpu / count * 1e6:.0f} us")
        count, elapsed, _ = push(shapes.single_person_batches(people[0][0]))
        row("  old flattering shape: 1,000 visits on one person, no ratings", f"{count / elapsed:,.0f} /s")
        dbmod.dispose()


# --- 2. over real HTTP -------------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gunicorn(url: str, instance: Path, threads="4"):
    port = free_port()
    env = dict(os.environ, ALONGSIDE_DATABASE_URL=url, ALONGSIDE_SECRET_KEY=SECRET,
               ALONGSIDE_INSTANCE_PATH=str(instance), ALONGSIDE_AUTO_MIGRATE="0")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "-k", "gthread", "--threads", threads,
                             "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
                            cwd=str(ROOT), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.1)
    try:
        yield base, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def server_cpu_seconds(master_pid: int) -> float:
    """CPU time (user + system) of the gunicorn workers so far, from /proc (Linux)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master_pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def http_session(base, email):
    session = requests.Session()
    r = session.post(f"{base}/api/v1/auth/login", json={"email": email, "password": shapes.PASSWORD}, timeout=30)
    session.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    device_id = session.post(f"{base}/api/v1/devices", json={"name": "bench"}, timeout=30).json()["device_id"]
    session.headers["X-Device-Id"] = device_id
    session.headers["Accept-Encoding"] = "gzip"
    return session, device_id


def bench_http(engine: str, tmp: Path, million: bool):
    with database_url(engine, tmp) as url:
        app, worker, people = seeded(url, tmp)
        dbmod.dispose()
        with gunicorn(url, tmp / "instance") as (base, proc):
            session, device_id = http_session(base, worker.email)

            def full_pull():
                cursor, size, records = 0, 0, 0
                start, cpu0 = time.perf_counter(), server_cpu_seconds(proc.pid)
                while True:
                    r = session.get(f"{base}/api/v1/sync/pull?cursor={cursor}&limit=500", timeout=60, stream=True)
                    raw = r.raw.read(decode_content=False)
                    size += len(raw)
                    page = json.loads(gzip.decompress(raw) if r.headers.get("Content-Encoding") == "gzip" else raw)
                    if "changes" not in page:
                        raise SystemExit(f"pull failed: HTTP {r.status_code} {page}")
                    records += len(page["changes"])
                    cursor = page["cursor"]
                    if not page["more"]:
                        return time.perf_counter() - start, server_cpu_seconds(proc.pid) - cpu0, size, records, cursor

            full_pull()
            runs = sorted(full_pull() for _ in range(5))
            wall, cpu, size, records, cursor = runs[len(runs) // 2]
            row(f"initial pull, {records:,} records, pages of 500, HTTP ({engine})", f"{wall * 1000:,.0f} ms",
                "<= 600 ms")
            row("  on the wire (gzip); server CPU", f"{size / 1e6:.2f} MB; {cpu * 1000:.0f} ms", "<= 1.2 MB")
            def push_day():
                batches = [json.dumps({"device_id": device_id, "mutations": b})
                           for b in shapes.spread_batches(people)]
                cpu0, start = server_cpu_seconds(proc.pid), time.perf_counter()
                for body in batches:
                    r = session.post(f"{base}/api/v1/sync/push", data=body, timeout=60,
                                     headers={"Content-Type": "application/json"})
                    assert r.status_code == 200 and r.json()["results"][-1]["status"] == "applied", r.text[:300]
                return time.perf_counter() - start, server_cpu_seconds(proc.pid) - cpu0

            push_day()  # warm up both workers
            runs = sorted(push_day() for _ in range(5))
            wall, cpu = runs[len(runs) // 2]
            row(f"push 1,000 visits (+1,500 ratings) in 10 batches over HTTP ({engine})",
                f"{wall * 1000:,.0f} ms", "<= 250 ms")
            row("  runs (ms); server CPU of the median run",
                f"{'/'.join(f'{w * 1000:.0f}' for w, _ in runs)}; {cpu * 1000:.0f} ms")

            cursor = full_pull()[4]  # the pushes above, then only what changes next
            incremental(session, base, device_id, people, cursor, f"incremental pull of 50 changes, HTTP ({engine})",
                        "<= 14 ms")
            if million:
                dbmod.bind(dbmod.make_database(url, tmp / "instance"))
                seeded_rows = seed_million()
                dbmod.dispose()
                cursor = full_pull()[4]
                incremental(session, base, device_id, people, cursor,
                            f"incremental pull of 50 changes, {seeded_rows:,} visits in the DB, HTTP ({engine})",
                            "<= 20 ms")


def incremental(session, base, device_id, people, cursor, label, target):
    times = []
    for _ in range(20):
        batch = [shapes.visit_mutation(people[i * 7 % len(people)][0]) for i in range(50)]
        r = session.post(f"{base}/api/v1/sync/push", json={"device_id": device_id, "mutations": batch}, timeout=60)
        assert r.status_code == 200
        start = time.perf_counter()
        r = session.get(f"{base}/api/v1/sync/pull?cursor={cursor}&limit=500", timeout=60)
        times.append(time.perf_counter() - start)
        page = r.json()
        assert len(page["changes"]) == 50, len(page["changes"])
        cursor = page["cursor"]
    times.sort()
    row(label, f"{statistics.median(times) * 1000:.1f} ms", target)
    row("  p95 of 20", f"{times[18] * 1000:.1f} ms")


def seed_million() -> int:
    """Other teams' history up to 1,000,000 visits in the database."""
    from server.sync.revisions import next_rev  # noqa: PLC0415

    with dbmod.database.connection_context():
        team = Team.create(name=f"Others {uuid.uuid4().hex[:6]}")
        others = [shapes.make_user(team, name=f"Other {i}") for i in range(50)]
        now = dbmod.utcnow()
        with dbmod.write_transaction():
            for i in range(2000):
                Person.create(team=team, display_name=f"O{i}", rev=next_rev())
        pids = [p.id for p in Person.select(Person.id).where(Person.team == team)]
        total = 1_000_000 - Visit.select().count()
        done = 0
        while done < total:
            n = min(20_000, total - done)
            with dbmod.write_transaction():
                first = next_rev(n) - n
                rows = [{"uuid": uuid.uuid4(), "person": pids[(done + i) % 2000], "author": others[(done + i) % 50].id,
                         "rev": first + i + 1, "started_at": now, "notes": "visit notes", "goal_ids": "[]",
                         "created_at": now, "updated_at": now} for i in range(n)]
                for start in range(0, n, 2000):
                    Visit.insert_many(rows[start:start + 2000]).execute()
            done += n
        dbmod.database.execute_sql("ANALYZE")
        return Visit.select().count()


# --- 3. 20 devices at once ---------------------------------------------------------------------------------

def bench_devices(engine: str, tmp: Path, seconds: int, devices=20):
    from server.sync.revisions import next_rev  # noqa: PLC0415

    with database_url(engine, tmp) as url:
        make_app(url, tmp)
        with dbmod.database.connection_context():
            team = Team.create(name="HTTP")
            users = []
            with dbmod.write_transaction():
                shared = Person.create(team=team, display_name="Shared", rev=next_rev())
                for i in range(devices):
                    user = shapes.make_user(team, name=f"Device {i}")
                    person = Person.create(team=team, display_name=f"Person {i}", rev=next_rev())
                    person.assign_to(user)
                    shared.assign_to(user)
                    users.append((user.email, person.uuid))
        dbmod.dispose()
        threads_per_worker = os.environ.get("BENCH_THREADS", "4")
        with gunicorn(url, tmp / "instance", threads_per_worker) as (base, proc):
            push_times, pull_times, applied, errors = [], [], [0], []
            stop, lock = threading.Event(), threading.Lock()

            def device(session, device_id, person_uuid):
                try:
                    cursor = 0
                    while not stop.is_set():
                        batch = [shapes.visit_mutation(person_uuid) for _ in range(10)]
                        start = time.perf_counter()
                        r = session.post(f"{base}/api/v1/sync/push", json={"device_id": device_id,
                                                                           "mutations": batch}, timeout=60)
                        elapsed = time.perf_counter() - start
                        if r.status_code != 200:
                            errors.append(r.status_code)
                            continue
                        with lock:
                            push_times.append(elapsed)
                            applied[0] += len(batch)
                        more = True
                        while more and not stop.is_set():
                            start = time.perf_counter()
                            r = session.get(f"{base}/api/v1/sync/pull?cursor={cursor}&limit=500", timeout=60)
                            elapsed = time.perf_counter() - start
                            if r.status_code != 200:
                                errors.append(r.status_code)
                                break
                            page = r.json()
                            cursor, more = page["cursor"], page["more"]
                            with lock:
                                pull_times.append(elapsed)
                except Exception as exc:  # noqa: BLE001 - a benchmark reports, it does not crash
                    errors.append(repr(exc))

            # Sign in one after another first: twenty sign-ins at once from one address meet the sign-in throttle
            # (each takes a slot while its password is checked), which refused most devices in earlier runs.
            signed_in = [(*http_session(base, email), person_uuid) for email, person_uuid in users]
            threads = [threading.Thread(target=device, args=u) for u in signed_in]
            for t in threads:
                t.start()
            time.sleep(3)  # every device busy before measuring
            with lock:
                push_times.clear()
                pull_times.clear()
                applied[0] = 0
            start, cpu0, load0 = time.perf_counter(), server_cpu_seconds(proc.pid), os.getloadavg()[0]
            time.sleep(seconds)
            with lock:
                elapsed = time.perf_counter() - start
                pushes, pulls, done = list(push_times), list(pull_times), applied[0]
            server_cpu = server_cpu_seconds(proc.pid) - cpu0
            stop.set()
            for t in threads:
                t.join(timeout=60)

        def p95(values):
            return sorted(values)[int(len(values) * 0.95)] * 1000 if values else float("nan")

        print(f"  {engine}: {devices} devices x {seconds} s, gunicorn 2 workers x {threads_per_worker} threads")
        row("  requests per second (push + pull); mutations applied per second",
            f"{(len(pushes) + len(pulls)) / elapsed:,.0f}; {done / elapsed:,.0f} /s")
        row("  push (10 visits) p95 / median", f"{p95(pushes):.0f} / {statistics.median(pushes) * 1000:.0f} ms",
            "p95 <= 250 ms, no worse")
        row("  pull p95 / median", f"{p95(pulls):.0f} / {statistics.median(pulls) * 1000:.0f} ms")
        row("  server CPU per request; load average before / after",
            f"{server_cpu / max(1, len(pushes) + len(pulls)) * 1000:.1f} ms; {load0:.1f} / {os.getloadavg()[0]:.1f}")
        if errors:
            print(f"    errors: {len(errors)} e.g. {errors[:3]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="push,http,million,devices",
                        help="comma-separated: push (in-process), http (push and pulls over HTTP), million "
                             "(incremental pull among 1,000,000 visits, with http), devices (20 at once)")
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--seconds", type=int, default=30)
    args = parser.parse_args()
    only = set(args.only.split(","))
    tmp = Path(tempfile.mkdtemp(prefix="alongside-sync-bench-"))
    try:
        print(f"Sync benchmarks (figure, then target); load average {os.getloadavg()[0]:.1f}")
        for engine in args.engines.split(","):
            print(f"[{engine}]")
            if "push" in only:
                bench_push(engine, tmp)
            if "http" in only:
                bench_http(engine, tmp, "million" in only)
            if "devices" in only:
                bench_devices(engine, tmp, args.seconds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
