"""No JSON the phone sends carries a lone surrogate (issue 12, finding 4, the phone's side): pwa/js/api.js, the one
place request bodies are serialised, replaces each with U+FFFD, so a broken character typed or pasted into a note
reaches the server as valid Unicode and never blocks the outbox."""

from __future__ import annotations

from pwa_steps import open_person, sign_in, wait_synced

from server.models import AppliedMutation, Device, Visit

# Typed in the page itself: a lone surrogate passed in from Python would be mended on its way into the browser.
TYPE_BROKEN = """([css, parts]) => { const el = document.querySelector(css);
  el.value = parts.map((p) => (typeof p === 'number' ? String.fromCharCode(p) : p)).join('');
  el.dispatchEvent(new Event('input', { bubbles: true })); }"""


def test_a_lone_surrogate_in_a_note_reaches_the_server_as_a_replacement_character(live_server, field, page):
    worker = field.user()
    field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")
    page.click("#log-visit")
    page.wait_for_selector("h1:text-is('Log a visit')")
    sent = []
    page.on("request", lambda r: sent.append(r.post_data_buffer) if "/api/v1/sync/push" in r.url else None)
    # A high surrogate alone, a low one alone, and a whole emoji (a valid pair, kept as it is).
    typed = ["Rent ", 0xD800, " arrears ", 0xDC00, " paid ", 0xD83D, 0xDE00]
    page.evaluate(TYPE_BROKEN, ["textarea[name=notes]", typed])
    assert page.evaluate("document.querySelector('textarea[name=notes]').value.isWellFormed()") is False
    page.click("#save-visit")
    page.wait_for_selector("#visits")
    wait_synced(page)

    notes = field.read(lambda: Visit.get().notes)
    assert notes == "Rent \ufffd arrears \ufffd paid \U0001f600"
    assert field.read(lambda: AppliedMutation.select().count()) == 1
    assert sent and all(b"\\ud800" not in body.lower() and b"\\udc00" not in body.lower() for body in sent)


def test_a_device_name_with_a_lone_surrogate_is_sent_whole(live_server, field, page):
    worker = field.user()
    sign_in(page, live_server.url, worker)
    worker_device_name = field.read(lambda: Device.get().name)
    page.click("#tabs a[data-tab=settings]")
    page.wait_for_selector("h1:text-is('Settings')")
    page.evaluate(TYPE_BROKEN, ["input[name=device_name]", ["Sam", 0xDBFF, " phone"]])
    page.click("button:text-is('Save name')")
    for _ in range(150):
        if field.read(lambda: Device.get().name) != worker_device_name:
            break
        page.wait_for_timeout(100)
    assert field.read(lambda: Device.get().name) == "Sam\ufffd phone"
