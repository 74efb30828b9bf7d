"""Lone working in a real Chromium (issue 14): a check-in started with no signal says plainly "No one has been
told you are here" with the coordinator's number; with signal it reaches the server exactly once. On a
controllable clock the visit goes overdue: the worker's own browser (its push subscription registered by the
app, pushManager.subscribe stubbed to a local push service, real encryption) is asked "Are you OK? Tap to check
out", which opens the check-in; then the coordinators are alerted, and a coordinator resolves it on "Out on
visits" (1366x768, axe-core finds nothing) and the phone shows it closed. "I need help" without signal shows the
numbers to call. Screenshots go to tmp_path."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from conftest import go_offline, go_online
from helpers import PASSWORD
from push_delivery import deliver_push
from pwa_steps import open_app, open_person, reload, sign_in, sync_now, wait_synced
from reminder_push_endpoint import PushEndpoint

from server import notify
from server.models import CheckIn, PushSubscription, StaffAlert, User, Visit
from server.reminders.dispatch import run_pass

AXE = (Path(__file__).parent.parent / "vendor/axe-core-4.14.1/axe.min.js").read_text()


def axe_violations(page) -> list:
    """axe-core's findings on the whole page: the screen, the tabs and the app-wide banners above it."""
    page.evaluate(AXE + "\n;0")
    return page.evaluate("async () => (await axe.run(document)).violations.map(v => [v.id, v.nodes.length, "
                         "v.nodes[0].target.join(' ')])")


def stub_push(context, subscription: dict) -> None:
    """Chromium cannot subscribe without Google's push service: the browser's subscribe() answers with a
    subscription to the test's local push service, and notifications count as allowed."""
    context.add_init_script("{ const sub = " + json.dumps(subscription) + ";" + """(() => {
      try { Object.defineProperty(Notification, "permission", { get: () => "granted" }); } catch (e) {}
      Notification.requestPermission = async () => "granted";
      if (self.PushManager) {
        PushManager.prototype.getSubscription = async () => null;
        PushManager.prototype.subscribe = async () => ({ ...sub, toJSON: () => sub });
      }
    })(); }""")


def _accepted(value: str) -> bool:
    from server.work_phone import PhoneError, clean_work_phone

    try:
        clean_work_phone(value)
    except PhoneError:
        return False
    return True


def poll(page, expression: str, seconds: float = 15):
    """Until the (promise-returning) expression is truthy: page.wait_for_function does not wait on a promise."""
    import time

    deadline = time.monotonic() + seconds
    while not (value := page.evaluate(expression)):
        assert time.monotonic() < deadline, f"still false after {seconds} s: {expression}"
        page.wait_for_timeout(100)
    return value


def one_pass(live_app, field, now):
    with field.db.database.connection_context(), notify.Dispatcher.from_app(live_app, request_timeout=5.0) as d:
        return run_pass(d, now)


def test_check_in_offline_then_online_overdue_prompt_escalation_resolution(live_server, live_app, field,
                                                                           playwright_browser, tmp_path):
    from conftest import PHONE

    worker = field.user("peer_worker", name="Sam Worker")
    coordinator = field.user("coordinator", name="Cass Coordinator")
    with field.tx():
        User.update(work_phone="07700 900123").where(User.id == coordinator.id).execute()
    person = field.person(worker, "Alex Example")
    with field.tx():  # the last visit planned the next one, in 40 minutes, for 45 minutes
        from server.db import utcnow
        from server.sync.revisions import next_rev

        Visit.create(person=person, author=worker, started_at=utcnow() - dt.timedelta(days=7), duration_minutes=45,
                     next_visit_at=utcnow() + dt.timedelta(minutes=40), rev=next_rev())
    cfg = live_app.config["ALONGSIDE"]
    push = PushEndpoint(cfg.extra["VAPID_PUBLIC_KEY"], cfg.VAPID_SUBJECT)
    try:
        context = playwright_browser.new_context(service_workers="allow", viewport=PHONE)
        stub_push(context, push.new_subscription())
        page = context.new_page()
        sign_in(page, live_server.url, worker)
        # The worker's own work phone, in Settings: the phone refuses what the server would refuse.
        samples = ["07700 900123", "+44 (0)20-7946 0958", "", "12345", "0770090012345", "+0 123", "call me",
                   "+" + "1" * 16, "0" * 31, "+44 7700 900123", "01632 960 001"]
        verdicts = page.evaluate("(xs) => import('/app/js/screens/lone-working.js').then((m) => "
                                 "xs.map((x) => m.workPhoneProblem(x) === ''))", samples)
        assert verdicts == [_accepted(x) for x in samples]
        page.click("#tabs a[data-tab=settings]")
        page.wait_for_selector("#save-work-phone")
        page.fill("input[name=work_phone]", "123")
        page.click("#save-work-phone")
        page.wait_for_selector("#work-phone .form-errors:not([hidden])")
        assert "UK number" in page.locator("#work-phone .form-errors").inner_text()
        page.fill("input[name=work_phone]", "07700 900555")
        page.click("#save-work-phone")
        page.wait_for_selector("text=Saved. Your coordinators can see it.")
        assert field.read(lambda: User.get_by_id(worker.id).work_phone) == "07700 900555"
        page.click("#tabs a[data-tab=caseload]")
        page.wait_for_selector("h1:text-is('Caseload')")
        sync_now(page)  # the coordinators' numbers are kept on the phone after a sync
        poll(page, "() => import('/app/js/db.js').then(s => s.getMeta('lone_contacts'))"
                   ".then(c => !!(c && c.coordinators.length))")
        open_person(page, "Alex Example")
        page.click("#start-visit-link")  # from the person's page
        page.wait_for_selector("h1:text-is('Start visit with Alex Example')")
        page.go_back()
        page.wait_for_selector("h1:text-is('Alex Example')")
        page.click("#tabs a[data-tab=diary]")  # or beside the planned visit in the diary
        page.click("a:has-text('Start visit')")
        page.wait_for_selector("h1:text-is('Start visit with Alex Example')")
        assert page.input_value("select[name=length]") == "until"  # from the planned visit: its time + 45 min

        go_offline(context)
        assert axe_violations(page) == [], "Start visit form (360x640)"
        page.select_option("select[name=length]", "30")
        page.fill("input[name=place]", "Flat 2, Elm Street")
        page.click("#start-visit")
        page.wait_for_selector("#not-told")
        told = page.locator("#not-told").inner_text()
        assert "No one has been told you are here" in told
        assert "Call Cass Coordinator: 07700 900123" in told and "Emergency: call 999" in told
        assert page.locator("#not-told a[href='tel:07700900123']").count() == 1
        page.screenshot(path=str(tmp_path / "check-in-offline.png"), full_page=True)
        assert axe_violations(page) == [], "check-in not yet sent (360x640)"
        assert field.read(lambda: CheckIn.select().count()) == 0

        page.click("#need-help")  # no signal: the numbers to call, nothing pretends to be sent
        page.wait_for_selector("#help-box:not([hidden])")
        assert "No signal" in page.locator("#help-box").inner_text()
        assert page.locator("#help-box a[href='tel:999']").count() == 1

        go_online(context)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        wait_synced(page)
        sync_now(page)  # a second flush sends nothing again
        wait_synced(page)
        [row] = field.read(lambda: list(CheckIn.select()))
        assert (row.worker_id, row.person_id, row.place, row.status) == (worker.id, person.id,
                                                                          "Flat 2, Elm Street", "open")
        assert row.visit_id is not None  # started from the planned visit
        reload(page)
        page.wait_for_selector("text=Your coordinator can see you are on this visit.")
        assert page.locator("#not-told").count() == 0
        assert field.read(lambda: PushSubscription.select().where(PushSubscription.user == worker.id).count()) == 1

        # The clock: past the expected end and the grace, the worker's own browser is asked.
        prompted = one_pass(live_app, field, row.expected_end_at + dt.timedelta(minutes=16))
        assert prompted["overdue_pass"] == 1 and prompted["sent"] == 1 and push.problems == []
        [got] = push.received
        assert got["payload"]["body"] == "Are you OK? Tap to check out."
        shown = [[n["body"], n["data"]]  # the app's sw.js shows it
                 for n in deliver_push(context, page, live_server.url, "/app/", got["payload"])]
        assert shown == [["Are you OK? Tap to check out.", {"url": got["payload"]["url"]}]]
        open_app(page, live_server.url, got["payload"]["url"])  # what tapping the notification opens (sw.js)
        sync_now(page)
        page.wait_for_selector("text=Your visit is past its expected end. Are you OK?")

        escalated = one_pass(live_app, field, row.expected_end_at + dt.timedelta(minutes=31))
        assert escalated["overdue_pass"] == 1
        alert = field.read(lambda: StaffAlert.get(StaffAlert.kind == "lone_overdue"))
        assert str(alert.subject_uuid) == str(row.uuid)
        sync_now(page)
        page.wait_for_selector("text=Your coordinator has been alerted")
        page.screenshot(path=str(tmp_path / "check-in-escalated.png"), full_page=True)
        assert axe_violations(page) == [], "check-in escalated (360x640)"

        laptop = playwright_browser.new_context(viewport={"width": 1366, "height": 768})
        desk = laptop.new_page()
        desk.goto(live_server.url + "/login")
        desk.fill("#email", coordinator.email)
        desk.fill("#password", PASSWORD)
        desk.click("button[type=submit]")
        desk.wait_for_url("**/coordinator/**")
        desk.goto(live_server.url + f"/coordinator/lone-working?focus={row.uuid}")
        text = desk.locator("main").inner_text()
        for shown in ("Sam Worker", "07700 900555", "Alex Example", "Flat 2, Elm Street",
                      "Escalated: coordinators alerted"):
            assert shown in text, shown
        assert axe_violations(desk) == [], "Out on visits"
        desk.screenshot(path=str(tmp_path / "out-on-visits.png"), full_page=True)
        desk.select_option(f"#outcome-{row.uuid}", "safe")
        desk.fill(f"#note-{row.uuid}", "Phone battery had died; called her landline.")
        desk.click("button:has-text('Mark resolved')")
        desk.wait_for_selector("text=Recorded: Reached the worker: they are safe.")
        assert axe_violations(desk) == [], "Out on visits, after resolving"
        done = field.read(lambda: CheckIn.get_by_id(row.id))
        assert (done.status, done.place, done.outcome) == ("resolved", None, "safe")
        assert field.read(lambda: StaffAlert.get_by_id(alert.id).resolved_at) is not None
        laptop.close()

        sync_now(page)
        page.wait_for_selector("text=Your coordinator has closed this visit.")
        assert "Flat 2" not in page.locator("#main").inner_text()
        context.close()
    finally:
        push.close()
