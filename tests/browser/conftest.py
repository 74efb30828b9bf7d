"""Browser fixtures: the app served over real HTTP on 127.0.0.1 (SQLite file, migrated), and Debian's
Chromium driven by Playwright. Browser tests skip when Chromium is missing locally, and fail instead
when ALONGSIDE_REQUIRE_BROWSER=1 (CI)."""

from __future__ import annotations

import os
import shutil
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
        from werkzeug.serving import make_server

        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._thread.join(timeout=5)


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


def go_offline(context) -> None:
    """Really offline: set_offline alone does not stop the service worker's own fetches."""
    context.set_offline(True)
    context.route("**/*", lambda route: route.abort("internetdisconnected"))


def go_online(context) -> None:
    context.unroute("**/*")
    context.set_offline(False)
