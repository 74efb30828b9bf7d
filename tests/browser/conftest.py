"""Browser fixtures: the app served over real HTTP on 127.0.0.1 (SQLite file, migrated), Debian's Chromium
driven by Playwright, and WebKit (WebKitGTK's MiniBrowser, Safari's engine) driven by Selenium for the journeys
written once for both (`phone`, tests/browser/phones.py). Browser tests skip when a browser is missing locally,
and fail instead when ALONGSIDE_REQUIRE_BROWSER=1 (CI)."""

from __future__ import annotations

import os
import shutil
import socket
import threading

import pytest

# Must be set before Playwright starts: lets context.route() see (and abort) service-worker requests.
os.environ.setdefault("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")

CHROMIUM = os.environ.get("ALONGSIDE_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("ALONGSIDE_REQUIRE_BROWSER") == "1"
PHONE = {"width": 360, "height": 640}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def playwright_browser():
    if not os.path.exists(CHROMIUM):
        if REQUIRE_BROWSER:
            pytest.fail(f"Browser tests are required (ALONGSIDE_REQUIRE_BROWSER=1) but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} not installed (make browser installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-first-run", "--disable-quic"],
        )
        yield browser
        browser.close()


class LiveServer:
    """The Flask app on a real socket in a background thread."""

    def __init__(self, app):
        self.app = app
        self.port = 0
        self._server = None

    def start(self):
        """Listen (again: on the same port, with the same data, after stop())."""
        from werkzeug.serving import make_server

        server = self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self._connections = set()
        self._requests: list[threading.Thread] = []

        def process_request(request, client_address):
            # As ThreadingMixIn does, but the connection and its thread are kept: stop() cuts kept-alive
            # connections, and waits for every request to end, so none outlives its test (a request still
            # running when the next test rebinds the database would use a closed SQLite connection).
            self._connections.add(request)
            thread = threading.Thread(target=server.process_request_thread, args=(request, client_address),
                                      daemon=True)
            self._requests = [t for t in self._requests if t.is_alive()]
            self._requests.append(thread)
            thread.start()

        server.process_request = process_request
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """The server is unreachable (connection refused), as when it is down: the phone still thinks it is online."""
        if self._server is None:
            return
        self._server.shutdown()
        for connection in self._connections:  # a browser's kept-alive connection would still be served
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        self._thread.join(timeout=5)
        for thread in self._requests:  # each ends at once now its connection is cut, or finishes its work
            thread.join(timeout=30)
        stuck = [t for t in self._requests if t.is_alive()]
        self._server = None
        assert not stuck, f"{len(stuck)} request(s) still running 30 s after the server stopped"


@pytest.fixture
def live_app(tmp_path, sqlite_template):
    from helpers import TEST_SECRET

    from server import create_app

    db_path = tmp_path / "live.db"
    shutil.copy(sqlite_template, db_path)
    app = create_app({
        "TESTING": True,
        "DATABASE_URL": f"sqlite:///{db_path}",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": TEST_SECRET,
        "AUTO_MIGRATE": False,
        "TOTP_REQUIRED": False,  # test_two_step_browser.py turns the coordinators' second step on
    })
    return app


@pytest.fixture
def live_server(live_app):
    server = LiveServer(live_app).start()
    yield server
    server.stop()


@pytest.fixture
def browser_context(playwright_browser, tmp_path):
    """A phone-sized context that allows service workers."""
    context = playwright_browser.new_context(service_workers="allow", viewport=PHONE)
    yield context
    context.close()


@pytest.fixture
def page(browser_context):
    return browser_context.new_page()


@pytest.fixture(scope="session")
def webkit_session():
    from phones import WebKitSession, webkit_missing

    missing = webkit_missing()
    if missing:
        if REQUIRE_BROWSER:
            pytest.fail(f"WebKit browser tests are required (ALONGSIDE_REQUIRE_BROWSER=1) but {missing}")
        pytest.skip(missing)
    session = WebKitSession()
    yield session
    session.close()


@pytest.fixture(params=["chromium", "webkit"])
def phone(request, live_server):
    """The field app on a phone, once in Chromium and once in WebKit: journeys take this and nothing else."""
    from phones import ChromiumPhone, WebKitPhone

    if request.param == "chromium":
        context = request.getfixturevalue("browser_context")
        yield ChromiumPhone(live_server.url, context.new_page())
        return
    driver = request.getfixturevalue("webkit_session").new_driver()
    try:
        yield WebKitPhone(live_server.url, driver)
    finally:
        driver.quit()


def go_offline(context) -> None:
    """Really offline: set_offline alone does not stop the service worker's own fetches."""
    context.set_offline(True)
    context.route("**/*", lambda route: route.abort("internetdisconnected"))


def go_online(context) -> None:
    context.unroute("**/*")
    context.set_offline(False)


# --- the field app (PWA) ---------------------------------------------------------------------------


class FieldData:
    """People, workers and resources for field-app tests, written straight into the live server's database."""

    def __init__(self):
        from server import db as dbmod

        self.db = dbmod
        self.team = None

    def tx(self):
        """with field.tx(): ... a write transaction on a connection of this (test) thread."""
        from contextlib import contextmanager

        @contextmanager
        def _tx():
            with self.db.database.connection_context(), self.db.write_transaction():
                yield

        return _tx()

    def read(self, fn):
        with self.db.database.connection_context():
            return fn()

    def user(self, role="peer_worker", name="Sam Worker"):
        import uuid as uuidlib

        from helpers import PASSWORD

        from server.models import Team, User

        with self.tx():
            if self.team is None:
                self.team = Team.create(name="Field team")
            return User.create(email=f"{role}-{uuidlib.uuid4().hex[:8]}@example.test", name=name, role=role,
                               team=self.team, password_hash=_cached_hash(PASSWORD))

    def person(self, worker, name="Alex Example"):
        from server.models import Person

        with self.tx():
            person = Person.create(team=self.team, display_name=name, rev=_next_rev())
            person.assign_to(worker)
            return person

    def resource(self, name="Riverside Food Bank", category="Food"):
        from server.models import Resource

        with self.tx():
            return Resource.create(name=name, category=category, description="Food parcels, no referral needed",
                                   phone="01234 567890", area="North", rev=_next_rev())


_HASHES: dict[str, str] = {}


def _cached_hash(password: str) -> str:
    from server.passwords import hash_password

    if password not in _HASHES:
        _HASHES[password] = hash_password(password)
    return _HASHES[password]


def _next_rev() -> int:
    from server.sync.revisions import next_rev

    return next_rev()


@pytest.fixture
def field(live_server):
    return FieldData()


@pytest.fixture
def persistent_context_factory(playwright_browser, tmp_path):
    """Open (and re-open) a phone-sized browser profile on disk: IndexedDB, caches and the service worker
    survive closing it, as on a real phone. Call it again with the same name to reopen the same storage."""
    opened = []

    def _open(name="phone"):
        context = playwright_browser.browser_type.launch_persistent_context(
            str(tmp_path / f"profile-{name}"),
            executable_path=CHROMIUM,
            service_workers="allow",
            viewport=PHONE,
            args=["--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-first-run", "--disable-quic"],
        )
        opened.append(context)
        return context

    yield _open
    for context in opened:
        try:
            context.close()
        except Exception:  # noqa: BLE001 - already closed by the test
            pass
