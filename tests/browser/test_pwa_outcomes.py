"""Issue 16 on the phone, in a real Chromium: CHIME tags chosen with the person on a goal and who gave a visit's
goal ratings reach the server as chosen, come back into the forms, and a change of tags syncs too. The next visit
form remembers who rated last time."""

from __future__ import annotations

import os
from pathlib import Path

from pwa_steps import open_person, rate, sign_in, wait_synced

from server.models import Goal, GoalProgress


def more_details(page):
    if not page.locator("details.more").evaluate("d => d.open"):
        page.click("details.more > summary")


def test_chime_tags_and_who_rated_reach_the_server(live_server, field, page, tmp_path):
    worker = field.user()
    person = field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")

    page.click("a:text-is('New goal')")
    page.fill("textarea[name=title]", "Join the walking group")
    page.get_by_label("Connectedness").check()
    page.check("input[name=chime_tags][value=hope]")
    page.screenshot(path=str(tmp_path / "goal-chime.png"), full_page=True)
    page.click("#save-goal")
    page.wait_for_selector("#goals :text('Join the walking group')")

    page.click("#log-visit")
    page.wait_for_selector("h1:text-is('Log a visit')")
    assert page.is_checked("input[name=rated_by][value=person]")  # the person rates by default
    rate(page, "Join the walking group", "6")
    more_details(page)  # who rated folds under "More details" (issue 15)
    page.check("input[name=rated_by][value=together]")
    page.locator("fieldset.goals").screenshot(path=str(tmp_path / "visit-rated-by.png"))
    page.click("#save-visit")
    page.wait_for_selector("#visits")
    wait_synced(page)

    def stored():
        goal = Goal.get((Goal.person == person.id) & (Goal.title == "Join the walking group"))
        ratings = GoalProgress.select().where(GoalProgress.goal == goal).order_by(GoalProgress.id)
        return goal.chime_tags, [(r.rating, r.rated_by) for r in ratings]

    assert field.read(stored) == ('["connectedness", "hope"]', [(6, "together")])

    page.click("#goals a:has-text('Join the walking group')")
    page.wait_for_selector("#save-goal")
    assert page.is_checked("input[name=chime_tags][value=connectedness]")
    assert page.is_checked("input[name=chime_tags][value=hope]")
    assert not page.is_checked("input[name=chime_tags][value=identity]")
    page.uncheck("input[name=chime_tags][value=hope]")
    page.check("input[name=chime_tags][value=empowerment]")
    page.click("#save-goal")
    page.wait_for_selector("#goals :text('Join the walking group')")

    page.click("#log-visit")
    page.wait_for_selector("h1:text-is('Log a visit')")
    assert page.is_checked("input[name=rated_by][value=together]")  # remembered from the last visit
    rate(page, "Join the walking group", "8")
    more_details(page)
    page.check("input[name=rated_by][value=person]")
    page.click("#save-visit")
    page.wait_for_selector("#visits")
    wait_synced(page)
    assert field.read(stored) == ('["connectedness", "empowerment"]', [(6, "together"), (8, "person")])
    if shots := os.environ.get("ALONGSIDE_SHOTS"):  # to look at them
        for shot in tmp_path.glob("*.png"):
            Path(shots).mkdir(parents=True, exist_ok=True)
            (Path(shots) / shot.name).write_bytes(shot.read_bytes())
