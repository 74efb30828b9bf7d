"""Redraws for new data never draw over the worker's own taps, in Chromium at 360x640. Renders overlap (each
waits on the phone's database): a redraw that began before a tap is dropped and tried again once the worker
pauses, and only the latest render may draw. Before this, a slow redraw drew the person page over a visit the
worker had just opened, and brought back a handover note they had just dismissed."""

from __future__ import annotations

from pwa_steps import open_person, sign_in, wait_synced

from server.models import Person
from server.sync.revisions import next_rev

# A second connection to the phone's database keeps a write open on `referrals` for `ms`: the person page reads
# that store, so a redraw of it waits; "Got it" and the visit form do not read it.
HOLD_REFERRALS = """(ms) => new Promise((resolve) => {
  const req = indexedDB.open('alongside');
  req.onsuccess = () => {
    const conn = req.result;
    const tx = conn.transaction('referrals', 'readwrite');
    const store = tx.objectStore('referrals');
    const until = performance.now() + ms;
    const spin = () => { if (performance.now() < until) store.get('__hold').onsuccess = spin; };
    spin();
    tx.oncomplete = () => conn.close();
    resolve();
  };
})"""
NEW_DATA = "() => import('/app/js/sync.js').then((s) => s.events.dispatchEvent(new Event('pulled')))"
MARK = "() => { document.querySelector('main > *').dataset.drawn = 'before'; }"
MARKED = "() => document.querySelector('main > *').dataset.drawn === 'before'"


def test_a_redraw_begun_before_a_tap_does_not_draw_over_it(live_server, field, page):
    worker = field.user()
    with field.tx():
        alex = Person.create(team=field.team, display_name="Alex Example", rev=next_rev(),
                             handover_note="Ring first; afternoons are best.")
        alex.assign_to(worker)
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")
    page.wait_for_selector("#handover-seen")
    wait_synced(page)
    page.wait_for_timeout(5200)  # a redraw waits while the worker's last tap is under 5 s old

    page.evaluate(HOLD_REFERRALS, 1500)
    page.evaluate(NEW_DATA)  # a redraw begins, and waits on the held store
    page.click("#handover-seen")  # the worker taps "Got it" meanwhile
    page.wait_for_selector("details#handover")
    page.evaluate(MARK)
    page.wait_for_timeout(2500)  # the store is free again and the redraw's reads are long done
    assert page.evaluate(MARKED), "a redraw begun before the tap drew over it"
    assert page.locator("#handover-seen").count() == 0

    # Tried again once the worker pauses: the page is drawn afresh, with the note still folded away.
    page.wait_for_function("() => !document.querySelector('main > *').dataset.drawn", timeout=15000)
    assert page.locator("details#handover").count() == 1 and page.locator("#handover-seen").count() == 0


def test_only_the_latest_render_draws(live_server, field, page):
    worker = field.user()
    person = field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")
    wait_synced(page)
    page.wait_for_timeout(5200)

    page.evaluate(HOLD_REFERRALS, 1500)
    page.evaluate(NEW_DATA)  # a redraw of the person page begins, and waits
    page.evaluate(f"() => import('/app/js/app.js').then((app) => app.navigate('/app/p/{person.uuid}/visit'))")
    page.wait_for_selector("h1:text-is('Log a visit')")
    page.evaluate(MARK)
    page.wait_for_timeout(2500)
    assert page.evaluate(MARKED), "an earlier render drew after the latest"
    assert page.locator("h1").inner_text() == "Log a visit"
