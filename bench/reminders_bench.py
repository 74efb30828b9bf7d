"""Benchmark: dispatch 10,000 due reminders to a local push endpoint, beside a bare loop of
pywebpush.webpush calls in the same run. Prints figures; asserts nothing about time.

    .venv/bin/python bench/reminders_bench.py [--reminders 10000] [--bare 2000] [--workers 8]
                                             [--postgres [postgresql://postgres@127.0.0.1:5432/test]]

The endpoint runs in its own process (so it does not share the sender's interpreter lock) and answers
201 after reading the body; --verify-every N makes it decrypt every Nth push as a sanity check.
--postgres creates a throwaway database beside the given one (dropped at the end); default SQLite."""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def serve(port_queue, keys_path: str, verify_every: int, counter):
    """The local push service (child process)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import http_ece
    from cryptography.hazmat.primitives import serialization

    with open(keys_path) as fh:
        spec = json.load(fh)
    key = serialization.load_pem_private_key(spec["pem"].encode(), password=None)
    auth = base64.urlsafe_b64decode(spec["auth"] + "==")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with counter.get_lock():
                counter.value += 1
                n = counter.value
            status = 201
            if verify_every and n % verify_every == 0:
                try:
                    json.loads(http_ece.decrypt(body, private_key=key, auth_secret=auth, version="aes128gcm"))
                except Exception:  # noqa: BLE001
                    status = 400
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_queue.put(server.server_port)
    server.serve_forever()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--bare", type=int, default=2_000, help="pywebpush.webpush calls in the bare loop")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--verify-every", type=int, default=500)
    parser.add_argument("--postgres", nargs="?", const="postgresql://postgres@127.0.0.1:5432/test", default="",
                        help="admin URL; a throwaway database is made beside it")
    args = parser.parse_args()

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    tmp = Path(tempfile.mkdtemp(prefix="reminders-bench-"))
    receiver = ec.generate_private_key(ec.SECP256R1())
    auth = os.urandom(16)
    keys_path = tmp / "receiver.json"
    keys_path.write_text(json.dumps({
        "pem": receiver.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode(),
        "auth": b64url(auth),
    }))
    p256dh = b64url(receiver.public_key().public_bytes(serialization.Encoding.X962,
                                                       serialization.PublicFormat.UncompressedPoint))

    ctx = mp.get_context("spawn")
    port_queue, counter = ctx.Queue(), ctx.Value("i", 0)
    endpoint = ctx.Process(target=serve, args=(port_queue, str(keys_path), args.verify_every, counter), daemon=True)
    endpoint.start()
    origin = f"http://127.0.0.1:{port_queue.get(timeout=20)}"

    from server import create_app
    from server import db as dbmod

    database_url, drop = f"sqlite:///{tmp / 'bench.db'}", None
    if args.postgres:
        database_url, drop = make_postgres_database(args.postgres)
    config = {"INSTANCE_PATH": str(tmp / "instance"), "SECRET_KEY": "bench-" + "x" * 40, "TESTING": True,
              "DATABASE_URL": database_url, "AUTO_MIGRATE": True}
    try:
        app = create_app(config)
        run(app, args, origin, p256dh, auth, counter)
    finally:
        endpoint.terminate()
        if drop:
            dbmod.database.close()
            drop()


def make_postgres_database(admin_url: str):
    import uuid

    import psycopg2
    from playhouse.db_url import parse

    params = parse(admin_url)
    conn = psycopg2.connect(**params)
    conn.autocommit = True
    name = f"alongside_bench_{uuid.uuid4().hex[:10]}"
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()

    base = admin_url.rsplit("/", 1)[0]
    return f"{base}/{name}", drop


def run(app, args, origin, p256dh, auth, counter):
    from server import db as dbmod
    from server.db import utcnow, write_transaction
    from server.models import Person, PushSubscription, Reminder, ReminderDelivery, Team
    from server.reminders import Dispatcher

    cfg = app.config["ALONGSIDE"]

    # --- the data: one person, one phone, one due reminder each ---------------------------------
    n = args.reminders
    t0 = time.perf_counter()
    with dbmod.database.connection_context():
        with write_transaction():
            team = Team.create(name=f"Bench {os.urandom(3).hex()}")
            people = [{"team": team.id, "display_name": f"P{i}", "reminders_opt_in": True} for i in range(n)]
            for start in range(0, n, 1000):
                Person.insert_many(people[start:start + 1000]).execute()
            ids = [p.id for p in Person.select(Person.id).where(Person.team == team.id).order_by(Person.id)]
            due = utcnow() - dt.timedelta(minutes=1)
            subs = [{"person": pid, "endpoint": f"{origin}/push/{pid}", "endpoint_hash": f"{team.id}-{pid}",
                     "p256dh": p256dh, "auth": b64url(auth)} for pid in ids]
            rems = [{"person": pid, "kind": "goal_step", "body": "Reminder: the step you planned for today",
                     "send_at": due} for pid in ids]
            for start in range(0, n, 1000):
                PushSubscription.insert_many(subs[start:start + 1000]).execute()
                Reminder.insert_many(rems[start:start + 1000]).execute()
    setup = time.perf_counter() - t0

    # --- a bare loop of pywebpush.webpush calls ------------------------------------------------
    from py_vapid import Vapid02
    from pywebpush import webpush

    vapid = Vapid02.from_pem(cfg.extra["VAPID_PEM"].encode())
    info = {"endpoint": f"{origin}/push/bare", "keys": {"p256dh": p256dh, "auth": b64url(auth)}}
    payload = json.dumps({"title": "Alongside", "body": "Reminder: the step you planned for today",
                          "url": "/r/", "tag": "alongside-bench"})
    t0 = time.perf_counter()
    for _ in range(args.bare):
        webpush(info, payload, vapid_private_key=vapid, vapid_claims={"sub": cfg.VAPID_SUBJECT}, ttl=3600,
                headers={"Urgency": "normal"})
    bare = time.perf_counter() - t0

    # --- the dispatcher --------------------------------------------------------------------------
    before = counter.value
    t0 = time.perf_counter()
    with Dispatcher.from_app(app, workers=args.workers, batch_size=args.batch_size) as dispatcher:
        result = dispatcher.send_due()
    took = time.perf_counter() - t0
    received = counter.value - before
    with dbmod.database.connection_context():
        sent = Reminder.select().where(Reminder.status == "sent").count()
        deliveries = ReminderDelivery.select().where(ReminderDelivery.outcome == "delivered").count()

    engine = "PostgreSQL" if dbmod.is_postgres() else "SQLite"
    print(f"reminders bench ({engine}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f})")
    print(f"  setup: {n} people, subscriptions and due reminders in {setup:.1f} s")
    print(f"  bare pywebpush.webpush loop: {args.bare} sends in {bare:.2f} s = {args.bare / bare:.0f} sends/s")
    print(f"  dispatcher (workers={args.workers}, batch={args.batch_size}): {result.sent} sent in {took:.2f} s "
          f"= {result.sent / took:.0f} sends/s (claimed {result.claimed}, failed {result.failed}, "
          f"retrying {result.retrying})")
    print(f"  endpoint received {received}; reminders sent {sent}; delivered rows {deliveries}")


if __name__ == "__main__":
    main()
