"""Sync benchmarks: push throughput, initial and incremental pull, and 20 devices over real HTTP
(gunicorn, 2 workers) on SQLite and PostgreSQL. Prints each figure beside its target; never asserts.

    .venv/bin/python bench/sync_bench.py [--skip-http] [--skip-million] [--http-only] [--seconds 30]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
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

import requests  # noqa: E402

from server import create_app  # noqa: E402
from server import db as dbmod  # noqa: E402
from server.changes import current_rev, next_rev  # noqa: E402
from server.db import write_transaction  # noqa: E402
from server.models import (  # noqa: E402
    Goal,
    GoalProgress,
    Person,
    Referral,
    Resource,
    Team,
    User,
    Visit,
)
from server.passwords import hash_password  # noqa: E402
from server.sync import _VISIT_DEFAULTS, _insert_rows  # noqa: E402

PASSWORD = "bench-password-long-enough"
SECRET = "bench-secret-key-that-is-long-enough-0123456789"
PG_ADMIN = os.environ.get("ALONGSIDE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
WORDS = ("talked walk park sleep better anxious calmer sister bus appointment food bank garden group coffee "
         "felt tired money worry letter council housing job centre music football cooking plan next week "
         "phone call text mood steady low good quiet busy family friend library volunteer course").split()
RNG = random.Random(7)
_HASH = None


def row(label, figure, target):
    print(f"  {label:<62} {figure:>18}   target {target}")


def note(n=20):
    return " ".join(RNG.choice(WORDS) for _ in range(n))


def password_hash():
    global _HASH
    if _HASH is None:
        _HASH = hash_password(PASSWORD)
    return _HASH


def make_sqlite_app(tmp: Path):
    return create_app({"DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}", "SECRET_KEY": SECRET,
                       "INSTANCE_PATH": str(tmp / "instance"), "AUTO_MIGRATE": True})


def login(client, email):
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.get_data()
    token = response.get_json()["csrf_token"]
    device = client.post("/api/v1/devices", json={"name": "bench"}, headers={"X-CSRF-Token": token})
    return token, device.get_json()["device_id"]


def make_worker(team, name="Bench Worker"):
    return User.create(email=f"{uuid.uuid4().hex[:10]}@bench.test", name=name, role="peer_worker", team=team,
                       password_hash=password_hash())


def visit_mutation(person_uuid, **fields):
    return {"id": str(uuid.uuid4()), "entity": "visit", "record_id": str(uuid.uuid4()), "op": "upsert",
            "base_rev": None, "fields": {"person_id": str(person_uuid), "started_at": "2026-11-20T10:00:00+00:00",
                                         "duration_minutes": 45, "mode": "01", "location_type": "A01",
                                         "attendance": "5", "wellbeing": 6, "concern": "none",
                                         "notes": note(), **fields}}


# --- 1. push throughput --------------------------------------------------------------------------

def bench_push(tmp: Path):
    app = make_sqlite_app(tmp)
    team = Team.create(name="Bench")
    worker = make_worker(team)
    with write_transaction():
        person = Person.create(team=team, display_name="P", rev=next_rev())
        person.assign_to(worker)
    client = app.test_client()
    token, device_id = login(client, worker.email)
    batches = [[visit_mutation(person.uuid) for _ in range(100)] for _ in range(10)]
    client.post("/api/v1/sync/push", json={"device_id": device_id, "mutations": [visit_mutation(person.uuid)]},
                headers={"X-CSRF-Token": token})  # warm up
    start, cpu = time.perf_counter(), time.process_time()
    for batch in batches:
        response = client.post("/api/v1/sync/push", json={"device_id": device_id, "mutations": batch},
                               headers={"X-CSRF-Token": token})
        assert response.status_code == 200 and response.get_json()["results"][-1]["status"] == "applied"
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    row("push 1,000 visit mutations, batches of 100 (SQLite, Flask app)", f"{1000 / elapsed:,.0f} /s",
        ">= 2,000 /s")
    row("  the same per CPU second (what an idle core would do)", f"{1000 / cpu:,.0f} /s", ">= 2,000 /s")
    dbmod.database.close()


# --- 2 and 3. initial pull of a 10,000-record caseload; incremental pull among 1,000,000 visits ----------

def seed_caseload(team, worker, coordinator):
    """40 people, 400 goals, 7,000 visits, 1,500 goal ratings, 1,000 referrals, 60 resources, 1,000 more revs
    of churn: 10,000 records, the Community Health Toolkit's warning line for one offline user."""
    now = dbmod.utcnow()
    with write_transaction():
        resources = [Resource.create(name=f"Resource {i}", category="food", description=note(30),
                                     address="1 High Street, Town", phone="01234 567890", area="North",
                                     opening_hours="Mon-Fri 9-5", rev=next_rev()) for i in range(60)]
        people = []
        for i in range(40):
            person = Person.create(team=team, display_name=f"Person {i}", preferred_contact="text",
                                   rev=next_rev())
            person.assign_to(worker, by=coordinator)
            people.append(person)
        goals = []
        for person in people:
            for _ in range(10):
                goals.append(Goal.create(person=person, created_by=worker, title=note(6), life_area="health",
                                         steps=note(15), rev=next_rev()))
        first = next_rev(7000) - 7000
        Visit.insert_many([{
            "uuid": uuid.uuid4(), "person": people[i % 40].id, "author": worker.id, "rev": first + i + 1,
            "started_at": now, "duration_minutes": 45, "notes": note(30), "wellbeing": 6,
            "goal_ids": "[]", "created_at": now, "updated_at": now} for i in range(7000)]).execute()
        visit_ids = [v.id for v in Visit.select(Visit.id).where(Visit.author == worker).limit(1500)]
        first = next_rev(1500) - 1500
        GoalProgress.insert_many([{
            "uuid": uuid.uuid4(), "goal": goals[i % len(goals)].id, "visit": visit_ids[i], "author": worker.id,
            "rating": 5, "note": note(8), "rev": first + i + 1, "created_at": now, "updated_at": now}
            for i in range(1500)]).execute()
        first = next_rev(1000) - 1000
        Referral.insert_many([{
            "uuid": uuid.uuid4(), "person": people[i % 40].id, "resource": resources[i % 60].id,
            "created_by": worker.id, "notes": note(10), "rev": first + i + 1, "created_at": now,
            "updated_at": now} for i in range(1000)]).execute()
    return people


def bench_pulls(tmp: Path, million: bool):
    app = make_sqlite_app(tmp)
    team = Team.create(name="Bench")
    coordinator = User.create(email="c@bench.test", name="C", role="coordinator", team=team,
                              password_hash=password_hash())
    worker = make_worker(team)
    people = seed_caseload(team, worker, coordinator)
    client = app.test_client()
    token, device_id = login(client, worker.email)
    headers = {"X-Device-Id": device_id, "Accept-Encoding": "gzip"}

    def full_pull(limit):
        cursor, total_bytes, records, server, cpu = 0, 0, 0, 0.0, 0.0
        while True:
            start, cpu_start = time.perf_counter(), time.process_time()
            response = client.get(f"/api/v1/sync/pull?cursor={cursor}&limit={limit}", headers=headers)
            server += time.perf_counter() - start
            cpu += time.process_time() - cpu_start
            total_bytes += len(response.get_data())
            page = json.loads(gzip.decompress(response.get_data()))
            records += len(page["changes"])
            cursor = page["cursor"]
            if not page["more"]:
                return server, total_bytes, records, cpu

    full_pull(5000)  # warm up
    runs = [full_pull(5000) for _ in range(3)]
    server, size, records, cpu = min(runs)
    row(f"initial pull, {records:,} records, pages of 5,000 (SQLite)", f"{server * 1000:,.0f} ms", "<= 1,000 ms")
    row("  the same in CPU time", f"{cpu * 1000:,.0f} ms", "<= 1,000 ms")
    row("initial pull on the wire, gzip", f"{size / 1e6:.2f} MB", "<= 1.5 MB")
    server500, _, _, cpu500 = full_pull(500)
    row(f"initial pull, {records:,} records, pages of 500 (SQLite)",
        f"{server500 * 1000:,.0f} ms ({cpu500 * 1000:,.0f} CPU)", "(no target)")

    if million:
        others_team = Team.create(name="Others")
        others = [make_worker(others_team, f"Other {i}") for i in range(50)]
        start = time.perf_counter()
        now = dbmod.utcnow()
        with write_transaction():
            other_people = [Person.create(team=others_team, display_name=f"O{i}", rev=next_rev())
                            for i in range(2000)]
        total = 1_000_000 - Visit.select().count()
        chunk = 20_000
        done = 0
        while done < total:
            n = min(chunk, total - done)
            with write_transaction():
                first = next_rev(n) - n
                _insert_rows(Visit, [dict(_VISIT_DEFAULTS, **{
                    "uuid": uuid.uuid4(), "person": other_people[(done + i) % 2000].id,
                    "author": others[(done + i) % 50].id, "rev": first + i + 1, "started_at": now,
                    "notes": "visit notes", "created_at": now, "updated_at": now})
                    for i in range(n)])
            done += n
        dbmod.database.execute_sql("ANALYZE")
        seeded = time.perf_counter() - start
        full_pull(5000)
        cursor = current_rev()
        mutations = [visit_mutation(people[i % 40].uuid) for i in range(50)]
        client.post("/api/v1/sync/push", json={"device_id": device_id, "mutations": mutations},
                    headers={"X-CSRF-Token": token})
        times = []
        for _ in range(20):
            start = time.perf_counter()
            response = client.get(f"/api/v1/sync/pull?cursor={cursor}&limit=500", headers=headers)
            times.append(time.perf_counter() - start)
            page = json.loads(gzip.decompress(response.get_data()))
            assert len(page["changes"]) == 50, len(page["changes"])
        row(f"incremental pull of 50 changes, {Visit.select().count():,} visits in the DB (SQLite)",
            f"{statistics.median(times) * 1000:.1f} ms", "<= 50 ms")
        print(f"    (seeded in {seeded:.0f} s; median of 20 pulls, p95 {sorted(times)[18] * 1000:.1f} ms)")
    dbmod.database.close()


# --- 4. 20 devices over real HTTP ---------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_http_db(url: str, instance: Path, devices: int):
    database = dbmod.make_database(url, instance)
    dbmod.bind(database)
    dbmod.upgrade()
    with database.connection_context():
        team = Team.create(name="HTTP")
        users = []
        with write_transaction():
            shared = Person.create(team=team, display_name="Shared", rev=next_rev())
            for i in range(devices):
                user = make_worker(team, f"Device {i}")
                person = Person.create(team=team, display_name=f"Person {i}", rev=next_rev())
                person.assign_to(user)
                shared.assign_to(user)
                users.append((user.email, str(person.uuid)))
    database.close()
    return users


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
        if int(fields[1]) == master_pid:  # ppid
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def run_http(label, url, instance: Path, seconds, devices=20):
    users = prepare_http_db(url, instance, devices)
    port = free_port()
    env = dict(os.environ, ALONGSIDE_DATABASE_URL=url, ALONGSIDE_SECRET_KEY=SECRET,
               ALONGSIDE_INSTANCE_PATH=str(instance), ALONGSIDE_AUTO_MIGRATE="0")
    server_threads = os.environ.get("BENCH_THREADS", "4")  # gunicorn threads per worker
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "-k", "gthread", "--threads", server_threads,
                             "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
                            cwd=str(ROOT), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.1)
    push_times, pull_times, mutations, errors = [], [], [0], []
    stop = threading.Event()
    lock = threading.Lock()

    def device(email, person_uuid):
        try:
            session = requests.Session()
            r = session.post(f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=30)
            session.headers["X-CSRF-Token"] = r.json()["csrf_token"]
            device_id = session.post(f"{base}/api/v1/devices", json={"name": "bench"}, timeout=30).json()["device_id"]
            session.headers["X-Device-Id"] = device_id
            cursor = 0
            while not stop.is_set():
                batch = [visit_mutation(person_uuid) for _ in range(10)]
                start = time.perf_counter()
                r = session.post(f"{base}/api/v1/sync/push", json={"device_id": device_id, "mutations": batch},
                                 timeout=60)
                elapsed = time.perf_counter() - start
                if r.status_code != 200:
                    errors.append(r.status_code)
                    continue
                with lock:
                    push_times.append(elapsed)
                    mutations[0] += len(batch)
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

    threads = [threading.Thread(target=device, args=u) for u in users]
    for t in threads:
        t.start()
    time.sleep(3)  # sign-ins (argon2) settle before measuring
    with lock:
        push_times.clear()
        pull_times.clear()
        mutations[0] = 0
    start, cpu_start, client_start = time.perf_counter(), server_cpu_seconds(proc.pid), time.process_time()
    load_start = os.getloadavg()[0]
    time.sleep(seconds)
    with lock:
        elapsed = time.perf_counter() - start
        pushes, pulls, applied = list(push_times), list(pull_times), mutations[0]
    server_cpu = server_cpu_seconds(proc.pid) - cpu_start
    client_cpu = time.process_time() - client_start
    stop.set()
    for t in threads:
        t.join(timeout=60)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)

    def p95(values):
        return sorted(values)[int(len(values) * 0.95)] * 1000 if values else float("nan")

    print(f"  {label}: {devices} devices x {seconds} s, gunicorn 2 workers x {server_threads} threads")
    row("  requests per second (push + pull)", f"{(len(pushes) + len(pulls)) / elapsed:,.0f} /s", "(report)")
    row("  mutations applied per second", f"{applied / elapsed:,.0f} /s", "(report)")
    row("  push (10 visits) p95 / median", f"{p95(pushes):.0f} / {statistics.median(pushes) * 1000:.0f} ms",
        "p95 <= 250 ms")
    row("  pull p95 / median", f"{p95(pulls):.0f} / {statistics.median(pulls) * 1000:.0f} ms", "(report)")
    requests_done = max(1, len(pushes) + len(pulls))
    row("  server CPU per request (gunicorn workers)", f"{server_cpu / requests_done * 1000:.1f} ms",
        f"(cores busy: {server_cpu / elapsed:.2f} of 2)")
    row("  the 20 simulated devices' own CPU (same machine)", f"{client_cpu / elapsed:.2f} cores", "(report)")
    row("  load average before / after", f"{load_start:.1f} / {os.getloadavg()[0]:.1f}", "(report)")
    if errors:
        print(f"    errors: {len(errors)} e.g. {errors[:3]}")


def bench_http(tmp: Path, seconds: int):
    run_http("SQLite", f"sqlite:///{tmp / 'http.db'}", tmp / "instance-sqlite", seconds)
    import psycopg2
    from playhouse.db_url import parse

    params = parse(PG_ADMIN)
    try:
        conn = psycopg2.connect(**params, connect_timeout=3)
    except Exception as exc:  # noqa: BLE001
        print(f"  PostgreSQL: not available ({exc})")
        return
    conn.autocommit = True
    name = f"alongside_bench_{uuid.uuid4().hex[:8]}"
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"postgresql://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}:" \
              f"{params.get('port', 5432)}/{name}"
        run_http("PostgreSQL", url, tmp / "instance-pg", seconds)
    finally:
        dbmod.database.close()
        with conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-million", action="store_true")
    parser.add_argument("--http-only", action="store_true")
    parser.add_argument("--seconds", type=int, default=30)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="alongside-sync-bench-"))
    try:
        print("Sync benchmarks (figure, then target)")
        if not args.http_only:
            (tmp / "push").mkdir()
            bench_push(tmp / "push")
            (tmp / "pull").mkdir()
            bench_pulls(tmp / "pull", million=not args.skip_million)
        if not args.skip_http:
            bench_http(tmp, args.seconds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
