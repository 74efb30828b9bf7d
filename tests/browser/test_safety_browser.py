"""Safety in real Chromium. The 11,205-character note on a visit with a serious concern is stopped on the phone
(360x640) with the message beside the field and a summary at the top, before anything is saved; shortened, it
saves and syncs, and a `concern` alert is raised. The coordinator (1366x768) finds it on the alert pages (axe finds
nothing), acknowledges it with an action note and an outcome, and the note and outcome reach the worker's phone
and show on the visit. Screenshots go to the test's tmp directory."""

from __future__ import annotations

import time
from pathlib import Path

from helpers import PASSWORD
from pwa_steps import open_person, sign_in, sync_now, unsynced, wait_synced

AXE = (Path(__file__).parent.parent / "vendor/axe-core-4.14.1/axe.min.js").read_text()
LAPTOP = {"width": 1366, "height": 768}
NOTE = "Walked to the shop and talked about the week. " * 244  # 11,224 characters, trimmed below
LONG = NOTE[:11_205]


def axe_violations(page) -> list:
    """axe-core's violations on the whole page (the phone's app banners included)."""
    page.evaluate(AXE + "\n;0")
    return page.evaluate("async () => (await axe.run(document)).violations"
                         ".map(v => [v.id, v.nodes.length, v.nodes[0].target.join(' ')])")


def test_long_note_stopped_on_phone_then_concern_alert_ack_reaches_the_phone(live_server, field, page,
                                                                            playwright_browser, tmp_path):
    from server.models import StaffAlert, Visit

    worker = field.user(name="Sam Worker")
    coordinator = field.user("coordinator", name="Cass Coordinator")
    field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")
    page.click("#log-visit")
    page.wait_for_selector("h1:text-is('Log a visit')")
    page.check("input[name=concern][value=high]")
    page.fill("textarea[name=concern_notes]", "Said they do not feel safe at home")
    page.fill("textarea[name=notes]", LONG)
    counter = page.locator(".counter[data-for=notes]")
    assert counter.inner_text() == "11,205 of 10,000 characters: 1,205 too many"
    page.click("#save-visit")
    beside = page.locator("textarea[name=notes] ~ .field-error")
    beside.wait_for()
    assert beside.inner_text() == "This is 11,205 characters: the most is 10,000. Shorten it by 1,205."
    notes_field = page.locator(".field:has(textarea[name=notes])")
    assert notes_field.locator(".field-error").count() == 1  # beside this field, not elsewhere
    assert page.get_attribute("textarea[name=notes]", "aria-invalid") == "true"
    assert "field-error" in page.evaluate("document.getElementById(document.querySelector('textarea[name=notes]')"
                                          ".getAttribute('aria-describedby').split(' ').pop()).className")
    summary = page.locator(".form-errors")
    assert summary.is_visible() and summary.inner_text().startswith("Notes: This is 11,205 characters")
    assert page.locator("h1").inner_text() == "Log a visit" and unsynced(page) == 0  # nothing saved
    assert page.input_value("textarea[name=notes]") == LONG  # nothing typed is lost
    assert axe_violations(page) == [], "visit form with a refused note"
    page.screenshot(path=str(tmp_path / "phone-long-note-refused.png"), full_page=False)
    notes_field.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "phone-long-note-beside.png"), full_page=False)

    page.fill("textarea[name=notes]", LONG[:10_000])
    assert counter.inner_text() == "10,000 of 10,000 characters"
    page.click("#save-visit")
    page.wait_for_selector("#visits")
    wait_synced(page)
    alert = field.read(lambda: StaffAlert.get(StaffAlert.kind == "concern"))
    assert alert.level == "high" and alert.worker_id == worker.id

    laptop = playwright_browser.new_context(viewport=LAPTOP)
    try:
        desk = laptop.new_page()
        desk.goto(live_server.url + "/login")
        desk.fill("#email", coordinator.email)
        desk.fill("#password", PASSWORD)
        desk.click("button[type=submit]")
        desk.wait_for_url("**/coordinator/**")
        desk.goto(live_server.url + "/coordinator/alerts/")
        assert "Serious concern: Alex Example" in desk.inner_text("main")
        assert axe_violations(desk) == [], "alert list"
        desk.screenshot(path=str(tmp_path / "coordinator-alerts.png"))
        desk.click("text=Serious concern: Alex Example")
        desk.wait_for_selector("h1:text-is('Serious concern')")
        assert axe_violations(desk) == [], "alert page"
        desk.select_option("#outcome", "safeguarding")
        desk.fill("#note", "I have called Alex and made a safeguarding referral. Call me after your next visit.")
        desk.click("button:text-is('Acknowledge')")
        desk.wait_for_selector("text=Acknowledged: it will not escalate.")
        assert axe_violations(desk) == [], "alert page, acknowledged"
        desk.screenshot(path=str(tmp_path / "coordinator-alert-acknowledged.png"), full_page=True)
        desk.goto(live_server.url + "/coordinator/alerts/settings")
        assert axe_violations(desk) == [], "alert settings"
        desk.screenshot(path=str(tmp_path / "coordinator-alert-settings.png"), full_page=True)
        desk.goto(live_server.url + "/coordinator/concerns?show=all")
        assert "Serious concern" in desk.inner_text("main") and "Safeguarding referral made" in desk.inner_text("main")
    finally:
        laptop.close()
    visit = field.read(lambda: Visit.get())
    assert visit.concern_outcome == "safeguarding"

    sync_now(page)  # the person page is open: it redraws with what the pull brought
    wait_synced(page)
    reply = page.locator("[data-concern-reply]")
    reply.wait_for()
    text = reply.inner_text()
    assert "Your coordinator answered your concern" in text
    assert "Safeguarding referral made" in text and "made a safeguarding referral" in text
    assert axe_violations(page) == [], "person page with the coordinator's answer"
    page.screenshot(path=str(tmp_path / "phone-concern-answered.png"), full_page=True)
    page.click(f"a[href='/app/v/{visit.uuid}']")
    page.wait_for_selector("h1:text-is('Visit')")
    assert "made a safeguarding referral" in page.locator("[data-concern-reply]").inner_text()


def test_alerts_on_this_browser_register_their_own_service_worker(live_server, field, playwright_browser, tmp_path):
    coordinator = field.user("coordinator", name="Cass Coordinator")
    context = playwright_browser.new_context(viewport=LAPTOP, service_workers="allow")
    try:
        context.grant_permissions(["notifications"], origin=live_server.url)
        desk = context.new_page()
        desk.goto(live_server.url + "/login")
        desk.fill("#email", coordinator.email)
        desk.fill("#password", PASSWORD)
        desk.click("button[type=submit]")
        desk.wait_for_url("**/coordinator/**")
        desk.goto(live_server.url + "/coordinator/alerts/settings")
        desk.click("#alerts-on")
        # This Chromium has no push service to subscribe with; the worker registers at its own scope regardless.
        deadline = time.monotonic() + 15  # (page.wait_for_function does not wait on a promise)
        while not desk.evaluate("""async () => {
                const r = await navigator.serviceWorker.getRegistration('/coordinator/alerts/');
                return !!(r && (r.active || r.installing || r.waiting)); }"""):
            assert time.monotonic() < deadline, "the alerts service worker never registered"
            desk.wait_for_timeout(100)
        scope = desk.evaluate("""async () => {
            const r = await navigator.serviceWorker.getRegistration('/coordinator/alerts/');
            return [r.scope, (r.active || r.installing || r.waiting).scriptURL]; }""")
        assert scope == [live_server.url + "/coordinator/alerts/", live_server.url + "/coordinator/alerts/sw.js"]
        # (Subscribing then waits on a push service this machine does not have; the server side of a browser's
        # subscription is tested in test_safety_alert_pages.py, delivery with real encryption in test_safety_alerts.)
        assert desk.inner_text("#alerts-status") != ""
        assert axe_violations(desk) == [], "alert settings after trying"
    finally:
        context.close()
