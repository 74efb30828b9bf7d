"""Issue 15 follow-up on the phone, in Chromium at 360x640: two missed visits in a row flag the person on the
person page at once (counted on the phone, offline too) and on the caseload after the sync (the server's count);
the planned end shows with the weeks left; a coordinator's handover note greets the new worker on the first sync,
once, and stays on the person's page after "Got it"."""

from __future__ import annotations

import datetime as dt

from conftest import go_offline, go_online
from pwa_steps import open_person, reload, sign_in, sync_now, wait_synced

from server.models import Person
from server.sync.revisions import stamp_values

ATTENDANCE = {"Did not attend": "3", "Arrived late and could not be seen": "7", "Attended": "5"}


def _log(page, attendance_words, hours_ago):
    page.click("#log-visit")
    page.wait_for_selector("h1:text-is('Log a visit')")
    when = dt.datetime.now() - dt.timedelta(hours=hours_ago)  # the phone's local time, as the form shows it
    page.fill("input[name=started_at]", when.strftime("%Y-%m-%dT%H:%M"))
    page.click("#more-details summary")
    page.click(f"#more-details label.radio:has(input[name=attendance][value='{ATTENDANCE[attendance_words]}'])")
    page.click("#save-visit")
    page.wait_for_selector("#visits")


def test_two_missed_visits_flag_the_person(live_server, field, browser_context, page, tmp_path):
    worker = field.user()
    person = field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")
    go_offline(browser_context)
    _log(page, "Did not attend", 3)
    assert page.locator("#missed-flag").count() == 0  # one is not a pattern
    _log(page, "Arrived late and could not be seen", 2)
    flag = page.locator("#missed-flag")
    assert "Missed the last 2 visits in a row." in flag.inner_text()
    assert "Try another way to reach them." in flag.inner_text()
    page.screenshot(path=str(tmp_path / "missed-person.png"))
    go_online(browser_context)
    sync_now(page)
    wait_synced(page)
    assert field.read(lambda: Person.get_by_id(person.id).missed_in_a_row) == 2
    page.click("#tabs a:text('Caseload')")
    page.wait_for_selector("#caseload-list .flag-missed:text('Missed 2 in a row: try another way to reach them')")
    page.screenshot(path=str(tmp_path / "missed-caseload.png"))
    open_person(page, "Alex Example")
    _log(page, "Attended", 1)
    assert page.locator("#missed-flag").count() == 0
    wait_synced(page)
    assert field.read(lambda: Person.get_by_id(person.id).missed_in_a_row) == 0


def test_planned_end_and_handover_note_on_first_sync(live_server, field, page, tmp_path):
    worker = field.user()
    person = field.person(worker, "Alex Example")
    end = dt.date.today() + dt.timedelta(weeks=10, days=3)
    with field.tx():
        Person.update(planned_end=end, handover_note="Prefers texts. Meet at the library, not at home.",
                      **stamp_values(person, ())).where(Person.id == person.id).execute()
    sign_in(page, live_server.url, worker)
    notice = page.locator("#handover-notice")
    notice.wait_for()
    assert "Alex Example" in notice.inner_text()
    page.screenshot(path=str(tmp_path / "handover-caseload.png"))
    page.click("#handover-notice a:text('Alex Example')")
    page.wait_for_selector("h1:text-is('Alex Example')")
    assert "10 weeks left" in page.locator("#planned-end").inner_text()
    box = page.locator("#handover")
    assert "Meet at the library" in box.inner_text()
    page.screenshot(path=str(tmp_path / "handover-person.png"))
    page.click("#handover-seen")
    page.wait_for_selector("details#handover")
    reload(page)
    page.wait_for_selector("h1:text-is('Alex Example')")
    page.click("details#handover summary")  # still reachable, folded away
    note = page.locator("details#handover .handover-text").inner_text()
    assert note == "Prefers texts. Meet at the library, not at home."
    page.click("#tabs a:text('Caseload')")
    page.wait_for_selector("#caseload-list")
    assert page.locator("#handover-notice").count() == 0  # once
