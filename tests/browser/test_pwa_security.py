"""Phone encryption and the lock, in a real Chromium (SECURITY.md): nothing typed is stored in plain text, the
key cannot be exported, IVs never repeat, wrong PINs make the worker wait (and never remove anything), a
forgotten PIN costs an online sign-in and never unsynced work, revocation wipes, the offline lease locks."""

from __future__ import annotations

import json
import time

from conftest import go_offline, go_online
from helpers import PASSWORD
from pwa_steps import (
    PIN,
    enter_password,
    log_visit,
    open_app,
    open_person,
    reload,
    set_pin,
    sign_in,
    sync_now,
    unsynced,
    wait_synced,
)

from server.models import Visit

# Every object store, every row, as text: byte buffers read as Latin-1 so a plain string inside would show.
RAW_DUMP = """async () => {
  const d = await new Promise((ok, fail) => { const r = indexedDB.open('alongside'); r.onsuccess = () => ok(r.result);
                                              r.onerror = () => fail(r.error); });
  const text = (v) => {
    if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
      const b = new Uint8Array(v instanceof ArrayBuffer ? v : v.buffer);
      return { bytes: Array.from(b, (x) => String.fromCharCode(x)).join(''), length: b.length };
    }
    if (Array.isArray(v)) return v.map(text);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, text(x)]));
    return v;
  };
  const out = {};
  for (const name of d.objectStoreNames) {
    out[name] = await new Promise((ok) => { const q = d.transaction(name).objectStore(name).getAll();
                                             q.onsuccess = () => ok(q.result.map(text)); });
  }
  d.close();
  return out;
}"""
SET_META = "([key, value]) => import('/app/js/db.js').then((db) => db.setMeta(key, value))"
GET_META = "(key) => import('/app/js/db.js').then((db) => db.getMeta(key))"
NOTE = "Talked about the flood at her mum's house"


def raw(page) -> dict:
    return page.evaluate(RAW_DUMP)


def test_typed_note_is_nowhere_in_plain_text_and_the_key_is_not_extractable(live_server, field, browser_context, page):
    worker = field.user()
    field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")
    go_offline(browser_context)  # the visit stays in the outbox too
    log_visit(page, notes=NOTE, concern="low")
    assert unsynced(page) == 1

    stores = raw(page)
    text = json.dumps(stores, ensure_ascii=False)
    for secret in (NOTE, "Alex Example", "Worried about money"):
        assert secret not in text
    assert len(stores["visits"]) == 1 and len(stores["outbox"]) == 1 and len(stores["people"]) == 1
    for row in (*stores["visits"], *stores["outbox"], *stores["people"]):
        assert row["iv"]["length"] == 12 and row["ct"]["length"] > 16
        assert "notes" not in row and "display_name" not in row and "fields" not in row
    defaults = next(r for r in stores["meta"] if r["key"] == "visit_defaults")
    assert "value" not in defaults and defaults["iv"]["length"] == 12
    # ... while the app itself reads it back
    notes = page.evaluate("import('/app/js/db.js').then(async (db) => (await db.all('visit'))[0].notes)")
    assert notes == NOTE

    key = page.evaluate("""async () => {
        const vault = await import('/app/js/vault.js');
        const k = vault.key();
        let exported = 'refused';
        for (const format of ['raw', 'jwk']) {
          try { await crypto.subtle.exportKey(format, k); exported = format; } catch (e) { /* expected */ }
        }
        return { extractable: k.extractable, exported, type: k.type, algorithm: k.algorithm.name,
                 length: k.algorithm.length, usages: k.usages.sort() };
    }""")
    assert key == {"extractable": False, "exported": "refused", "type": "secret", "algorithm": "AES-GCM",
                   "length": 256, "usages": ["decrypt", "encrypt"]}
    vault = next(r for r in stores["meta"] if r["key"] == "vault")["value"]
    assert vault["iterations"] >= 600000
    go_online(browser_context)


def test_ivs_never_repeat_across_a_thousand_writes(live_server, field, browser_context, page):
    worker = field.user()
    person = field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    go_offline(browser_context)
    result = page.evaluate("""async (personId) => {
        const db = await import('/app/js/db.js');
        const seen = [];
        const encrypt = crypto.subtle.encrypt.bind(crypto.subtle);
        crypto.subtle.encrypt = (algorithm, key, data) => {
          seen.push(Array.from(algorithm.iv).join(','));
          return encrypt(algorithm, key, data);
        };
        const first = db.uuid();
        await db.edit([{ entity: 'visit', id: first, isNew: true,
                         fields: { person_id: personId, started_at: '2026-11-20T10:00:00Z', notes: 'start' } }]);
        for (let i = 0; i < 500; i += 1) {  // new records ...
          await db.edit([{ entity: 'visit', id: db.uuid(), isNew: true,
                           fields: { person_id: personId, started_at: '2026-11-20T10:00:00Z', notes: 'n' + i } }]);
        }
        for (let i = 0; i < 500; i += 1) {  // ... and the same record written again and again
          await db.edit([{ entity: 'visit', id: first, fields: { notes: 'again ' + i } }]);
        }
        crypto.subtle.encrypt = encrypt;
        return { ivs: seen, visits: await db.count('visit') };
    }""", str(person.uuid))
    ivs = result["ivs"]
    assert result["visits"] == 501
    assert len(ivs) >= 2000  # each write: the record and its outbox entry
    assert len(set(ivs)) == len(ivs)
    assert all(len(iv.split(",")) == 12 for iv in ivs)
    stored = [row["iv"]["bytes"] for name in ("visits", "outbox") for row in raw(page)[name]]
    assert len(stored) == len(set(stored)) == 501 + 501 - 0  # one outbox entry per record (merged while unsent)
    go_online(browser_context)


def test_wrong_pins_fail_and_lock_for_growing_periods_and_remove_nothing(live_server, field, page):
    worker = field.user()
    field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    page.reload()
    page.wait_for_selector("#unlock-screen")
    assert page.locator("#main").is_hidden()

    def try_pin(pin):
        page.fill("input[name=pin]", pin)
        page.click("#unlock")
        page.wait_for_function("() => !document.querySelector('#unlock').disabled && "
                               "document.querySelector('#unlock-error').textContent !== ''")
        return page.locator("#unlock-error").inner_text()

    for _ in range(4):
        assert try_pin("not my pin") == "That PIN is not right. Please try again."
    assert "Too many tries" in try_pin("still not it")
    tries = page.evaluate(GET_META, "pin_tries")
    first_wait = tries["until"] / 1000 - time.time()
    assert tries["failed"] == 5 and 25 < first_wait <= 31
    # the right PIN is refused while waiting (not even tried), and a reload does not reset the wait
    assert "Too many tries" in try_pin(PIN)
    page.reload()
    page.wait_for_selector("#unlock-screen")
    assert "Too many tries" in page.locator("#unlock-error").inner_text()
    assert page.evaluate(GET_META, "pin_tries")["failed"] == 5

    page.evaluate(SET_META, ["pin_tries", {"failed": 5, "until": 0}])  # the wait is over
    assert "Too many tries" in try_pin("wrong again")
    second_wait = page.evaluate(GET_META, "pin_tries")["until"] / 1000 - time.time()
    assert 55 < second_wait <= 61  # twice as long

    page.evaluate(SET_META, ["pin_tries", {"failed": 6, "until": 0}])
    page.fill("input[name=pin]", PIN)
    page.click("#unlock")
    page.wait_for_selector("#caseload-list :text('Alex Example')")  # nothing was removed
    assert page.evaluate(GET_META, "pin_tries") == {"failed": 0, "until": 0}


def test_idle_lock_keeps_a_half_typed_visit(live_server, field, page):
    worker = field.user()
    field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")
    page.click("#log-visit")
    page.fill("textarea[name=notes]", "Half typed")
    page.evaluate(SET_META, ["lock_minutes", 0.0005])  # 30 ms, for the test
    page.wait_for_timeout(100)
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_selector("#unlock-screen")
    assert page.locator("#main").is_hidden() and page.locator("#tabs").is_hidden()
    assert page.evaluate("import('/app/js/vault.js').then((v) => v.key())") is None
    page.evaluate(SET_META, ["lock_minutes", 5])
    page.fill("input[name=pin]", PIN)
    page.click("#unlock")
    page.wait_for_selector("#unlock-screen", state="detached")
    assert page.input_value("textarea[name=notes]") == "Half typed"


def test_forgotten_pin_online_sign_in_recovers_unsynced_work(live_server, field, browser_context, page):
    worker = field.user()
    person = field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")
    go_offline(browser_context)
    log_visit(page, notes="Logged in the basement")
    assert unsynced(page) == 1
    page.reload()  # offline: the app opens locked, and the PIN is forgotten
    page.wait_for_selector("#unlock-screen")
    page.click("#forgot-pin")
    page.wait_for_selector("h1:text-is('Sign in to choose a new PIN')")
    enter_password(page, worker)
    page.wait_for_selector("#signin-error:has-text('signal')")  # no signal: nothing changes

    go_online(browser_context)
    page.click("form button[type=submit]")
    page.wait_for_selector("h1:text-is('Choose a new PIN')")
    set_pin(page, "a brand new one")
    wait_synced(page)
    count = field.read(lambda: Visit.select().where(Visit.person == person.id).count())
    notes = field.read(lambda: [v.notes for v in Visit.select().where(Visit.person == person.id)])
    assert count == 1 and notes == ["Logged in the basement"]

    page.reload()
    page.wait_for_selector("#unlock-screen")
    page.fill("input[name=pin]", PIN)  # the old PIN no longer opens it
    page.click("#unlock")
    page.wait_for_selector("#unlock-error:has-text('not right')")
    open_app(page, live_server.url, pin="a brand new one")
    page.wait_for_selector("#caseload-list :text('Alex Example')")
    sync_now(page)
    assert field.read(lambda: Visit.select().where(Visit.person == person.id).count()) == 1


def reopen_offline_at_the_lease(page, browser_context) -> str:
    """Reopened without signal: the lease screen, still locked. Returns what the screen says."""
    go_offline(browser_context)
    page.reload()
    page.wait_for_selector("#lease-screen")
    text = page.locator("#lease-screen").inner_text()
    assert page.evaluate("import('/app/js/vault.js').then((v) => v.isUnlocked())") is False
    return text


def sign_in_with_signal(page, browser_context) -> None:
    """From the lease screen: signal back, the password, and the caseload opens with its data."""
    page.click("#lease-sign-in")
    page.wait_for_selector("h1:text-is('Sign in with signal')")
    go_online(browser_context)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_selector("#caseload-list :text('Alex Example')")


def test_the_offline_lease_locks_and_an_online_sign_in_unlocks(live_server, field, browser_context, page):
    worker = field.user()
    field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    days_ago = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 15 * 86400))
    page.evaluate(SET_META, ["last_contact", days_ago])
    assert "more than 14 days" in reopen_offline_at_the_lease(page, browser_context)
    sign_in_with_signal(page, browser_context)  # data kept; no PIN needed after signing in
    assert page.evaluate(GET_META, "last_contact") > days_ago
    reload(page)  # and the PIN opens it again afterwards
    page.wait_for_selector("#caseload-list :text('Alex Example')")


def test_a_clock_turned_back_cannot_stretch_the_lease(live_server, field, browser_context, page):
    """The lease counts on the phone's clock: a clock more than a day behind the last contact (or behind the
    latest time the app has seen) locks like an expired lease, until an online sign-in."""
    worker = field.user()
    field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    for key in ("last_contact", "clock_seen"):
        wait_synced(page)  # a sync finishing later would write both afresh, over the value set below
        ahead = time.time() + 3 * 86400  # as if the clock was moved 3 days back since then
        value = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ahead)) if key == "last_contact" else ahead * 1000
        page.evaluate(SET_META, [key, value])
        assert "clock has gone back" in reopen_offline_at_the_lease(page, browser_context)
        sign_in_with_signal(page, browser_context)  # data kept
        reload(page)  # the clock check starts again from this contact: the PIN opens it
        page.wait_for_selector("#caseload-list :text('Alex Example')")


def test_revocation_wipes_the_encrypted_data_and_caches(live_server, field, page):
    from server.db import utcnow
    from server.models import Device

    worker = field.user()
    field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    assert page.evaluate("caches.keys()")
    with field.tx():
        Device.update(revoked_at=utcnow()).where(Device.user == worker.id).execute()
    sync_now(page)
    page.wait_for_selector("h1:text-is('Sign in')")
    assert "removed from Alongside" in page.locator("#toast").inner_text()
    stores = raw(page)
    assert all(not rows for name, rows in stores.items() if name != "meta")
    assert {row["key"] for row in stores["meta"]} <= {"ios_notice_shown"}  # no key, no wrapped key, no user
    assert page.evaluate("import('/app/js/vault.js').then((v) => v.isUnlocked())") is False
    assert page.evaluate("caches.keys()") == []


def test_new_visits_saved_at_once_while_syncing_are_all_kept_sealed_and_sent_once(live_server, field, page):
    """A save of new records takes no lock (db.js edit(): it reads nothing); alongside locked writers (the sync
    taking batches and applying results, edits of existing records) nothing is lost, doubled or left in clear."""
    worker = field.user()
    person = field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    result = page.evaluate("""async (personId) => {
        const [db, sync] = await Promise.all([import('/app/js/db.js'), import('/app/js/sync.js')]);
        const visit = (i) => ({ person_id: personId, started_at: '2026-11-20T10:00:00Z', notes: 'at once ' + i });
        const first = db.uuid();
        await db.edit([{ entity: 'visit', id: first, isNew: true, fields: visit(0) }]);
        const work = [];
        for (let i = 1; i <= 40; i += 1) {
          work.push(db.edit([{ entity: 'visit', id: db.uuid(), isNew: true, fields: visit(i) }],
                            { visit_defaults: { mode: '01', duration_minutes: i } }));
          if (i % 10 === 0) work.push(sync.syncNow({ manual: true }));
          if (i % 7 === 0) work.push(db.edit([{ entity: 'visit', id: first, fields: { notes: 'again ' + i } }]));
        }
        await Promise.all(work);
        const visits = await db.all('visit');
        return { visits: visits.length, notes: visits.map((v) => v.notes).sort(),
                 defaults: await db.getMeta('visit_defaults') };
    }""", str(person.uuid))
    assert result["visits"] == 41
    assert result["notes"] == sorted(["again 35", *(f"at once {i}" for i in range(1, 41))])
    assert result["defaults"]["duration_minutes"] in range(1, 41)
    sync_now(page)
    wait_synced(page)
    on_server = field.read(lambda: sorted(v.notes for v in Visit.select().where(Visit.person == person.id)))
    assert on_server == result["notes"]
    stores = raw(page)
    assert stores["outbox"] == [] and len(stores["visits"]) == 41
    assert all(row["iv"]["length"] == 12 and "notes" not in row for row in stores["visits"])
    assert "at once" not in json.dumps(stores, ensure_ascii=False)
