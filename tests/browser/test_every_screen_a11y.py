"""axe-core (vendored, tests/vendor/axe-core-4.14.1, with WCAG 2.2's target-size rule on) finds nothing on EVERY
coordinator page and every page of the person supported (/r/), at 1366x768 and 360x640; on the coordinator
pages every pair of targets is also at least 24 px apart, and no table is wider than its box at 1366.

"Every" is checked, not hoped for: the coordinator pages come from the app's own URL map (each GET page of the
coordinator blueprint, the sign-in page and the account page), each visited in the states that change what it
shows (a voided visit, a visit changed since review, a closed engagement, a flagged person, the review filters
open, a bad filter, the deactivation step, an invite); a new page with an id in its address fails the test
until it is added to `pages()` below. Files (CSV, JSON, zip, calendar) are not screens and are listed apart.
The field app's screens are tested with the field app (tests/browser/test_pwa_a11y.py)."""

from __future__ import annotations

import json

import pytest
from coordinator_pages import (
    SIZES,
    axe_violations,
    overflowing_tables,
    seed_team,
    sign_in,
    targets_too_close,
)
from reminder_push_endpoint import PushEndpoint
from test_person_page import STUB

DOWNLOADS = {
    "coordinator.audit_export", "coordinator.export_contacts", "coordinator.export_goals",
    "coordinator.export_outcomes", "coordinator.export_referrals", "coordinator.export_visits",
    "coordinator.subject_access_json", "coordinator.hsds_export_package", "coordinator.hsds_export_csv",
    "coordinator.hsds_export_json", "coordinator.alert_service_worker",
}
SCREENS_ELSEWHERE = {
    "web_auth.login_code", "web_auth.login_setup",  # the two-step sign-in: tests/browser/test_two_step_browser.py
    "account.setup",
}


def _shape(field, team):
    """Give the pages their issue-15 states: voided, changed since review, closed with an ending, flagged."""
    from server.db import utcnow
    from server.models import Person, Visit
    from server.sync.revisions import next_rev

    now = utcnow()
    voided, changed = team.visits[-1], team.visits[-2]
    with field.tx():
        Visit.update(voided_at=now, voided_reason="Logged for the wrong person", rev=next_rev()) \
            .where(Visit.id == voided.id).execute()
        Visit.update(reviewed_at=now.replace(year=now.year - 1), edited_at=now, rev=next_rev()) \
            .where(Visit.id == changed.id).execute()
        Person.update(missed_in_a_row=2, handover_note="Ring first; afternoons are best.", rev=next_rev()) \
            .where(Person.id == team.people[0].id).execute()
        Person.update(status="closed", closed_reason="goals_met", closed_at=now.date(),
                      ending_summary="Feels ready to go on alone.", rev=next_rev()) \
            .where(Person.id == team.people[1].id).execute()
        Person.update(added_in_field=True, preferred_contact="Text after 4pm", rev=next_rev()) \
            .where(Person.id == team.people[2].id).execute()  # a worker added them: to confirm
        # issue 14 and 16: an alert to look at, and a supervision session its coordinator may correct
        from server.models import SupervisionSession
        from server.safety.alerts import raise_alert

        team.alert = raise_alert("concern", team.people[0].team_id, subject_uuid=str(team.visits[0].uuid),
                                 worker=team.workers[0], person=team.people[0], now=now)
        from server.models import Device

        team.device = Device.create(user=team.workers[0], name="Sam's work phone")  # to revoke (a confirmation page)
        team.supervision = SupervisionSession.create(
            worker=team.workers[0], team=team.workers[0].team_id, recorded_by=team.coordinator, held_on=now.date(),
            topics="Pacing the week", actions="Book a day off", rev=next_rev())
    return voided, changed


def pages(team, voided, changed) -> dict[str, list[str]]:
    """Each coordinator page (by endpoint) and the addresses it is visited at."""
    person, closed, worker = team.people[0], team.people[1], team.workers[0]
    return {
        "coordinator.home": ["/coordinator/"],
        "coordinator.review_queue": ["/coordinator/review", "/coordinator/review?unreviewed=1&concern=any"],
        "coordinator.visit_detail": [f"/coordinator/visits/{team.visits[0].uuid}", f"/coordinator/visits/{voided.uuid}",
                                     f"/coordinator/visits/{changed.uuid}"],
        "coordinator.concern_list": ["/coordinator/concerns", "/coordinator/concerns?show=all"],
        "coordinator.people_list": ["/coordinator/people", "/coordinator/people?status=all",
                                    "/coordinator/people?show=to_confirm"],
        "coordinator.person_detail": [f"/coordinator/people/{person.uuid}", f"/coordinator/people/{closed.uuid}",
                                      f"/coordinator/people/{team.people[2].uuid}"],
        "coordinator.person_edit": [f"/coordinator/people/{person.uuid}/edit"],
        "coordinator.person_new": ["/coordinator/people/new"],
        "coordinator.subject_access_page": [f"/coordinator/people/{person.uuid}/record"],
        "coordinator.report": ["/coordinator/reports"],
        "coordinator.outcomes_report": ["/coordinator/outcomes"],
        "coordinator.supervision_list": ["/coordinator/supervision"],
        "coordinator.supervision_worker": [f"/coordinator/supervision/worker/{worker.uuid}"],
        "coordinator.supervision_edit_form": [f"/coordinator/supervision/worker/{worker.uuid}/session"
                                              f"?id={team.supervision.uuid}"],
        "coordinator.alert_detail": [f"/coordinator/alerts/{team.alert.uuid}"],
        "coordinator.resource_list": ["/coordinator/resources", "/coordinator/resources?show=all"],
        "coordinator.resource_new": ["/coordinator/resources/new"],
        "coordinator.resource_edit": [f"/coordinator/resources/{team.resources[0].uuid}/edit"],
        "coordinator.hsds_page": ["/coordinator/resources/import"],
        "coordinator.user_list": ["/coordinator/users"],
        "coordinator.user_new": ["/coordinator/users/new"],
        "coordinator.user_detail": [f"/coordinator/users/{worker.uuid}"],
        "coordinator.user_deactivate_confirm": [f"/coordinator/users/{worker.uuid}/deactivate"],
        "coordinator.device_revoke_confirm": [f"/coordinator/devices/{team.device.uuid}/revoke"],
        "coordinator.reminder_settings": ["/coordinator/reminder-settings"],
        "coordinator.audit_list": ["/coordinator/audit"],
        "account.two_step": ["/account/two-step"],
        # bad input: the calm 400 page
        "coordinator.bad_input": ["/coordinator/review?concern=odd"],
    }


def check(page, url: str, problems: list, *, spacing: bool = True, laptop: bool = False) -> None:
    found = axe_violations(page)
    if found:
        problems.append((url, "axe", found))
    if spacing:
        close = targets_too_close(page)
        if close:
            problems.append((url, "targets closer than 24 px", close[:5]))
    if laptop:
        wide = overflowing_tables(page)
        if wide:
            problems.append((url, "table wider than its box", wide))


@pytest.mark.parametrize("size", SIZES)
def test_every_coordinator_page(live_server, live_app, field, playwright_browser, tmp_path, size):
    team = seed_team(field, resources=8, workers=3)
    voided, changed = _shape(field, team)
    admin = field.user("admin", name="Ada Admin")
    plan = pages(team, voided, changed)

    covered = set(plan) | DOWNLOADS | SCREENS_ELSEWHERE | {"coordinator.invite.accept"}
    missing = []
    for rule in live_app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint.startswith("coordinator.") and rule.endpoint not in covered:
            if rule.arguments:
                missing.append(rule.rule)
            else:
                plan[rule.endpoint] = [rule.rule]  # a new page without ids is checked as it is
    assert missing == [], f"coordinator pages not in pages(): {missing}"

    context = playwright_browser.new_context(viewport=SIZES[size])
    page = context.new_page()
    problems: list = []
    page.goto(live_server.url + "/login")
    check(page, "/login", problems)
    sign_in(page, live_server.url, team.coordinator)
    laptop = size == "laptop"
    for endpoint, urls in plan.items():
        for url in urls:
            response = page.goto(live_server.url + url)
            expected = 400 if endpoint == "coordinator.bad_input" else 200
            assert response.status == expected, (url, response.status)
            check(page, url, problems, laptop=laptop)
            if laptop:
                page.screenshot(path=str(tmp_path / f"{endpoint}-{len(problems)}.png"), full_page=True)

    # States reached by acting: the review filters open; a new user's invite page, and its link signed out.
    page.goto(live_server.url + "/coordinator/review")
    page.locator("details.filters-box summary").click()
    check(page, "/coordinator/review (filters open)", problems, laptop=laptop)
    page.goto(live_server.url + "/coordinator/users/new")
    page.fill("#name", "Nia New")
    page.fill("#email", f"nia-{size}@example.test")
    page.click("form.form button[type=submit]")
    page.get_by_text("Nia New").first.wait_for()
    check(page, "user invite page", problems, laptop=laptop)
    invite = page.input_value("#link")
    signed_out_context = playwright_browser.new_context(viewport=SIZES[size])
    signed_out = signed_out_context.new_page()
    signed_out.goto(invite)
    check(signed_out, "invite accept page", problems)
    signed_out_context.close()

    # An admin sees more on some pages (every team, the organisation's reminder defaults).
    admin_context = playwright_browser.new_context(viewport=SIZES[size])
    as_admin = admin_context.new_page()
    sign_in(as_admin, live_server.url, admin)
    for url in ("/coordinator/reminder-settings", "/coordinator/users/new", "/coordinator/people/new",
                "/coordinator/reports", f"/coordinator/users/{team.coordinator.uuid}"):
        as_admin.goto(live_server.url + url)
        check(as_admin, f"{url} (admin)", problems, laptop=laptop)
    admin_context.close()
    context.close()
    assert problems == [], "\n".join(json.dumps(p) for p in problems)


@pytest.fixture
def endpoint(live_app):
    cfg = live_app.config["ALONGSIDE"]
    push = PushEndpoint(cfg.extra["VAPID_PUBLIC_KEY"], cfg.VAPID_SUBJECT)
    yield push
    push.close()


@pytest.mark.parametrize("size", SIZES)
def test_every_person_page(live_server, field, playwright_browser, endpoint, size, tmp_path):
    """The person supported's pages: the invite (consent), their reminders page, a refused change, stopped, and
    the calm page a used or wrong link shows."""
    from server.reminders.consent import create_invite

    worker = field.user("peer_worker", name="Sam Worker")
    person = field.person(worker, name="Casey Browser")
    with field.tx():
        token, _ = create_invite(person, worker)
    context = playwright_browser.new_context(viewport=SIZES[size], service_workers="allow")
    context.grant_permissions(["notifications"], origin=live_server.url)
    context.add_init_script(STUB % json.dumps(endpoint.new_subscription()))
    page = context.new_page()
    problems: list = []

    page.goto(f"{live_server.url}/r/{token}")
    assert page.locator("meta[name=mobile-web-app-capable]").get_attribute("content") == "yes"  # not only apple-
    check(page, "invite (consent)", problems)
    page.screenshot(path=str(tmp_path / f"consent-{size}.png"), full_page=True)
    page.click("#turn-on")
    page.wait_for_url(f"{live_server.url}/r/")
    check(page, "reminders home", problems)
    page.screenshot(path=str(tmp_path / f"home-{size}.png"), full_page=True)
    with page.expect_navigation():  # a time the server refuses (the page's own inputs would not allow it)
        page.evaluate("""() => { const start = document.querySelector('#quiet-start');
            start.type = 'text'; start.value = '25:99'; start.form.submit(); }""")
    check(page, "quiet hours refused", problems)
    page.goto(f"{live_server.url}/r/")
    page.click("#stop")
    page.wait_for_url(f"{live_server.url}/r/stop")
    check(page, "stopped", problems)
    page.goto(f"{live_server.url}/r/not-a-real-link")
    check(page, "link unavailable", problems)
    context.close()
    assert problems == [], "\n".join(json.dumps(p) for p in problems)
