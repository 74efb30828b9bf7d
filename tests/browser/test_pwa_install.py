"""The field app is installable: a valid manifest with real icons, a service worker that controls the
page and precaches the shell under a versioned cache, and updates offered rather than forced."""

from __future__ import annotations

import struct

from conftest import go_offline, go_online
from pwa_steps import open_app

from server import pwa_static


def png_size(body: bytes) -> tuple[int, int]:
    assert body[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", body[16:24])


def test_manifest_is_valid_for_installation(live_server, persistent_context_factory):
    context = persistent_context_factory("install")  # a real profile: incognito is never installable
    page = context.pages[0] if context.pages else context.new_page()
    open_app(page, live_server.url)
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)
    href = page.get_attribute("link[rel=manifest]", "href")
    response = page.request.get(live_server.url + href)
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["name"] and manifest["short_name"]
    assert manifest["start_url"] == "/app/" and manifest["display"] == "standalone"
    assert manifest["theme_color"].startswith("#") and manifest["background_color"].startswith("#")
    seen = set()
    for icon in manifest["icons"]:
        body = page.request.get(live_server.url + icon["src"]).body()
        width, height = png_size(body)
        assert f"{width}x{height}" == icon["sizes"]
        seen.add((width, icon.get("purpose", "any")))
    assert {(192, "any"), (512, "any"), (512, "maskable")} <= seen
    # Chromium's own manifest parser and installability check, through the DevTools protocol.
    cdp = context.new_cdp_session(page)
    assert cdp.send("Page.getAppManifest")["errors"] == []
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []


def test_service_worker_controls_the_page_and_serves_the_shell_offline(live_server, browser_context, page):
    open_app(page, live_server.url)
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)
    caches = page.evaluate("caches.keys()")
    assert caches == [f"alongside-static-{pwa_static._version_cache['v']}"]
    sw = page.request.get(live_server.url + "/app/sw.js")
    assert sw.headers["cache-control"] == "no-cache"
    assert "__SHELL_VERSION__" not in sw.text()
    shell = page.request.get(live_server.url + "/app/")
    assert "script-src" not in shell.headers["content-security-policy"]  # default-src 'self' covers scripts
    assert "default-src 'self'" in shell.headers["content-security-policy"]
    go_offline(browser_context)
    page.goto(live_server.url + "/app/diary")  # a deep link, offline: the worker answers with the shell
    page.wait_for_selector("html[data-ready]")
    assert page.locator("h1").inner_text() == "Sign in"
    api = page.evaluate("fetch('/api/v1/auth/me').then(() => 'answered', () => 'network error')")
    assert api == "network error"  # API calls are never answered from a cache
    go_online(browser_context)


def test_a_new_version_is_offered_not_forced(live_server, page):
    open_app(page, live_server.url)
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)
    old = page.evaluate("caches.keys()")
    page.fill("input[name=email]", "half-typed@example")  # the worker is in the middle of a form
    pwa_static._version_cache["v"] = "newversion01"  # as if the app had been deployed again
    try:
        page.evaluate("navigator.serviceWorker.getRegistration('/app/').then((r) => r.update())")
        page.wait_for_selector("#update-banner :text('A new version is ready')", timeout=15000)
        page.wait_for_timeout(300)
        assert page.input_value("input[name=email]") == "half-typed@example"  # offered, not forced
        # the new version waits beside the old one until the worker chooses to reload
        assert sorted(page.evaluate("caches.keys()")) == sorted([*old, "alongside-static-newversion01"])
        page.click("#update-banner button")
        page.wait_for_function(
            "async () => { const k = await caches.keys(); return k.length === 1 && k[0].endsWith('newversion01'); }",
            timeout=15000)
        page.wait_for_selector("html[data-ready]")
        assert old != page.evaluate("caches.keys()")
    finally:
        pwa_static._version_cache.clear()


IPHONE_SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/18.0 Mobile/15E148 Safari/604.1")


def test_iphone_safari_outside_the_installed_app_is_told_once_why_to_install(live_server, playwright_browser):
    context = playwright_browser.new_context(service_workers="allow", viewport={"width": 360, "height": 640},
                                             user_agent=IPHONE_SAFARI)
    try:
        page = context.new_page()
        open_app(page, live_server.url)
        notice = page.locator("[role=note]:has-text('Safari clears')")
        notice.wait_for()
        assert "Home Screen" in notice.inner_text()
        page.reload()
        page.wait_for_selector("html[data-ready]")
        page.wait_for_timeout(200)
        assert page.locator("[role=note]").count() == 0  # once is enough
    finally:
        context.close()
