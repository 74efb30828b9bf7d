"""The forms' one submit path (pwa/js/forms.js), in a real Chromium: a save that fails on the phone gives the
button back and says so, keeps what was typed, and a second try saves it."""

from __future__ import annotations

from pwa_steps import open_person, sign_in, unsynced

# The phone's storage refuses writes to the referrals store, as a full disk does.
FAIL_REFERRAL_WRITES = """() => {
  window.__put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (...args) {
    if (this.name === 'referrals') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    return window.__put.apply(this, args);
  };
}"""
HEAL = "() => { IDBObjectStore.prototype.put = window.__put; }"


def test_a_failed_referral_save_says_so_and_can_be_tried_again(live_server, field, page):
    worker = field.user()
    field.person(worker, "Alex Example")
    field.resource("Riverside Food Bank", "Food")
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")
    page.click("a:text-is('Refer')")
    page.click("#resource-list li:has-text('Riverside Food Bank') button")
    page.wait_for_selector("h1:text-is('Refer')")
    page.fill("textarea[name=notes]", "Needs food this week")

    page.evaluate(FAIL_REFERRAL_WRITES)
    page.click("#save-referral")
    box = page.locator(".form-errors")
    box.wait_for(state="visible")
    assert box.inner_text().startswith("Not saved. This phone's storage is full.")
    assert page.evaluate("document.activeElement.classList.contains('form-errors')")  # read out at once
    assert page.is_enabled("#save-referral")
    assert page.input_value("textarea[name=notes]") == "Needs food this week"
    assert page.locator("h1").inner_text() == "Refer"
    assert unsynced(page) == 0

    page.evaluate(HEAL)
    page.click("#save-referral")
    page.wait_for_selector("#referrals :text('Riverside Food Bank')")
    assert page.locator("h1").inner_text() == "Alex Example"


def test_an_empty_goal_is_refused_with_one_message(live_server, field, page):
    """An empty goal, or one of spaces only, is said once: the field rules (empty) or the form's own check (spaces),
    never both in the box at the top."""
    worker = field.user()
    field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")
    page.click("a:text-is('New goal')")
    page.wait_for_selector("#save-goal")
    for typed in ("", "   "):
        page.fill("textarea[name=title]", typed)
        page.click("#save-goal")
        page.wait_for_selector(".form-errors:not([hidden])")
        lines = page.locator(".form-errors p").all_inner_texts()
        assert len(lines) == 1 and "goal" in lines[0].lower(), lines
    assert page.locator("h1").inner_text() == "New goal"  # nothing saved
    assert unsynced(page) == 0
