"""The field app's journeys, written once against tests/browser/phones.py and run in Chromium and WebKit
(tests/browser/test_journeys.py). Only CSS selectors and small JS functions: no engine's own helpers."""

from __future__ import annotations

from helpers import PASSWORD

PIN = "calm river 42"
SYNC_NOW = "() => import('/app/js/sync.js').then((m) => m.syncNow({ manual: true }))"
SYNCED = """() => { const c = document.querySelector('#unsynced-count');
  const l = document.querySelector('#last-sync');
  return !!c && c.dataset.count === '0' && !!l && l.textContent.startsWith('Last sync')
    && document.documentElement.dataset.sync === 'idle'; }"""
UNREACHABLE = "Can't reach Alongside right now; your work is safe on this phone"


def sign_in(phone, user, pin=PIN):
    phone.open("/app/")
    phone.fill("input[name=email]", user.email)
    phone.fill("input[name=password]", PASSWORD)
    phone.click("form button[type=submit]")
    phone.wait("#set-pin-screen")
    phone.fill("input[name=new_pin]", pin)
    phone.fill("input[name=new_pin_again]", pin)
    phone.click("#set-pin")
    phone.wait_heading("Caseload")
    wait_synced(phone)
    phone.wait_js("() => navigator.serviceWorker.controller !== null")


def unlock(phone, pin=PIN, timeout=15):
    phone.wait("#unlock-screen")
    phone.fill("input[name=pin]", pin)
    phone.click("#unlock")
    phone.wait("html:not([data-locked])", timeout=timeout)


def wait_synced(phone, timeout=15):
    phone.wait_js(SYNCED, timeout=timeout)


SYNCED_SINCE = """(since) => import('/app/js/db.js').then(async (db) =>
  (await db.getMeta('clock_seen')) >= since && document.documentElement.dataset.sync === 'idle')"""


def wait_synced_since(phone, since_ms, timeout=15):
    """A sync that reached the server after `since_ms` (the phone's clock, Date.now()) has finished."""
    phone.wait_js(SYNCED_SINCE, since_ms, timeout=timeout)


def unsynced(phone) -> int:
    return int(phone.js("() => document.querySelector('#unsynced-count').dataset.count"))


def open_person(phone, person):
    phone.click(f"#caseload-list a[href='/app/p/{person.uuid}']")
    phone.wait_heading(person.display_name)


def log_visit(phone, notes):
    phone.click("#log-visit")
    phone.wait_heading("Log a visit")
    phone.fill("textarea[name=notes]", notes)
    phone.click("#save-visit")
    phone.wait("#visits")


def status_text(phone) -> str:
    return phone.js("() => document.querySelector('#sync-status').textContent")


# Every string readable in IndexedDB without the key: what a thief with the phone's disk would see.
RAW_STRINGS = """async () => {
  const db = await new Promise((ok, fail) => {
    const r = indexedDB.open('alongside'); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
  const out = [];
  const walk = (v) => {
    if (typeof v === 'string') out.push(v);
    else if (v && typeof v === 'object' && !ArrayBuffer.isView(v) && !(v instanceof ArrayBuffer)) {
      Object.values(v).forEach(walk);
    } };
  for (const name of db.objectStoreNames) {
    const rows = await new Promise((ok) => {
      const r = db.transaction(name).objectStore(name).getAll(); r.onsuccess = () => ok(r.result); });
    rows.forEach(walk);
  }
  db.close();
  return out;
}"""


# A push service on this machine for the person's reminders page: a browser's own needs the internet, and WebKitGTK
# (like Safari outside a Home Screen app) has no PushManager at all. Injected after the page loads (the page reads
# these only when "Turn on reminders" is pressed), so it works with both drivers.
PUSH_STUB = """(sub) => {
  const fake = { endpoint: sub.endpoint, expirationTime: null, options: { userVisibleOnly: true },
    toJSON: () => sub, getKey: () => null,
    unsubscribe: async () => { sessionStorage.setItem('unsubscribed', '1'); return true; } };
  let current = null;
  const manager = { subscribe: async () => (current = fake), getSubscription: async () => current };
  if (!('PushManager' in window)) window.PushManager = function PushManager() {};
  Object.defineProperty(ServiceWorkerRegistration.prototype, 'pushManager', { configurable: true, get: () => manager });
  Object.defineProperty(Notification, 'permission', { configurable: true, get: () => 'granted' });
}"""


def invite_link(field, person, worker) -> str:
    from server.reminders.consent import create_invite

    with field.tx():
        token, _ = create_invite(person, worker)
    return f"/r/{token}"


def page_heading(phone) -> str:
    return phone.js("() => (document.querySelector('h1') || {}).textContent")
