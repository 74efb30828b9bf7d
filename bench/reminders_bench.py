"""Benchmark: dispatch 10,000 due reminders split across the three channels, each to a local stand-in in
its own process (a Web Push endpoint that decrypts every Nth body; a GOV.UK Notify API that checks every
request's JWT; an aiosmtpd SMTP server), through the real pass: release into the outbox, then the dispatcher.
Also a bare loop of pywebpush.webpush calls in the same run, for scale. Prints figures; asserts nothing.

    .venv/bin/python bench/reminders_bench.py [--reminders 10000] [--bare 1000] [--workers 8] [--dispatchers 1]
                                             [--postgres [postgresql://postgres@127.0.0.1:5432/test]]

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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the Notify and SMTP stand-ins the tests use


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
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with counter.get_lock():
                counter.value += 1
                n = counter.value
            status = 201
            if self.headers.get("Content-Type") != "application/octet-stream":
                status = 400
            elif verify_every and n % verify_every == 0:
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


def serve_fake(kind: str, port_queue, counter, problems, verify_every: int):
    """The GOV.UK Notify or SMTP stand-in (child process); keeps the shared counters current. Notify's JWT is
    checked on every Nth request (as the push stand-in decrypts every Nth body), SMTP keeps raw messages."""
    from notify_fakes import NotifyFake, SmtpFake

    fake = NotifyFake(verify_every=max(1, verify_every)) if kind == "notify" else SmtpFake(parse=False)
    port_queue.put(fake.base_url if kind == "notify" else fake.url)
    while True:
        counter.value = len(fake.received)
        problems.value = len(getattr(fake, "problems", []))
        time.sleep(0.02)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--bare", type=int, default=1_000, help="pywebpush.webpush calls in the bare loop")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--dispatchers", type=int, default=1, help="dispatcher processes at once (all claim safely)")
    parser.add_argument("--verify-every", type=int, default=50,
                        help="the push stand-in decrypts, and the Notify stand-in checks the JWT of, every Nth request")
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
    counters = {name: ctx.Value("i", 0) for name in ("push", "notify", "smtp")}
    problems = {name: ctx.Value("i", 0) for name in ("notify", "smtp")}
    queue = ctx.Queue()
    children = [ctx.Process(target=serve, args=(queue, str(keys_path), args.verify_every, counters["push"]),
                            daemon=True)]
    children[0].start()
    origin = f"http://127.0.0.1:{queue.get(timeout=20)}"
    addresses = {}
    for kind in ("notify", "smtp"):
        child = ctx.Process(target=serve_fake, args=(kind, queue, counters[kind], problems[kind], args.verify_every),
                            daemon=True)
        child.start()
        children.append(child)
        addresses[kind] = queue.get(timeout=20)

    from notify_fakes import API_KEY, SMS_TEMPLATE

    from server import create_app
    from server import db as dbmod

    database_url, drop = f"sqlite:///{tmp / 'bench.db'}", None
    if args.postgres:
        database_url, drop = make_postgres_database(args.postgres)
    config = {"INSTANCE_PATH": str(tmp / "instance"), "SECRET_KEY": "bench-" + "x" * 40, "TESTING": True,
              "DATABASE_URL": database_url, "AUTO_MIGRATE": True,
              "NOTIFY_API_KEY": API_KEY, "NOTIFY_BASE_URL": addresses["notify"], "NOTIFY_SMS_TEMPLATE_ID": SMS_TEMPLATE,
              "SMTP_URL": addresses["smtp"], "SMTP_FROM": "reminders@alongside.example"}
    try:
        app = create_app(config)
        run(app, args, origin, p256dh, auth, counters, problems, config)
    finally:
        for child in children:
            child.terminate()
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


def dispatch_elsewhere(config: dict, workers: int, batch: int, start, results) -> None:
    """Another dispatcher process on the same database (child process): waits for the start signal."""
    from server import create_app
    from server.notify import Dispatcher

    app = create_app({**config, "AUTO_MIGRATE": False})
    with Dispatcher.from_app(app, workers=workers, batch_size=batch) as dispatcher:
        start.wait()
        results.put(dispatcher.send_due().as_dict())


def run(app, args, origin, p256dh, auth, counters, problems, config):
    from server import db as dbmod
    from server.db import utcnow, write_transaction
    from server.models import Consent, ContactPoint, OutboxAttempt, Person, PushSubscription, Reminder, Team
    from server.notify import Dispatcher
    from server.reminders.dispatch import release_due

    cfg = app.config["ALONGSIDE"]

    # --- the data: one person and one due reminder each; a third by push, a third SMS, a third email -------
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
            mix = tuple(os.environ.get("BENCH_CHANNELS", "webpush,sms,email").split(","))
            channel = {pid: mix[i % len(mix)] for i, pid in enumerate(ids)}
            subs = [{"person": pid, "endpoint": f"{origin}/push/{pid}", "endpoint_hash": f"{team.id}-{pid}",
                     "p256dh": p256dh, "auth": b64url(auth)} for pid in ids if channel[pid] == "webpush"]
            consents = [{"person": pid, "channel": channel[pid], "text_version": "bench"} for pid in ids
                        if channel[pid] != "webpush"]
            rems = [{"person": pid, "kind": "goal_step", "template": "step", "body": "Reminder: x", "send_at": due}
                    for pid in ids]
            for start in range(0, n, 1000):
                PushSubscription.insert_many(subs[start:start + 1000]).execute()
                Reminder.insert_many(rems[start:start + 1000]).execute()
                Consent.insert_many(consents[start:start + 1000]).execute()
            contacts = [{"person": c.person_id, "channel": c.channel, "consent": c.id,
                         "address": f"077009{c.person_id:05d}" if c.channel == "sms" else f"p{c.person_id}@example.org"}
                        for c in Consent.select().where(Consent.text_version == "bench")]
            for start in range(0, len(contacts), 1000):
                ContactPoint.insert_many(contacts[start:start + 1000]).execute()
    setup = time.perf_counter() - t0

    # --- a bare loop of pywebpush.webpush calls ------------------------------------------------
    bare = None
    if args.bare:
        from py_vapid import Vapid02
        from pywebpush import webpush

        vapid = Vapid02.from_pem(cfg.extra["VAPID_PEM"].encode())
        info = {"endpoint": f"{origin}/push/bare", "keys": {"p256dh": p256dh, "auth": b64url(auth)}}
        payload = json.dumps({"title": "Alongside", "body": "Reminder: the step you planned for today",
                              "url": "/r/", "tag": "alongside-bench"})
        t0 = time.perf_counter()
        for _ in range(args.bare):
            webpush(info, payload, vapid_private_key=vapid, vapid_claims={"sub": cfg.VAPID_SUBJECT}, ttl=3600,
                    headers={"Urgency": "normal", "Content-Type": "application/octet-stream"})
        bare = time.perf_counter() - t0

    # --- the pass: release into the outbox, then the dispatcher over the three channels ------------------
    before = {k: v.value for k, v in counters.items()}
    ctx = mp.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    others = [ctx.Process(target=dispatch_elsewhere, args=(config, args.workers, args.batch_size, start, results))
              for _ in range(args.dispatchers - 1)]
    for other in others:
        other.start()
    time.sleep(3 if others else 0)  # let them start their apps before the clock starts
    t0, c0 = time.perf_counter(), time.process_time()
    with Dispatcher.from_app(app, workers=args.workers, batch_size=args.batch_size) as dispatcher:
        with dbmod.database.connection_context():
            released = release_due()
        t_release = time.perf_counter() - t0
        start.set()
        sent = dispatcher.send_due().as_dict()
        for _ in others:
            for key, value in results.get(timeout=600).items():
                sent[key] += value
    took, cpu = time.perf_counter() - t0, time.process_time() - c0
    for other in others:
        other.join(10)
    result = {"reminders_queued": released.queued, **sent}
    time.sleep(0.1)  # the stand-ins' counters are refreshed every 20 ms
    got = {k: v.value - before[k] for k, v in counters.items()}
    with dbmod.database.connection_context():
        queued = Reminder.select().where(Reminder.status == "queued").count()
        delivered = OutboxAttempt.select().where(OutboxAttempt.outcome == "delivered").count()

    engine = "PostgreSQL" if dbmod.is_postgres() else "SQLite"
    print(f"reminders bench ({engine}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f})")
    print(f"  setup: {n} people, one due reminder each (push / SMS / email in thirds) in {setup:.1f} s")
    if bare is not None:
        print(f"  bare pywebpush.webpush loop: {args.bare} sends in {bare:.2f} s = {args.bare / bare:.0f} sends/s")
    print(f"  release into the outbox: {released.queued} reminders, {released.messages} messages in {t_release:.2f} s")
    print(f"  pass ({args.dispatchers} dispatcher(s), workers={args.workers}, batch={args.batch_size}): "
          f"{result['sent']} sent in {took:.2f} s "
          f"= {result['sent'] / took:.0f} sends/s (queued {result['reminders_queued']}, failed {result['failed']}, "
          f"retrying {result['retrying']}); first dispatcher's CPU {cpu:.2f} s "
          f"= {cpu / max(1, result['sent']) * 1e3:.2f} ms a send")
    print(f"  received: push {got['push']}, GOV.UK Notify SMS {got['notify']}, SMTP email {got['smtp']}; "
          f"JWT/SMTP problems {problems['notify'].value}/{problems['smtp'].value}; reminders queued {queued}; "
          f"delivered rows {delivered}")


if __name__ == "__main__":
    main()
