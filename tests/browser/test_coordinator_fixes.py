"""Issue 15's fixes to the coordinator pages, each in Chromium at 1366x768: the resource directory's Archive and
Restore buttons have enough contrast (30 resources); Reports' tables fit their box and their regions are
labelled apart; deactivating a worker is a secondary action with a confirmation step; the review queue's
filters sit behind one disclosure, so the first visit is a few Tab stops away; no coordinator page asks for
something that is not there (the favicon)."""

from __future__ import annotations

import pytest
from coordinator_pages import SIZES, axe_violations, overflowing_tables, seed_team, sign_in


@pytest.fixture
def laptop(playwright_browser):
    context = playwright_browser.new_context(viewport=SIZES["laptop"])
    yield context.new_page()
    context.close()


def test_archive_and_restore_buttons_have_contrast(live_server, field, laptop, tmp_path):
    from server.models import Resource

    team = seed_team(field, resources=30)
    with field.tx():
        for resource in team.resources[:10]:
            Resource.update(**Resource.status_values("inactive")).where(Resource.id == resource.id).execute()
    sign_in(laptop, live_server.url, team.coordinator)
    for show, label, count in (("current", "Archive", 20), ("archived", "Restore", 10), ("all", None, 30)):
        laptop.goto(f"{live_server.url}/coordinator/resources?show={show}")
        if label:
            assert laptop.locator("button.link", has_text=label).count() == count
        assert axe_violations(laptop) == [], show
        colours = laptop.evaluate("""() => [...document.querySelectorAll('main button.link')].map(b => {
            const s = getComputedStyle(b); return [s.color, s.backgroundColor]; })""")
        assert colours and all(colour == "rgb(11, 93, 122)" for colour, _ in colours), colours[:3]
    laptop.screenshot(path=str(tmp_path / "resources.png"), full_page=True)


def test_reports_tables_fit_at_1366_and_have_their_own_labels(live_server, field, laptop, tmp_path):
    from server.models import Referral, Resource
    from server.sync.revisions import next_rev

    team = seed_team(field, resources=6, workers=6)
    with field.tx():  # referrals in twelve categories: that table turns a category per row
        for i in range(12):
            shelf = Resource.create(name=f"Service {i}", category=f"Category with a long name {i}", rev=next_rev())
            Referral.create(person=team.people[i % 3], resource=shelf, created_by=team.workers[i % 3],
                            status="made", rev=next_rev())
    sign_in(laptop, live_server.url, team.coordinator)
    laptop.goto(f"{live_server.url}/coordinator/reports")
    laptop.get_by_text("Bartholomew Featherstonehaugh-Smythe").first.wait_for()
    assert laptop.locator(".table-wrap").count() >= 4
    assert laptop.locator("#referrals-cap + thead th").first.inner_text() == "Category"
    assert overflowing_tables(laptop) == []
    assert laptop.evaluate("document.documentElement.scrollWidth") <= 1366
    labels = laptop.evaluate("""() => [...document.querySelectorAll('[role=region]')].map(r =>
        r.getAttribute('aria-label') || document.getElementById(r.getAttribute('aria-labelledby')).innerText)""")
    assert len(labels) == len(set(labels)), labels
    assert axe_violations(laptop) == []
    laptop.screenshot(path=str(tmp_path / "reports.png"), full_page=True)


def test_deactivate_is_secondary_and_needs_the_confirmation_step(live_server, field, laptop, tmp_path):
    from server.models import Device, User

    team = seed_team(field)
    worker = team.workers[0]
    with field.tx():
        Device.create(user=worker, name="Sam's work phone")
    sign_in(laptop, live_server.url, team.coordinator)
    laptop.goto(f"{live_server.url}/coordinator/users/{worker.uuid}")
    deactivate = laptop.get_by_role("link", name=f"Deactivate {worker.name}…")
    # Secondary: outlined (white background), and not the first action in the section.
    assert deactivate.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 255, 255)"
    first = laptop.locator("section[aria-labelledby=access-h] .actions > *").first
    assert "Deactivate" not in first.inner_text()
    assert axe_violations(laptop) == []
    deactivate.click()
    laptop.wait_for_url(f"**/coordinator/users/{worker.uuid}/deactivate")
    laptop.get_by_text("Sam's work phone").wait_for()
    assert field.read(lambda: User.get_by_id(worker.id).active)  # looking changes nothing
    assert axe_violations(laptop) == []
    laptop.screenshot(path=str(tmp_path / "deactivate-confirm.png"), full_page=True)
    laptop.get_by_role("link", name=f"Cancel, keep {worker.name} active").click()
    laptop.wait_for_url(f"**/coordinator/users/{worker.uuid}")
    assert field.read(lambda: User.get_by_id(worker.id).active)

    # A stale one-click form (as before issue 15) posting without the confirmation changes nothing.
    token = laptop.locator("input[name=csrf_token]").first.input_value()
    response = laptop.request.post(f"{live_server.url}/coordinator/users/{worker.uuid}/deactivate",
                                   form={"csrf_token": token})
    assert response.status == 400 and "Nothing has changed yet" in response.text()
    assert field.read(lambda: User.get_by_id(worker.id).active)

    laptop.goto(f"{live_server.url}/coordinator/users/{worker.uuid}/deactivate")
    laptop.get_by_role("button", name=f"Yes, deactivate {worker.name}").click()
    laptop.get_by_text(f"{worker.name} can no longer sign in").wait_for()
    assert not field.read(lambda: User.get_by_id(worker.id).active)
    assert field.read(lambda: Device.get(Device.user == worker.id).revoked_at) is not None


def test_review_filters_are_one_tab_stop_before_the_first_visit(live_server, field, laptop, tmp_path):
    team = seed_team(field)
    sign_in(laptop, live_server.url, team.coordinator)
    laptop.goto(f"{live_server.url}/coordinator/review")
    first_visit = laptop.locator("table tbody a").first
    first_href = first_visit.get_attribute("href")
    laptop.keyboard.press("Tab")
    assert laptop.evaluate("document.activeElement.className") == "skip"
    laptop.keyboard.press("Enter")  # Skip to content
    stops = 0
    while laptop.evaluate("document.activeElement.getAttribute('href')") != first_href:
        laptop.keyboard.press("Tab")
        stops += 1
        assert stops <= 40, "never reached the first visit"
    assert stops - 1 <= 5, f"{stops - 1} Tab stops before the first visit"
    assert axe_violations(laptop) == []

    # The filters still work, and the closed disclosure says which are on.
    laptop.locator("details.filters-box summary").click()
    laptop.select_option("#f-worker", label=team.workers[0].name)
    laptop.check("input[name=unreviewed]")
    laptop.get_by_role("button", name="Show").click()
    summary = laptop.locator("details.filters-box summary").inner_text()
    assert team.workers[0].name in summary and "not yet reviewed" in summary
    assert laptop.locator("table tbody tr").count() == sum(v.author_id == team.workers[0].id for v in team.visits)
    assert axe_violations(laptop) == []
    laptop.screenshot(path=str(tmp_path / "review.png"), full_page=True)
    # A bad filter value is a clear 400, never a 500.
    assert laptop.request.get(f"{live_server.url}/coordinator/review?worker=nope&concern=odd").status == 400


def test_no_coordinator_page_asks_for_a_missing_file(live_server, field, laptop):
    team = seed_team(field)
    missing = []
    laptop.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    sign_in(laptop, live_server.url, team.coordinator)
    for path in ("/coordinator/", "/coordinator/review", "/coordinator/resources", "/coordinator/reports"):
        laptop.goto(live_server.url + path)
    icon = laptop.evaluate("document.querySelector('link[rel=icon]').href")
    assert laptop.request.get(icon).status == 200
    assert laptop.request.get(live_server.url + "/favicon.ico").status == 200
    assert missing == []
