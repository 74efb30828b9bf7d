"""Issue 16's coordinator pages in Chromium at phone (360x640) and laptop (1366x768) sizes: the outcomes report
(SVG charts, each with a table), a person's page with wellbeing over time, their subject access page, and the
supervision pages (recording, changing and deleting a session); axe-core finds nothing on any of them.
Screenshots go to tmp_path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from helpers import PASSWORD

AXE = (Path(__file__).parent.parent / "vendor/axe-core-4.14.1/axe.min.js").read_text()
SIZES = {"phone": {"width": 360, "height": 640}, "laptop": {"width": 1366, "height": 768}}


def axe_violations(page) -> list:
    page.evaluate(AXE + "\n;0")
    return page.evaluate("async () => (await axe.run()).violations.map(v => [v.id, v.nodes.length, "
                         "v.nodes[0].target.join(' ')])")


def seed(field, worker, person):
    from server.db import utcnow
    from server.models import Goal, GoalProgress, Visit

    now = utcnow().replace(microsecond=0)
    with field.tx():
        from server.sync.revisions import next_rev

        goal = Goal.create(person=person, created_by=worker, title="Join the walking group",
                           chime_tags='["connectedness", "hope"]', rev=next_rev())
        for i, (wellbeing, rating) in enumerate(((3, 2), (5, 4), (7, 6))):
            visit = Visit.create(person=person, author=worker, started_at=now - dt.timedelta(days=30 - 10 * i),
                                 wellbeing=wellbeing, notes="Walked to the park.", rev=next_rev())
            GoalProgress.create(goal=goal, visit=visit, author=worker, rating=rating, rated_by="together",
                                created_at=visit.started_at, rev=next_rev())


@pytest.mark.parametrize("size", SIZES)
def test_outcomes_supervision_and_record_pages_are_accessible(live_server, field, playwright_browser, tmp_path,
                                                              size):
    coordinator = field.user("coordinator", name="Cass Coordinator")
    worker = field.user("peer_worker", name="Sam Worker")
    person = field.person(worker, name="Alex Example")
    seed(field, worker, person)
    context = playwright_browser.new_context(viewport=SIZES[size])
    page = context.new_page()
    page.goto(live_server.url + "/login")
    page.fill("#email", coordinator.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/coordinator/**")

    page.goto(live_server.url + "/coordinator/outcomes")
    assert page.locator("svg#chart-goals").count() == 1
    assert axe_violations(page) == [], "outcomes report"
    page.screenshot(path=str(tmp_path / f"outcomes-{size}.png"), full_page=True)

    page.goto(live_server.url + f"/coordinator/people/{person.uuid}")
    assert page.locator("svg#chart-person-wellbeing circle").count() == 3
    assert axe_violations(page) == [], "person page with outcomes"
    page.screenshot(path=str(tmp_path / f"person-outcomes-{size}.png"), full_page=True)

    page.goto(live_server.url + f"/coordinator/people/{person.uuid}/record")
    page.get_by_text("Walked to the park.").first.wait_for()
    page.locator("#end-of-record").wait_for()  # streamed to the end
    assert axe_violations(page) == [], "subject access page"

    page.goto(live_server.url + "/coordinator/supervision")
    assert axe_violations(page) == [], "supervision list"
    page.get_by_role("link", name="Sam Worker").click()
    page.select_option("#kind", "reflective")
    page.fill("#topics", "Boundaries")
    page.fill("#actions", "Read the lone working guide")
    page.check("#share_wellbeing")
    page.fill("#wellbeing", "7")
    page.click("form.form button[type=submit]")
    page.get_by_text("Read the lone working guide").wait_for()
    assert axe_violations(page) == [], "supervision worker page"
    page.screenshot(path=str(tmp_path / f"supervision-{size}.png"), full_page=True)

    page.get_by_role("link", name="Change or delete the session").click()
    assert page.input_value("#topics") == "Boundaries" and page.input_value("#wellbeing") == "7"
    assert axe_violations(page) == [], "supervision session: change or delete"
    page.screenshot(path=str(tmp_path / f"supervision-change-{size}.png"), full_page=True)
    page.fill("#topics", "Boundaries, and saying no")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text("Boundaries, and saying no").wait_for()
    page.get_by_role("link", name="Change or delete the session").click()
    page.get_by_role("button", name="Delete this session").click()
    page.get_by_text("No sessions recorded yet.").wait_for()
    if os_env_shots := __import__("os").environ.get("ALONGSIDE_SHOTS"):
        for shot in tmp_path.glob("*.png"):
            Path(os_env_shots).mkdir(parents=True, exist_ok=True)
            (Path(os_env_shots) / shot.name).write_bytes(shot.read_bytes())
    context.close()
