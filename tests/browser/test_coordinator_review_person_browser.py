"""Issue 15 (contract C) on the coordinator pages, in Chromium at 1366x768: the review queue says "Voided by the
worker: <reason>" and "Changed since review"; reviewing a changed visit again takes it out of "to review"; the
person page draws each goal's ratings over time with the numbers listed; a person with two missed visits in a
row is flagged; moving them asks for a handover note, which is stored; closing records how it ended."""

from __future__ import annotations

import pytest
from coordinator_pages import SIZES, axe_violations, seed_team, sign_in


@pytest.fixture
def laptop(playwright_browser):
    context = playwright_browser.new_context(viewport=SIZES["laptop"])
    yield context.new_page()
    context.close()


def test_voided_and_changed_visits_in_the_review_queue(live_server, field, laptop, tmp_path):
    from server.db import utcnow
    from server.models import Visit
    from server.sync.revisions import next_rev

    team = seed_team(field)
    voided, changed = team.visits[-1], team.visits[-2]
    now = utcnow()
    with field.tx():
        Visit.update(voided_at=now, voided_reason="Logged for the wrong person", rev=next_rev()) \
            .where(Visit.id == voided.id).execute()
        Visit.update(reviewed_at=now.replace(year=now.year - 1), edited_at=now, rev=next_rev()) \
            .where(Visit.id == changed.id).execute()
    sign_in(laptop, live_server.url, team.coordinator)
    laptop.goto(f"{live_server.url}/coordinator/review?unreviewed=1")
    assert laptop.locator(f"a[href$='{voided.uuid}']").count() == 0  # not to review
    row = laptop.locator("tr", has=laptop.locator(f"a[href$='{changed.uuid}']"))
    assert "Changed since review" in row.inner_text()
    laptop.goto(f"{live_server.url}/coordinator/review")
    row = laptop.locator("tr", has=laptop.locator(f"a[href$='{voided.uuid}']"))
    assert "Voided by the worker: Logged for the wrong person" in row.inner_text()
    assert row.locator("input[type=checkbox]").count() == 0
    assert axe_violations(laptop) == []
    laptop.screenshot(path=str(tmp_path / "queue.png"), full_page=True)

    laptop.locator(f"a[href$='{changed.uuid}']").click()
    laptop.get_by_text("It is back in the review queue.").wait_for()
    laptop.get_by_label("Mark as reviewed again").check()
    laptop.get_by_role("button", name="Save").click()
    laptop.get_by_text("Visit marked as reviewed.").wait_for()
    laptop.goto(f"{live_server.url}/coordinator/review?unreviewed=1")
    assert laptop.locator(f"a[href$='{changed.uuid}']").count() == 0
    laptop.goto(f"{live_server.url}/coordinator/visits/{voided.uuid}")
    assert "Voided by the worker: Logged for the wrong person" in laptop.locator("main").inner_text()
    assert laptop.get_by_label("Mark as reviewed").count() == 0


def test_person_page_goals_over_time_flag_handover_and_ending(live_server, field, laptop, tmp_path):
    from server.models import Person

    team = seed_team(field, workers=3)
    person, newcomer = team.people[0], team.workers[2]
    with field.tx():
        Person.update(missed_in_a_row=2).where(Person.id == person.id).execute()
    sign_in(laptop, live_server.url, team.coordinator)
    laptop.goto(f"{live_server.url}/coordinator/people")
    row = laptop.locator("tr", has=laptop.get_by_role("link", name=person.display_name))
    assert "try another way to reach them" in row.inner_text()

    row.get_by_role("link", name=person.display_name).click()
    laptop.get_by_text("Try another way to reach them.").wait_for()
    chart = laptop.locator("svg.sparkline").first
    assert chart.is_visible() and chart.locator("circle").count() == 6
    assert chart.get_attribute("role") == "img" and "over time" in chart.locator("title").text_content()
    assert laptop.locator("ol.ratings").first.locator("li").all_inner_texts()[-1].endswith(": 7")
    assert axe_violations(laptop) == []
    laptop.screenshot(path=str(tmp_path / "person.png"), full_page=True)

    note = "Likes to meet at the library café; ring first."
    laptop.select_option("#worker", label=newcomer.name)
    laptop.fill("#handover_note", note)
    laptop.get_by_role("button", name="Assign").click()
    laptop.get_by_text("They see your handover note when their phone next syncs.").wait_for()
    assert field.read(lambda: Person.get_by_id(person.id).handover_note) == note
    assert note in laptop.locator("#handover-note").inner_text()

    laptop.select_option("#status", "closed")
    laptop.select_option("#closed_reason", label="Moved on")
    laptop.fill("#ending_summary", "Found a job and a running club.")
    laptop.get_by_role("button", name="Change").click()
    laptop.get_by_text("Engagement is now closed.").wait_for()
    ending = laptop.locator("#ending").inner_text()
    assert "Moved on" in ending and "Found a job and a running club." in ending
    stored = field.read(lambda: Person.get_by_id(person.id))
    assert (stored.status, stored.closed_reason) == ("closed", "moved_on") and stored.closed_at is not None
    assert axe_violations(laptop) == []
    laptop.screenshot(path=str(tmp_path / "person-closed.png"), full_page=True)
