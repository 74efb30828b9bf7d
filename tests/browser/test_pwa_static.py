"""server/pwa_static.py over HTTP: the shell for in-app paths, real 404s for missing files, no escape from
pwa/, the right types and caching headers, and the strict CSP on everything it serves."""

from __future__ import annotations

import pytest


@pytest.fixture
def client(live_app):
    return live_app.test_client()


@pytest.mark.parametrize("path", ["/app/", "/app/p/2f0c5a4e-1111-4222-8333-444455556666", "/app/diary",
                                  "/app/settings"])
def test_in_app_paths_get_the_shell(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert b'<script type="module" src="/app/js/app.js">' in response.data
    assert response.headers["Cache-Control"] == "no-cache"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_the_shell_has_no_inline_script_or_style(client):
    html = client.get("/app/").get_data(as_text=True)
    assert "<style" not in html and "style=" not in html
    assert html.count("<script") == html.count('<script type="module" src=')


@pytest.mark.parametrize("path", ["/app/js/missing.js", "/app/icons/none.png", "/app/../server/config.py",
                                  "/app/%2e%2e/server/config.py"])
def test_missing_files_and_escapes_are_not_found(client, path):
    assert client.get(path).status_code == 404


def test_types_and_service_worker_headers(client):
    assert client.get("/app/manifest.webmanifest").mimetype == "application/manifest+json"
    assert client.get("/app/js/app.js").mimetype == "text/javascript"
    assert client.get("/app/css/app.css").mimetype == "text/css"
    assert client.get("/app/icons/icon-192.png").mimetype == "image/png"
    sw = client.get("/app/sw.js")
    assert sw.mimetype == "text/javascript"
    assert sw.headers["Cache-Control"] == "no-cache"
    assert sw.headers["Service-Worker-Allowed"] == "/app/"
    assert b"__SHELL_VERSION__" not in sw.data


def test_every_precached_file_exists(client):
    import re

    strategies = client.get("/app/js/sw-strategies.js").get_data(as_text=True)
    listed = re.findall(r'"(/app/[^"]+)"', strategies.split("PRECACHE = [", 1)[1].split("]", 1)[0])
    assert "/app/index.html" in listed and "/app/js/app.js" in listed
    for url in listed:
        assert client.get(url).status_code == 200, url
    # ... and every file the app may load is precached, or it would be missing offline.
    from server.pwa_static import PWA_DIR

    shipped = {"/app/" + str(p.relative_to(PWA_DIR)) for p in PWA_DIR.rglob("*")
               if p.is_file() and p.suffix in (".js", ".css", ".png", ".html", ".webmanifest") and p.name != "sw.js"}
    assert shipped - {"/app/js/sw-strategies.js"} == set(listed)
