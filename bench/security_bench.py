"""What the security round costs per request, on SQLite and (when reachable) PostgreSQL: an app sign-in (the
throttle's reserve and refund, argon2id, the session row, the audit event), the throttle alone, and a sync pull
with nothing new (the session-device check that every push and pull now makes). Prints medians; never fails.

    .venv/bin/python bench/security_bench.py [--runs 40] [--postgres postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PASSWORD = "correct-horse-battery"


def _app(url: str, instance: Path):
    from server import create_app
    from server import db as dbmod

    app = create_app({"TESTING": True, "DATABASE_URL": url, "INSTANCE_PATH": str(instance),
                      "SECRET_KEY": "bench-secret-key-long-enough-0123456789", "AUTO_MIGRATE": True,
                      "TOTP_REQUIRED": False, "LOGIN_FAILURES_PER_MINUTE": 1_000_000})
    with dbmod.database.connection_context():
        dbmod.upgrade()
    return app


def _median_ms(fn, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def run(url: str, label: str, runs: int) -> None:
    from server import throttle
    from server.db import database, write_transaction
    from server.models import Team, User
    from server.passwords import hash_password

    with tempfile.TemporaryDirectory() as tmp:
        app = _app(url, Path(tmp))
        with database.connection_context(), write_transaction():
            team = Team.create(name=f"Bench {uuid.uuid4().hex[:6]}")
            user = User.create(email=f"bench-{uuid.uuid4().hex[:8]}@example.test", name="Bench", role="peer_worker",
                               team=team, password_hash=hash_password(PASSWORD))
        client = app.test_client()

        def sign_in():
            assert client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}).status_code \
                == 200

        csrf = client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}).get_json()[
            "csrf_token"]
        device = client.post("/api/v1/devices", json={"name": "bench"}, headers={"X-CSRF-Token": csrf}).get_json()[
            "device_id"]

        def pull():
            assert client.get("/api/v1/sync/pull?cursor=1000000", headers={"X-Device-Id": device}).status_code == 200

        with app.test_request_context(environ_base={"REMOTE_ADDR": "10.0.0.1"}):
            rules = throttle.password_rules(user.email, "10.0.0.1")

            def reserve_refund():
                with database.connection_context():
                    throttle.refund(throttle.reserve(rules))

            figures = {"throttle reserve + refund": _median_ms(reserve_refund, runs)}
        pull()
        figures["sync pull, nothing new (device and session checks included)"] = _median_ms(pull, runs)
        figures["app sign-in, whole request (argon2id included)"] = _median_ms(sign_in, max(10, runs // 4))
        for name, (median, p95) in figures.items():
            print(f"{label:<10} {name:<62} median {median:7.2f} ms   p95 {p95:7.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/bench.db", "SQLite", args.runs)
    try:
        import psycopg2

        admin = psycopg2.connect(args.postgres, connect_timeout=3)
    except Exception as exc:  # noqa: BLE001
        print(f"PostgreSQL skipped: {exc}")
        return
    admin.autocommit = True
    name = f"alongside_bench_{uuid.uuid4().hex[:8]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        run(args.postgres.rsplit("/", 1)[0] + f"/{name}", "PostgreSQL", args.runs)
    finally:
        from server import db as dbmod

        dbmod.dispose()
        with admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


if __name__ == "__main__":
    main()
