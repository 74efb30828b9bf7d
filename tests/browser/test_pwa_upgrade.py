"""The upgrade from plain storage, in a real Chromium (SECURITY.md, "Phone encryption"): records an older version of
the app stored in IndexedDB before encryption existed are sealed once the PIN is set, nothing is lost, and the
unsynced visit among them reaches the server exactly once."""

from __future__ import annotations

import json
import uuid

from helpers import PASSWORD
from pwa_steps import PIN, open_person, reload, set_pin, sync_now, unlock, unsynced, wait_synced
from test_pwa_security import RAW_DUMP

from server.models import AppliedMutation, Visit

NOTE = "Before the PIN: she asked about the allotment waiting list"
SYNC_API = "**/api/v1/sync/**"

# Rows exactly as db.js stored them before encryption (edit() and applyPull() at 9a81e2a): the whole object,
# no {iv, ct}; the person as a pull left it, the visit as edit() saved it with its outbox entry and the form's
# defaults. Written straight into the app's own database, beside what the sign-in stored.
WRITE_PLAIN = """async ({ person, visit, mutation, note }) => {
  const d = await new Promise((ok, fail) => { const r = indexedDB.open('alongside'); r.onsuccess = () => ok(r.result);
                                              r.onerror = () => fail(r.error); });
  const fields = { person_id: person.id, started_at: '2026-11-20T10:00:00+00:00', duration_minutes: 45, mode: '01',
    location_type: 'A01', attendance: '5', group_session: false, notes: note, goal_ids: [], wellbeing: 7,
    concern: 'none', concern_notes: '', next_visit_at: null };
  const tx = d.transaction(['people', 'visits', 'outbox', 'meta'], 'readwrite');
  tx.objectStore('people').put({ display_name: person.name, preferred_contact: null, engagement_start: null,
    planned_end: null, status: 'active', reminders_opt_in: false, added_in_field: false, confirmed: true,
    id: person.id, rev: person.rev, _sync: 'synced', _errors: null });
  tx.objectStore('visits').put({ rev: null, ...fields, id: visit, _sync: 'unsynced', _errors: null,
    _next: undefined });
  tx.objectStore('outbox').add({ id: mutation, entity: 'visit', record_id: visit, op: 'upsert', base_rev: null,
    fields, attempts: 0, state: 'pending', created_at: '2026-11-20T11:00:00.000Z' });
  tx.objectStore('meta').put({ key: 'visit_defaults', value: { mode: '01', location_type: 'A01',
    duration_minutes: 45 } });
  await new Promise((ok, fail) => { tx.oncomplete = ok; tx.onerror = () => fail(tx.error); });
  d.close();
}"""


def raw(page) -> dict:
    return page.evaluate(RAW_DUMP)


def signed_in_before_the_pin(page, url, worker, person) -> tuple[str, str, dict]:
    """Signed in, at the new version's "Choose a PIN", with the older version's plain rows in the database."""
    visit_id, mutation_id = str(uuid.uuid4()), str(uuid.uuid4())
    page.goto(url + "/app/")
    page.wait_for_selector("html[data-ready]")
    page.fill("input[name=email]", worker.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_selector("#set-pin-screen")
    page.evaluate(WRITE_PLAIN, {"person": {"id": str(person.uuid), "name": "Alex Example", "rev": person.rev},
                                "visit": visit_id, "mutation": mutation_id, "note": NOTE})
    before = raw(page)
    assert NOTE in json.dumps(before) and not any("ct" in row for row in before["outbox"])  # really plain
    [plain_outbox] = before["outbox"]
    return visit_id, mutation_id, plain_outbox


def assert_sealed_and_kept(page, person, visit_id, mutation_id, plain_outbox):
    stores = raw(page)
    text = json.dumps(stores, ensure_ascii=False)
    for secret in (NOTE, "Alex Example", "allotment"):
        assert secret not in text
    assert len(stores["people"]) == len(stores["visits"]) == len(stores["outbox"]) == 1
    for row in (*stores["people"], *stores["visits"], *stores["outbox"]):
        assert row["iv"]["length"] == 12 and row["ct"]["length"] > 16
        assert not {"notes", "fields", "display_name", "wellbeing", "value"} & set(row)
    [visit_row], [outbox_row] = stores["visits"], stores["outbox"]
    assert visit_row["id"] == visit_id and visit_row["person_id"] == str(person.uuid)
    assert visit_row["started_at"] == "2026-11-20T10:00:00+00:00" and visit_row["_sync"] == "unsynced"
    # the same mutation in the same place in the queue (not a second one beside it)
    assert outbox_row["seq"] == plain_outbox["seq"] and outbox_row["record_id"] == visit_id
    assert outbox_row["state"] == "pending"
    for key in ("visit_defaults", "people_list"):
        row = next(r for r in stores["meta"] if r["key"] == key)
        assert "value" not in row and row["iv"]["length"] == 12
    opened = page.evaluate("""(id) => import('/app/js/db.js').then(async (db) => ({
        outbox: await db.outboxAll(), visit: await db.get('visit', id),
        defaults: await db.getMeta('visit_defaults') }))""", visit_id)
    [mutation] = opened["outbox"]
    # (the app may have tried to send it already, into the held-back network: a retry carries the same id)
    assert mutation["id"] == mutation_id and mutation["fields"]["notes"] == NOTE and mutation["state"] == "pending"
    assert opened["visit"]["notes"] == NOTE and opened["visit"]["wellbeing"] == 7
    assert opened["defaults"] == {"mode": "01", "location_type": "A01", "duration_minutes": 45}
    assert unsynced(page) == 1


def assert_synced_once(page, browser_context, field, person, visit_id, mutation_id):
    """Online again: it reaches the server once, and stays once after more syncs and a reopening."""
    browser_context.unroute(SYNC_API)
    sync_now(page)
    wait_synced(page)
    sync_now(page)
    reload(page)
    sync_now(page)
    wait_synced(page)

    def on_server():
        visits = [(str(v.uuid), v.notes) for v in Visit.select().where(Visit.person == person.id)]
        applied = [(str(m.mutation_id), m.status) for m in
                   AppliedMutation.select().where(AppliedMutation.record_id == visit_id)]
        return visits, applied

    assert field.read(on_server) == ([(visit_id, NOTE)], [(mutation_id, "applied")])
    after = raw(page)
    assert after["outbox"] == [] and NOTE not in json.dumps(after, ensure_ascii=False)
    synced = page.evaluate("(id) => import('/app/js/db.js').then((db) => db.get('visit', id))", visit_id)
    assert synced["_sync"] == "synced" and synced["rev"] and synced["notes"] == NOTE


def test_plain_rows_from_before_encryption_are_sealed_kept_and_synced_once(live_server, field, browser_context,
                                                                          page):
    worker = field.user()
    person = field.person(worker, "Alex Example")
    visit_id, mutation_id, plain_outbox = signed_in_before_the_pin(page, live_server.url, worker, person)

    # Sync held back: whatever is sealed when the PIN is saved was sealed by the upgrade, not by a pull.
    browser_context.route(SYNC_API, lambda route: route.abort("internetdisconnected"))
    set_pin(page)
    page.wait_for_selector("#caseload-list :text('Alex Example')")  # read back from sealed rows
    assert_sealed_and_kept(page, person, visit_id, mutation_id, plain_outbox)

    # the app shows the visit, note and all
    open_person(page, "Alex Example")
    assert page.locator("#visits li").count() == 1
    page.click(f"#visits a[href='/app/v/{visit_id}']")
    page.wait_for_selector("h1:text-is('Visit')")
    assert page.input_value("textarea[name=notes]") == NOTE

    assert_synced_once(page, browser_context, field, person, visit_id, mutation_id)


def test_an_upgrade_cut_short_after_the_pin_is_finished_on_the_next_unlock(live_server, field, browser_context,
                                                                           page):
    worker = field.user()
    person = field.person(worker, "Alex Example")
    visit_id, mutation_id, plain_outbox = signed_in_before_the_pin(page, live_server.url, worker, person)
    browser_context.route(SYNC_API, lambda route: route.abort("internetdisconnected"))
    # What "Save PIN" does first (the key made and wrapped), then the app is closed before the rows are sealed.
    page.evaluate("""async (pin) => {
        const [vault, sync] = await Promise.all([import('/app/js/vault.js'), import('/app/js/sync.js')]);
        await vault.setUp(pin, await sync.ensureDevice());
    }""", PIN)
    page.reload()
    unlock(page)
    page.wait_for_selector("#caseload-list :text('Alex Example')")
    assert_sealed_and_kept(page, person, visit_id, mutation_id, plain_outbox)
    assert_synced_once(page, browser_context, field, person, visit_id, mutation_id)
