"""Issue 15 in a real Chromium at 360x640, offline where it applies: a worker adds a person met in the field, voids
a visit logged in error, rates a goal after a phone call and closes an engagement with a summary, all without
signal; then one sync puts each in the database exactly once. Editing a visit keeps and edits its ratings, and a
visit edited after review says so on the phone."""

from __future__ import annotations

from conftest import go_offline, go_online
from pwa_steps import add_goal, log_visit, open_person, rate, sign_in, sync_now, unsynced, wait_synced

from server.db import utcnow
from server.models import AppliedMutation, CaseloadAssignment, GoalProgress, Person, Visit
from server.sync.revisions import stamp_values


def test_offline_day_add_void_rate_close_then_one_sync(live_server, field, browser_context, page, tmp_path):
    worker = field.user()
    alex = field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")
    add_goal(page, "Sleep through the night")
    log_visit(page, notes="Logged for the wrong person")
    wait_synced(page)

    go_offline(browser_context)
    # 1. add a person met in the field
    page.click("#tabs a:text('Caseload')")
    page.click("#add-person")
    page.wait_for_selector("h1:text-is('Add a person')")
    page.fill("input[name=display_name]", "Jo")
    page.fill("input[name=preferred_contact]", "Text after 5pm")
    page.fill("input[name=planned_end]", "2027-06-30")
    page.screenshot(path=str(tmp_path / "add-person.png"))
    page.click("#save-person")
    page.wait_for_selector("h1:text-is('Jo')")
    assert page.locator("#waiting-confirm").inner_text() == "Waiting for your coordinator to confirm"
    page.click("#tabs a:text('Caseload')")
    page.wait_for_selector("#caseload-list a:has-text('Jo') .badge:text('Waiting for your coordinator to confirm')")

    # 2. void the visit logged in error, from the visit's own page
    open_person(page, "Alex Example")
    page.click("#visits a.title")
    page.wait_for_selector("h1:text-is('Visit')")
    page.click("#void-visit")
    page.wait_for_selector("h1:text-is('Void a visit')")
    page.click("#confirm-void")
    assert "why the visit is being voided" in page.locator(".form-errors").inner_text()
    page.fill("textarea[name=voided_reason]", "Logged for the wrong person")
    page.click("#confirm-void")
    page.wait_for_selector("h1:text-is('Alex Example')")
    assert "Voided: Logged for the wrong person" in page.locator("#visits").inner_text()

    # 3. rate a goal after a phone call, outside a visit
    page.click("a[aria-label='Rate now: Sleep through the night']")
    page.wait_for_selector("h1:text-is('Rate a goal')")
    page.click("#save-rating")
    assert "Choose a rating" in page.locator(".form-errors").inner_text()
    rate(page, "Progress now, 0 (not started) to 10 (done)", 6)
    page.fill("textarea[name=note]", "After a phone call")
    page.click("#save-rating")
    page.wait_for_selector("h1:text-is('Alex Example')")
    assert "Progress 6 out of 10" in page.locator("#goals").inner_text()
    assert page.locator("#goals ol.sr-only li").count() == 1

    # 4. close the engagement with a reason and a summary
    page.click("#close-engagement")
    page.wait_for_selector("h1:text-is('Close the engagement')")
    page.click("label.radio:has-text('Goals met')")
    page.fill("textarea[name=ending_summary]", "Sleeping better; knows where the drop-in is.")
    page.screenshot(path=str(tmp_path / "close.png"))
    page.click("#save-ending")
    page.wait_for_selector("h1:text-is('Alex Example')")
    assert "Engagement closed" in page.locator("#ending").inner_text()
    assert "Goals met" in page.locator("#ending").inner_text()
    page.screenshot(path=str(tmp_path / "closed-person.png"), full_page=True)
    assert unsynced(page) == 4
    assert field.read(lambda: Person.select().count()) == 1

    go_online(browser_context)
    sync_now(page)
    wait_synced(page)
    sync_now(page)  # a second sync sends nothing again
    wait_synced(page)

    def state():
        jo = Person.get(Person.display_name == "Jo")
        person = Person.get_by_id(alex.id)
        visit = Visit.get(Visit.person == alex.id)
        rating = GoalProgress.get()
        return {
            "people": Person.select().count(),
            "jo": (jo.added_in_field, jo.confirmed_at, jo.preferred_contact, str(jo.planned_end),
                   CaseloadAssignment.select().where(CaseloadAssignment.person == jo.id).count()),
            "visits": Visit.select().count(),
            "voided": (visit.voided_at is not None, visit.voided_reason, visit.deleted),
            "ratings": GoalProgress.select().count(),
            "rating": (rating.rating, rating.visit_id, rating.note, rating.rated_by),
            "closed": (person.status, person.closed_reason, person.ending_summary, person.closed_at is not None),
            "mutations": AppliedMutation.select().count(),
        }

    got = field.read(state)
    assert got == {
        "people": 2,
        "jo": (True, None, "Text after 5pm", "2027-06-30", 1),
        "visits": 1,
        "voided": (True, "Logged for the wrong person", False),
        "ratings": 1,
        "rating": (6, None, "After a phone call", "person"),
        "closed": ("closed", "goals_met", "Sleeping better; knows where the drop-in is.", True),
        "mutations": 2 + 4,  # the goal and the visit before, then the four offline changes, each once
    }
    page.click("#tabs a:text('Caseload')")
    page.wait_for_selector("#caseload-list a:has-text('Jo') .badge:text('Waiting for your coordinator to confirm')")
    assert page.locator("#caseload-list a:has-text('Alex Example')").count() == 0  # closed: off the list
    page.click("#closed-people summary")  # still reachable, under "Support ended"
    page.click("#closed-people a:has-text('Alex Example')")
    page.wait_for_selector("#ending:has-text('Goals met')")


def test_editing_a_visit_keeps_and_edits_its_ratings_and_shows_changed_since_review(live_server, field, page):
    worker = field.user()
    person = field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")
    add_goal(page, "Walk to the shop")
    log_visit(page, ratings={"Walk to the shop": 3}, notes="Short walk")
    wait_synced(page)
    with field.tx():
        visit = Visit.get(Visit.person == person.id)
        Visit.update(reviewed_at=utcnow(), **stamp_values(visit, ())).where(Visit.id == visit.id).execute()
    sync_now(page)
    page.wait_for_selector("#visits :text('Reviewed by your coordinator')")

    page.click("#visits a.title")
    page.wait_for_selector("h1:text-is('Visit')")
    group = page.get_by_role("group", name="Walk to the shop", exact=True)
    assert group.locator("input:checked").get_attribute("value") == "3"  # the rating is in the edit form
    assert group.locator("input[value='']").count() == 0  # a given rating is changed, not dropped
    rate(page, "Walk to the shop", 5)
    page.fill("textarea[name=notes]", "Short walk, then tea")
    page.click("#save-visit")
    page.wait_for_selector("h1:text-is('Alex Example')")
    wait_synced(page)
    page.wait_for_selector("#visits :text('Reviewed — changed since')")
    assert "Progress 5 out of 10" in page.locator("#goals").inner_text()

    def state():
        rows = list(GoalProgress.select())
        v = Visit.get(Visit.person == person.id)
        return [r.rating for r in rows], v.notes, v.edited_at is not None and v.edited_at > v.reviewed_at

    assert field.read(state) == ([5], "Short walk, then tea", True)


def test_a_visit_more_than_a_day_ahead_is_refused_on_the_phone(live_server, field, page):
    worker = field.user()
    field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")
    page.click("#log-visit")
    page.wait_for_selector("h1:text-is('Log a visit')")
    page.fill("input[name=started_at]", "2031-03-01T10:00")
    page.click("#save-visit")
    assert "more than a day ahead" in page.locator(".form-errors").inner_text()
    page.fill("input[name=started_at]", "2026-11-20T10:00")
    page.click("#more-details summary")
    page.fill("input[name=next_visit_at]", "2030-01-01T10:00")
    page.click("#save-visit")
    assert "within two years" in page.locator(".form-errors").inner_text()
    assert unsynced(page) == 0
    assert field.read(lambda: Visit.select().count()) == 0
