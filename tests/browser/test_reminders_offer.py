"""Offering reminders from the worker's phone, in two browser contexts: the worker opens the person page, the
"Reminders" section says off; "Offer reminders" shows a large QR code and the link; a second context (the
person's own phone, pushManager.subscribe stubbed to a local push endpoint) opens the link and consents; the
worker's screen turns to "on" by itself. Stopping from the person's side and from the worker's side both
show "off". Offline, the section says plainly that it needs signal. Checked for accessibility and looked
at (screenshots) at 360x640 and 1366x768."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import go_offline, go_online
from pwa_steps import open_person, sign_in
from reminder_push_endpoint import PushEndpoint
from test_person_page import STUB
from test_pwa_a11y import audit

from server.models import Consent, Person, PushSubscription

AXE = Path(__file__).resolve().parent.parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"


def axe_clean(page, where):
    """axe-core's WCAG 2.x A/AA rules find nothing on this page."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text() + "\n;0")
    violations = page.evaluate("""async () => (await axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})).violations
        .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))""")
    assert violations == [], f"{where}: {violations}"


@pytest.fixture
def endpoint(live_app):
    cfg = live_app.config["ALONGSIDE"]
    push = PushEndpoint(cfg.extra["VAPID_PUBLIC_KEY"], cfg.VAPID_SUBJECT)
    yield push
    push.close()


def status_is(page, word, timeout=20000):
    page.wait_for_function(
        "(w) => { const s = document.querySelector('#reminders-status');"
        " return s && s.textContent.trim().startsWith(w); }",
        arg=word, timeout=timeout)


def offer(page):
    page.click("#offer-reminders")
    page.wait_for_selector("#reminders-offer svg.qr")
    link = page.inner_text("#reminders-link")
    assert "/r/" in link
    box = page.locator("#reminders-offer svg.qr").bounding_box()
    assert box["width"] >= 250, box  # large enough to scan from across a table
    return link


def person_consents(playwright_browser, live_server, endpoint, link):
    phone = playwright_browser.new_context(service_workers="allow", viewport={"width": 360, "height": 640})
    phone.grant_permissions(["notifications"], origin=live_server.url)
    phone.add_init_script(STUB % json.dumps(endpoint.new_subscription()))
    page = phone.new_page()
    page.goto(link)
    axe_clean(page, "the person's consent page")
    page.click("#turn-on")
    page.wait_for_url(f"{live_server.url}/r/")
    page.wait_for_selector("h1:text-is('Your reminders')")
    axe_clean(page, "the person's reminders page")
    return phone, page


def test_offer_consent_and_stop_from_either_side(live_server, field, page, browser_context, playwright_browser,
                                                 endpoint, tmp_path):
    worker = field.user()
    person = field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")
    status_is(page, "Off")
    link = offer(page)
    assert page.locator("#reminders-copy").is_visible()
    page.screenshot(path=str(tmp_path / "offer-360.png"), full_page=True)
    audit(page, "person page with the offer")
    axe_clean(page, "person page with the offer")

    # the person's own phone: open the link, turn reminders on; the worker's screen follows by itself
    phone, person_page = person_consents(playwright_browser, live_server, endpoint, link)
    status_is(page, "On")
    assert "phone notifications" in page.inner_text("#reminders-status")
    assert field.read(lambda: Person.get_by_id(person.id).reminders_opt_in)

    # stop from the person's side: the worker sees "off" when they next open the person
    person_page.click("#stop")
    person_page.wait_for_selector("text=Reminders are off")
    phone.close()
    page.click("a:text-is('Caseload')") if page.locator("a:text-is('Caseload')").count() else page.go_back()
    open_person(page, "Alex Example")
    status_is(page, "Off")
    assert field.read(lambda: Consent.get().withdrawn_reason) == "person_page"

    # again, and this time the worker stops them on the person's request
    link = offer(page)
    phone, person_page = person_consents(playwright_browser, live_server, endpoint, link)
    status_is(page, "On")
    page.click("#stop-reminders button[type=submit]")
    page.wait_for_selector("#stop-reminders .error:has-text('only when the person asks')")
    page.check("#stop-asked")
    page.click("#stop-reminders button[type=submit]")
    status_is(page, "Off")
    person_page.reload()
    assert "Your reminders" not in person_page.content()  # the phone's cookie no longer opens anything
    phone.close()
    assert field.read(lambda: PushSubscription.select().count()) == 0
    reasons = field.read(lambda: sorted(c.withdrawn_reason for c in Consent.select()))
    assert reasons == ["person_page", "person_request"]


def test_offline_says_it_needs_signal(live_server, field, page, browser_context, tmp_path):
    worker = field.user()
    field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    go_offline(browser_context)
    try:
        open_person(page, "Alex Example")
        page.wait_for_selector("#reminders-offline")
        assert "need signal" in page.inner_text("#reminders-offline")
        audit(page, "person page offline")
        axe_clean(page, "person page offline")
    finally:
        go_online(browser_context)
    page.click("#reminders-retry")
    status_is(page, "Off")


def test_laptop_size_and_settings(live_server, field, playwright_browser, endpoint, tmp_path):
    context = playwright_browser.new_context(service_workers="allow", viewport={"width": 1366, "height": 768})
    try:
        page = context.new_page()
        worker = field.user()
        field.person(worker, "Alex Example")
        sign_in(page, live_server.url, worker)
        open_person(page, "Alex Example")
        link = offer(page)
        phone, _ = person_consents(playwright_browser, live_server, endpoint, link)
        phone.close()
        status_is(page, "On")
        page.click("#reminder-settings summary")
        page.fill("#set-hours", "3")
        page.click("#reminder-settings button[type=submit]")
        page.wait_for_selector("text=Saved")
        page.click("#goal-reminder summary")
        page.select_option("#goal-template", "custom")
        page.fill("#goal-text", "Walk to the park")
        page.click("#goal-reminder button[type=submit]")
        page.wait_for_selector("#reminders-upcoming li:has-text('Walk to the park')")
        audit(page, "person page, reminders on, laptop")
        for summary in ("#reminder-settings summary", "#goal-reminder summary"):
            page.click(summary)
        axe_clean(page, "person page, reminders on, laptop")
        page.screenshot(path=str(tmp_path / "on-1366.png"), full_page=True)
    finally:
        context.close()
