"""Security finding 7: request logs carry no query strings (a searched-for name) and no bearer tokens (an invite
link's path), from the development server and from gunicorn's access log alike."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from helpers import TEST_SECRET

from server.logs import mask

TOKEN = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5"
INVITE = "WyIxYjVmOWE2ZS0yZDZjIiwiYWJjIl0.aw3dlw.iqAqCcJAIMW-mY65MerTpEmydXI"
PERSON_ID = "0b5f9a6e-2d6c-4f3a-9e1f-0a1b2c3d4e5f"


def test_mask():
    assert mask("GET /coordinator/people?q=Robin+Private HTTP/1.1") == "GET /coordinator/people HTTP/1.1"
    assert mask(f"GET /r/{TOKEN}/consent HTTP/1.1") == "GET /r/[token]/consent HTTP/1.1"
    assert mask(f"/coordinator/invite/{INVITE}") == "/coordinator/invite/[token]"
    assert mask(f"/coordinator/people/{PERSON_ID}") == f"/coordinator/people/{PERSON_ID}"  # opaque ids stay
    assert mask("/r/manifest.webmanifest") == "/r/manifest.webmanifest"


def _get(url: str) -> None:
    try:
        urllib.request.urlopen(url, timeout=10).read()  # noqa: S310 - a local test server
    except Exception:  # noqa: BLE001 - 404s and redirects are fine: only the log line matters
        pass


def test_development_server_log_is_masked(app, caplog):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            base = f"http://127.0.0.1:{server.server_port}"
            _get(f"{base}/coordinator/people?q=Robin+Private")
            _get(f"{base}/r/{TOKEN}")
            _get(f"{base}/coordinator/invite/{INVITE}?next=x")
    finally:
        server.shutdown()
        thread.join(5)
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert len(lines) >= 3, lines
    text = "\n".join(lines)
    assert "Robin" not in text and TOKEN not in text and INVITE not in text and "next=" not in text
    assert "/coordinator/people " in text and "/r/[token] " in text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_access_log_is_masked(tmp_path, sqlite_template):
    db = tmp_path / "g.db"
    shutil.copy(sqlite_template, db)
    log = tmp_path / "access.log"
    port = _free_port()
    env = {**os.environ, "ALONGSIDE_DATABASE_URL": f"sqlite:///{db}", "ALONGSIDE_SECRET_KEY": TEST_SECRET,
           "ALONGSIDE_INSTANCE_PATH": str(tmp_path / "instance"), "ALONGSIDE_AUTO_MIGRATE": "false"}
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "--logger-class",
         "server.logs.AccessLogger", "--access-logfile", str(log), "wsgi:app"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).read()  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        _get(f"{base}/coordinator/people?q=Robin+Private")
        _get(f"{base}/r/{TOKEN}/consent")
    finally:
        proc.terminate()
        proc.wait(10)
    text = log.read_text()
    assert "/coordinator/people" in text and "/r/[token]/consent" in text, text
    assert "Robin" not in text and TOKEN not in text
