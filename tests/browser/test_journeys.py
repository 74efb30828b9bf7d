"""The field app's journeys on both engines an iPhone or an Android phone runs: each test takes `phone`
and runs once in Chromium and once in WebKit (Safari's engine). Written once with tests/browser/journeys.py.
"The server is down" is the real thing: the live server stops listening (the phone still thinks it is online,
navigator.onLine stays true) and starts again on the same port with the same data."""

from __future__ import annotations

import time

from journeys import (
    PIN,
    PUSH_STUB,
    RAW_STRINGS,
    SYNC_NOW,
    UNREACHABLE,
    invite_link,
    log_visit,
    open_person,
    page_heading,
    sign_in,
    status_text,
    unlock,
    unsynced,
    wait_synced,
    wait_synced_since,
)
from test_pwa_a11y import AUDIT

from server.models import AppliedMutation, Visit


def visits(field):
    return field.read(lambda: sorted(v.notes for v in Visit.select()))


def test_offline_journey_reload_from_the_service_worker_then_sent_once(live_server, field, phone):
    worker = field.user()
    person = field.person(worker, "Alex Example")
    sign_in(phone, worker)
    open_person(phone, person)
    log_visit(phone, "First visit, with signal")
    wait_synced(phone)
    assert visits(field) == ["First visit, with signal"]

    live_server.stop()
    log_visit(phone, "Second visit, server down")
    assert unsynced(phone) == 1
    phone.reload()  # only the service worker can answer; the app opens locked
    unlock(phone)
    phone.wait_heading("Alex Example")
    assert "Not sent yet" in phone.text("#visits")
    phone.wait_text("#sync-status", UNREACHABLE)  # it tried, and says plainly that nothing went
    phone.click("#visits li:has(.b-wait) a")  # the visit not sent yet
    phone.wait_heading("Visit")
    assert phone.js("() => document.querySelector('textarea[name=notes]').value") == "Second visit, server down"
    assert visits(field) == ["First visit, with signal"]

    live_server.start()
    phone.js(SYNC_NOW)
    wait_synced(phone)
    assert visits(field) == ["First visit, with signal", "Second visit, server down"]
    phone.js(SYNC_NOW)  # sent exactly once
    assert field.read(lambda: AppliedMutation.select().count()) == 2
    assert visits(field) == ["First visit, with signal", "Second visit, server down"]


def test_unlock_after_leaving_a_page_by_navigation_and_coming_back(live_server, field, phone):
    """Fault 1: the person page left by URL stays in the back/forward cache; the new page's unlock must not wait on
    it (WebKit blocked every write to `meta` for 20-30 s), and the cached page must work when restored."""
    worker = field.user()
    person = field.person(worker, "Alex Example")
    sign_in(phone, worker)
    open_person(phone, person)
    phone.js("() => { window.firstPage = true; }")  # survives only if this very page is restored
    phone.open("/app/")  # a navigation, not a Reload: the person page is frozen in the cache
    started = time.monotonic()
    unlock(phone, timeout=10)
    phone.wait_heading("Caseload")
    assert time.monotonic() - started < 10
    open_person(phone, person)
    log_visit(phone, "Written after unlocking")
    wait_synced(phone)

    for _ in range(3):  # the visit form's entry was replaced: person, caseload, then the first page's person
        phone.back()
    # WebKit restores the very page it froze (Chromium may load it again): either way it must open and write.
    phone.wait_js("(cached) => !!document.querySelector('#unlock-screen, #log-visit')"
                  " && (!cached || !!window.firstPage)", phone.engine == "webkit")
    if phone.count("#unlock-screen"):  # a page loaded again opens locked; a restored one is as it was left
        unlock(phone, timeout=10)
    phone.wait_heading("Alex Example")
    log_visit(phone, "Written on the restored page")
    wait_synced(phone)
    assert visits(field) == ["Written after unlocking", "Written on the restored page"]


def test_unreachable_server_is_retried_with_backoff_and_said_plainly(live_server, field, phone):
    """Fault 2: the server is down while the phone is online: retried by itself (no Sync now), said in plain
    words, and back to normal once a request gets through."""
    worker = field.user()
    person = field.person(worker, "Alex Example")
    sign_in(phone, worker)
    open_person(phone, person)
    live_server.stop()
    log_visit(phone, "Logged while the server is down")
    phone.wait_text("#sync-status", UNREACHABLE, timeout=30)
    assert phone.js(AUDIT) == []  # readable, labelled, large enough, in both engines
    assert phone.js("() => navigator.onLine") is True
    assert unsynced(phone) == 1
    live_server.start()
    wait_synced(phone, timeout=30)  # the next retry comes within seconds, untouched
    assert UNREACHABLE not in status_text(phone)
    assert visits(field) == ["Logged while the server is down"]


def test_nothing_readable_at_rest(live_server, field, phone):
    worker = field.user()
    person = field.person(worker, "Alex Example")
    sign_in(phone, worker)
    open_person(phone, person)
    log_visit(phone, "Talked about the allotment")
    wait_synced(phone)
    phone.click("#log-visit")
    phone.wait_heading("Log a visit")
    phone.fill("textarea[name=notes]", "Unsent words about the rent")
    phone.click("#save-visit")
    phone.wait("#visits")
    stored = " ".join(phone.js(RAW_STRINGS))
    assert str(person.uuid) in stored  # the reader works: ids are clear, by design
    for secret in ("Alex Example", "allotment", "Unsent words", "rent"):
        assert secret not in stored


def test_lock_and_lease(live_server, field, phone):
    worker = field.user()
    field.person(worker, "Alex Example")
    sign_in(phone, worker)
    phone.click("#tabs a[data-tab=settings]")
    phone.wait_heading("Settings")
    phone.click("#lock-now")
    phone.wait("#unlock-screen")
    assert phone.js("() => import('/app/js/vault.js').then((v) => v.isUnlocked())") is False
    assert phone.js("() => document.querySelector('main#main').hidden") is True  # nothing behind the lock shows
    phone.fill("input[name=pin]", "not my pin")
    phone.click("#unlock")
    phone.wait_text("#unlock-error", "That PIN is not right")
    before = phone.js("() => Date.now()")
    unlock(phone, PIN)
    phone.wait_heading("Settings")
    wait_synced_since(phone, before)  # unlocking syncs: ending after the line below, it writes last_contact afresh

    # Twenty days without reaching the server: the lease ends, and only a sign-in with signal opens it.
    phone.js("() => import('/app/js/db.js').then((db) => db.setMeta('last_contact', "
             "new Date(Date.now() - 20 * 86400000).toISOString()))")
    phone.reload()
    phone.wait("#lease-screen")
    assert "more than 14 days" in phone.text("#lease-screen")
    phone.click("#lease-sign-in")
    phone.wait_heading("Sign in with signal")


def test_person_turns_reminders_on_and_off(live_server, field, phone):
    """The person's own page (/r/), from the link their worker gives them: what is sent, the iPhone's Home Screen
    rule with the other ways, turn on (push stubbed to a local service), stop."""
    from reminder_push_endpoint import PushEndpoint

    from server.models import Person, PushSubscription

    cfg = live_server.app.config["ALONGSIDE"]
    push = PushEndpoint(cfg.extra["VAPID_PUBLIC_KEY"], cfg.VAPID_SUBJECT)
    try:
        worker = field.user()
        person = field.person(worker, "Casey Example")
        phone.goto(live_server.url + invite_link(field, person, worker))
        phone.wait_js("() => !!document.querySelector('#turn-on')")
        assert page_heading(phone) == "Reminders on your phone"
        guide = " ".join(phone.js("() => document.querySelector('#ios-guide').textContent").split())
        assert "iOS 16.4 or later" in guide and "text message" in guide and "calendar" in guide
        if not phone.js("() => 'PushManager' in window"):  # WebKit outside a Home Screen app: says what to do
            phone.click("#turn-on")
            phone.wait_text("#consent-status", "text message")
        phone.js(PUSH_STUB, push.new_subscription())
        phone.click("#turn-on")
        phone.wait_js("() => (document.querySelector('h1') || {}).textContent === 'Your reminders'", timeout=20)
        assert field.read(lambda: PushSubscription.select().count()) == 1
        assert field.read(lambda: Person.get_by_id(person.id).reminders_opt_in) is True
        phone.js(PUSH_STUB, push.new_subscription())
        phone.click("#stop")
        phone.wait_text("main", "Reminders are off", timeout=20)
        assert field.read(lambda: PushSubscription.select().count()) == 0
        assert field.read(lambda: Person.get_by_id(person.id).reminders_opt_in) is False
    finally:
        push.close()


def test_storage_is_asked_to_be_kept_and_the_app_says_when_it_is_not(live_server, field, phone):
    worker = field.user()
    sign_in(phone, worker)
    phone.wait("html[data-storage]")
    kept = phone.js("() => document.documentElement.dataset.storage") == "persistent"
    # what the browser says (WebKitGTK throws, so: not kept), through the app's one reading of it
    assert kept == phone.js("() => import('/app/js/banners.js').then((b) => b.storageKept())")
    assert phone.count("#storage-banner") == (0 if kept else 1)
    phone.click("#tabs a[data-tab=settings]")
    phone.wait_heading("Settings")
    words = phone.text("#storage-state")
    assert ("keeps Alongside's data" in words) if kept else ("may clear Alongside's data" in words)


# Another tab opening the database at a newer version (as a new release of the app would); its upgrade is then
# abandoned, so the database stays as it was. Says whether this page's open connection kept it waiting.
OTHER_TAB_UPGRADES = """() => new Promise((done) => {
  const request = indexedDB.open('alongside', 1000);
  let blocked = false;
  request.onblocked = () => { blocked = true; };
  request.onupgradeneeded = () => { request.transaction.abort(); };
  request.onerror = () => done({ blocked, upgraded: true });
  request.onsuccess = () => { request.result.close(); done({ blocked, upgraded: false }); };
  setTimeout(() => done({ blocked, upgraded: false, timedOut: true }), 5000);
})"""


def test_a_second_tab_is_never_blocked_and_this_one_carries_on(live_server, field, phone):
    worker = field.user()
    person = field.person(worker, "Alex Example")
    sign_in(phone, worker)
    open_person(phone, person)
    assert phone.js(OTHER_TAB_UPGRADES) == {"blocked": False, "upgraded": True}  # versionchange: let go at once
    log_visit(phone, "Written after the other tab")  # the connection opens again on its next use
    wait_synced(phone)
    assert visits(field) == ["Written after the other tab"]


# The page lifecycle rule of idb-connection.js, driven by the lifecycle's own events: work asked for while the page
# is hidden waits until it is shown; after pagehide it fails at once (nothing waits, frozen, holding a lock) until
# pageshow.
LIFECYCLE = """async () => {
  const db = await import('/app/js/db.js');
  const out = {};
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
  document.dispatchEvent(new Event('visibilitychange'));
  let done = false;
  const read = db.getMeta('email').then(() => { done = true; });
  await new Promise((r) => setTimeout(r, 300));
  out.waitedWhileHidden = !done;
  delete document.visibilityState;  // the browser's own again: visible
  document.dispatchEvent(new Event('visibilitychange'));
  await read;
  out.ranWhenShown = done;
  window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }));
  out.afterPagehide = await db.getMeta('email').then(() => 'ran', (e) => e.name);
  window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }));
  out.afterPageshow = await db.getMeta('email').then(() => 'ran', (e) => e.name);
  return out;
}"""


def test_no_database_work_starts_while_the_page_is_hidden_or_put_away(live_server, phone):
    phone.open("/app/")
    assert phone.js(LIFECYCLE) == {"waitedWhileHidden": True, "ranWhenShown": True,
                                   "afterPagehide": "PageAwayError", "afterPageshow": "ran"}


def test_a_check_in_without_the_server_says_no_one_was_told_then_reaches_it_once(live_server, field, phone):
    """Lone working (issue 14) on both engines: a visit started while the server cannot be reached says plainly
    that no one has been told, with the coordinator's number to call; "I need help" says it could not alert
    anyone and shows the numbers; when the server is back the check-in reaches it exactly once."""
    from server.models import CheckIn, User

    worker = field.user()
    coordinator = field.user("coordinator", name="Cass Coordinator")
    with field.tx():
        User.update(work_phone="07700 900123").where(User.id == coordinator.id).execute()
    person = field.person(worker, "Alex Example")
    sign_in(phone, worker)  # its sync brings the coordinators' numbers to the phone
    phone.wait_js("() => import('/app/js/db.js').then((s) => s.getMeta('lone_contacts'))"
                  ".then((c) => !!(c && c.coordinators.length))")
    open_person(phone, person)
    phone.click("#start-visit-link")
    phone.wait_heading("Start visit with Alex Example")

    live_server.stop()
    phone.select("select[name=length]", "30")
    phone.fill("input[name=place]", "Flat 2, Elm Street")
    phone.click("#start-visit")
    phone.wait("#not-told")
    told = phone.text("#not-told")
    assert "No one has been told you are here" in told and "Call Cass Coordinator: 07700 900123" in told
    assert phone.count("#not-told a[href='tel:07700900123']") == 1
    phone.click("#need-help")
    phone.wait_text("#help-box", "The alert could not be sent. Call:")
    assert phone.count("#help-box a[href='tel:999']") == 1
    assert field.read(lambda: CheckIn.select().count()) == 0

    live_server.start()
    phone.js(SYNC_NOW)
    wait_synced(phone)
    phone.js(SYNC_NOW)  # a second sync sends nothing again
    wait_synced(phone)
    [row] = field.read(lambda: list(CheckIn.select()))
    assert (row.worker_id, row.person_id, row.place, row.status) == (worker.id, person.id, "Flat 2, Elm Street",
                                                                      "open")
    phone.reload()
    unlock(phone)
    phone.wait_text("#check-in-status", "Your coordinator can see you are on this visit.")
    assert phone.count("#not-told") == 0
