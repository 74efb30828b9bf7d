"""The field app offline, in a real Chromium: what a worker logs without signal survives reloads and a
browser restart, and reaches the database exactly once when signal returns."""

from __future__ import annotations

from conftest import go_offline, go_online
from pwa_steps import (
    add_goal,
    log_visit,
    open_app,
    open_person,
    refer,
    reload,
    sign_in,
    sync_now,
    unsynced,
    wait_synced,
)

from server.models import AppliedMutation, Goal, GoalProgress, Referral, Review, Visit


def test_offline_work_survives_reload_and_restart_then_syncs_once(live_server, field, persistent_context_factory):
    worker = field.user()
    person = field.person(worker, "Alex Example")
    field.resource("Riverside Food Bank", "Food")

    context = persistent_context_factory("phone")
    page = context.pages[0] if context.pages else context.new_page()
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")

    go_offline(context)
    add_goal(page, "Get back to swimming on Fridays")
    log_visit(page, ratings={"Get back to swimming on Fridays": 6})
    refer(page, "Alex Example", "Riverside Food Bank")
    assert unsynced(page) == 4  # goal, visit, goal rating, referral

    reload(page)  # offline: only the service worker can answer (and the app opens locked)
    page.wait_for_selector("h1:text-is('Alex Example')")
    assert page.locator("#goals").inner_text().count("Progress 6 out of 10") == 1
    assert page.locator("#visits .badge").first.inner_text() == "Not sent yet"
    assert "Riverside Food Bank" in page.locator("#referrals").inner_text()
    assert field.read(lambda: Visit.select().count()) == 0

    context.close()
    context = persistent_context_factory("phone")  # the same storage, still no signal
    go_offline(context)
    page = context.pages[0] if context.pages else context.new_page()
    open_app(page, live_server.url, f"/app/p/{person.uuid}")
    page.wait_for_selector("h1:text-is('Alex Example')")
    assert "Get back to swimming on Fridays" in page.locator("#goals").inner_text()
    assert unsynced(page) == 4

    go_online(context)
    page.evaluate("window.dispatchEvent(new Event('online'))")  # what the phone does when signal returns
    wait_synced(page)

    def db_state():
        return (
            Visit.select().where(Visit.person == person.id).count(),
            Goal.select().where(Goal.person == person.id).count(),
            GoalProgress.select().count(),
            Referral.select().where(Referral.person == person.id).count(),
            AppliedMutation.select().count(),
        )

    assert field.read(db_state) == (1, 1, 1, 1, 4)
    goal = field.read(lambda: Goal.get(Goal.person == person.id))
    assert goal.title == "Get back to swimming on Fridays" and goal.life_area == "Home"
    assert field.read(lambda: GoalProgress.get().rating) == 6
    assert field.read(lambda: Referral.get().status) == "made"
    sync_now(page)  # a second flush sends nothing again
    assert field.read(db_state) == (1, 1, 1, 1, 4)
    reload(page)
    page.wait_for_selector("h1:text-is('Alex Example')")
    assert page.locator("#visits .badge").first.inner_text() == "Sent"

    # The coordinator's feedback reaches the phone; a referral's status is updated from the phone.
    coordinator = field.user("coordinator", name="Cass Coordinator")
    with field.tx():
        from server.sync.revisions import next_rev

        Review.create(visit=Visit.get(Visit.person == person.id), reviewer=coordinator,
                      comment="Lovely idea, the pool.", rev=next_rev())
    sync_now(page)
    page.wait_for_selector("#feedback :text('Lovely idea, the pool.')")
    page.click("#referrals a:text('Riverside Food Bank')")
    page.select_option("select[name=status]", "attended")
    page.click("#save-referral")
    page.wait_for_selector("h1:text-is('Alex Example')")
    wait_synced(page)
    assert field.read(lambda: Referral.get().status) == "attended"
