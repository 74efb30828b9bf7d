"""Fault injection: responses lost after the commit, and a server process killed with SIGKILL in the middle of
a batch. Re-sending answers `applied` for what was not applied and `duplicate` for what was; the SQLite file
passes its integrity check."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import peewee
import pytest
import requests
from helpers import PASSWORD, TEST_SECRET
from sync_support import HttpDevice, mutation, new_id, person_on_caseload, visit_fields

from server import db as dbmod
from server.models import AppliedMutation, Person, Team, User, Visit
from server.passwords import hash_password

ROOT = Path(__file__).resolve().parent.parent


class DropResponseAfterCommit:
    """WSGI middleware: runs the app to completion (so its transaction commits), then the connection
    'breaks' and the client never sees the answer."""

    def __init__(self, app):
        self.app = app
        self.armed = False
        self.dropped = 0

    def __call__(self, environ, start_response):
        if not self.armed:
            return self.app(environ, start_response)
        chunks = []
        body = self.app(environ, lambda status, headers, exc_info=None: chunks.append(status) or (lambda data: None))
        for _ in body:  # the whole response is produced: the server side is finished and committed
            pass
        if hasattr(body, "close"):
            body.close()
        self.dropped += 1
        raise ConnectionResetError("response lost on the way back to the phone")


def test_lost_responses_then_resend_gives_duplicates(app, worker):
    middleware = DropResponseAfterCommit(app.wsgi_app)
    app.wsgi_app = middleware
    client = app.test_client()
    phone = HttpDevice(client, worker)
    person = person_on_caseload(worker)
    first = [mutation("visit", new_id(), visit_fields(person.uuid, notes=str(i))) for i in range(5)]
    first.append(mutation("visit", new_id(), visit_fields(person.uuid, wellbeing=42)))  # rejected, kept
    middleware.armed = True
    with pytest.raises(ConnectionResetError):
        phone.push(first)
    middleware.armed = False
    assert middleware.dropped == 1 and Visit.select().count() == 5  # the server committed
    second = [mutation("visit", new_id(), visit_fields(person.uuid)) for _ in range(3)]
    results = phone.push(first + second)  # the outbox still holds the first batch: send it all again
    assert [r["status"] for r in results] == ["duplicate"] * 6 + ["applied"] * 3
    assert [r["outcome"] for r in results[:6]] == ["applied"] * 5 + ["rejected"]
    assert Visit.select().count() == 8 and AppliedMutation.select().count() == 9
    seen = phone.pull_all()
    visit_ids = [c["record_id"] for c in seen if c["entity"] == "visit"]
    assert len(visit_ids) == len(set(visit_ids)) == 8


def test_lost_pull_response_is_simply_pulled_again(app, worker):
    middleware = DropResponseAfterCommit(app.wsgi_app)
    app.wsgi_app = middleware
    phone = HttpDevice(app.test_client(), worker)
    person = person_on_caseload(worker)
    phone.push([mutation("visit", new_id(), visit_fields(person.uuid)) for _ in range(4)])
    middleware.armed = True
    with pytest.raises(ConnectionResetError):
        phone.pull_all()
    middleware.armed = False
    assert phone.cursor == 0  # the device never saw the page, so it keeps its cursor
    phone.pull_all()
    assert len(phone.ids("visit")) == 4


SERVER_SCRIPT = """
import os, sys, time
sys.path.insert(0, os.environ["ALONGSIDE_ROOT"])
from server import create_app
from server.sync import push
from werkzeug.serving import make_server

app = create_app({"DATABASE_URL": os.environ["DB_URL"], "SECRET_KEY": os.environ["SECRET"],
                  "INSTANCE_PATH": os.environ["INSTANCE"], "AUTO_MIGRATE": True})
marker = os.environ.get("MARKER")
if marker:  # slow each mutation of a "slow" batch down and say how far it got, so the kill lands mid-batch
    original = push.Batch.apply
    def slow_apply(self, item):
        result = original(self, item)
        if getattr(item, "fields", {}).get("notes") == "slow":
            with open(marker, "a") as f:
                f.write("x")
            time.sleep(0.15)
        return result
    push.Batch.apply = slow_apply
server = make_server("127.0.0.1", int(os.environ["PORT"]), app, threaded=True)
print("ready", flush=True)
server.serve_forever()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(tmp_path, db_url, port, marker=None):
    script = tmp_path / "serve.py"
    script.write_text(SERVER_SCRIPT)
    env = dict(os.environ, ALONGSIDE_ROOT=str(ROOT), DB_URL=db_url, SECRET=TEST_SECRET, PORT=str(port),
               INSTANCE=str(tmp_path / "instance"))
    env.pop("MARKER", None)
    if marker:
        env["MARKER"] = str(marker)
    proc = subprocess.Popen([sys.executable, str(script)], env=env, cwd=str(ROOT), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    assert line.strip() == "ready", "server did not start"
    return proc


def _login(base, email):
    session = requests.Session()
    response = session.post(f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=10)
    assert response.status_code == 200, response.text
    session.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return session


def test_server_killed_mid_batch_then_restarted(tmp_path):
    path = tmp_path / "faults.db"
    db_url = f"sqlite:///{path}"
    database = peewee.SqliteDatabase(str(path), pragmas=dbmod.SQLITE_PRAGMAS)
    dbmod.bind(database)
    dbmod.upgrade()
    team = Team.create(name="Team")
    worker = User.create(email="w@example.test", name="W", role="peer_worker", team=team,
                         password_hash=hash_password(PASSWORD))
    person = person_on_caseload(worker)
    person_id = str(Person.get_by_id(person.id).uuid)
    database.close()

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    marker = tmp_path / "progress"
    proc = _start(tmp_path, db_url, port, marker)
    try:
        session = _login(base, worker.email)
        device_id = session.post(f"{base}/api/v1/devices", json={"name": "phone"}, timeout=10).json()["device_id"]
        committed = [mutation("visit", new_id(), visit_fields(person_id, notes="fast")) for _ in range(4)]
        response = session.post(f"{base}/api/v1/sync/push", json={"device_id": device_id, "mutations": committed},
                                timeout=10)
        assert [r["status"] for r in response.json()["results"]] == ["applied"] * 4
        in_flight = [mutation("visit", new_id(), visit_fields(person_id, notes="slow")) for _ in range(10)]
        outcome = {}

        def send():
            try:
                outcome["response"] = session.post(f"{base}/api/v1/sync/push", timeout=30,
                                                   json={"device_id": device_id, "mutations": in_flight})
            except requests.RequestException as exc:
                outcome["error"] = exc

        sender = threading.Thread(target=send)
        sender.start()
        deadline = time.monotonic() + 20
        while (not marker.exists() or len(marker.read_text()) < 4) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert marker.exists() and 4 <= len(marker.read_text()) < 10  # killed in the middle of the batch
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        sender.join(timeout=30)
        assert "error" in outcome  # the phone never got an answer, so its outbox still holds everything
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    proc = _start(tmp_path, db_url, port)
    try:
        session = _login(base, worker.email)
        response = session.post(f"{base}/api/v1/sync/push", timeout=10,
                                json={"device_id": device_id, "mutations": committed + in_flight})
        results = response.json()["results"]
        assert [r["status"] for r in results] == ["duplicate"] * 4 + ["applied"] * 10
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM visit").fetchone()[0] == 14
        assert conn.execute("SELECT count(*) FROM applied_mutation").fetchone()[0] == 14
    finally:
        conn.close()
