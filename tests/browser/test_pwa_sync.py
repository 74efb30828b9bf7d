"""The field app's sync client against the real sync API, in a real Chromium: lost acknowledgements,
rejected mutations, an expired session, reassignment and two phones editing the same goal."""

from __future__ import annotations

from conftest import go_offline, go_online
from pwa_steps import (
    SYNC_NOW,
    add_goal,
    log_visit,
    open_app,
    open_person,
    sign_in,
    sync_now,
    unsynced,
    wait_idle,
    wait_synced,
)

from server.models import AppliedMutation, Conflict, Goal, UserSession, Visit


def test_lost_acknowledgement_creates_no_duplicate(live_server, field, browser_context, page):
    worker = field.user()
    person = field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")

    dropped = []

    def commit_then_drop(route):
        route.fetch()  # the server receives and commits the batch ...
        dropped.append(True)
        route.abort("connectionreset")  # ... but the phone never hears back

    browser_context.route("**/api/v1/sync/push", commit_then_drop)
    log_visit(page, notes="Coffee at the library")
    page.wait_for_function("() => document.querySelector('#last-sync') !== null")
    page.wait_for_timeout(300)
    assert dropped
    assert field.read(lambda: Visit.select().where(Visit.person == person.id).count()) == 1
    assert unsynced(page) == 1  # no answer, so not reported as sent

    browser_context.unroute("**/api/v1/sync/push")
    sync_now(page)
    wait_synced(page)
    assert field.read(lambda: Visit.select().where(Visit.person == person.id).count()) == 1
    assert field.read(lambda: AppliedMutation.select().count()) == 1


def test_a_timeout_is_never_reported_as_success(live_server, field, browser_context, page):
    worker = field.user()
    person = field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")
    page.evaluate("import('/app/js/api.js').then((api) => api.setDefaultTimeout(400))")
    held = []

    def answer_too_late(route):
        response = route.fetch()  # committed on the server ...
        held.append(response.status)
        page.wait_for_timeout(800)  # ... but the answer arrives after the phone gave up
        try:
            route.fulfill(response=response)
        except Exception:  # noqa: BLE001 - the request was already aborted by the page
            pass

    browser_context.route("**/api/v1/sync/push", answer_too_late)
    log_visit(page, notes="Slow signal at the bus stop")
    page.wait_for_function("() => document.querySelector('#last-sync').textContent !== 'Syncing…'")
    page.wait_for_timeout(900)
    assert held and set(held) == {200}  # every try reached the server and timed out on the phone
    assert unsynced(page) == 1
    assert page.locator("#visits .badge").first.inner_text() == "Not sent yet"

    browser_context.unroute("**/api/v1/sync/push")
    sync_now(page)
    wait_synced(page)
    assert field.read(lambda: Visit.select().where(Visit.person == person.id).count()) == 1


def test_a_rejected_mutation_shows_its_reason_and_stays_editable(live_server, field, browser_context, page):
    worker = field.user()
    person = field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")

    go_offline(browser_context)
    add_goal(page, "Cook a meal with friends")
    page.click("a:text-is('New goal')")
    page.wait_for_selector("textarea[name=title]")
    # A title longer than the server allows (the form's maxlength stops typing, not a pasted value), saved by a
    # phone that has not fetched the server's field rules yet (with them, rules.js refuses it before saving).
    page.evaluate("() => import('/app/js/rules.js').then((m) => m.setRules(null))")
    page.eval_on_selector("textarea[name=title]",
                          "(el) => { el.removeAttribute('maxlength'); el.value = 'x'.repeat(301); }")
    page.click("#save-goal")
    page.wait_for_selector("#goals")
    go_online(browser_context)
    sync_now(page)
    page.wait_for_function("() => document.querySelector('#unsynced-count').dataset.count === '1'")

    titles = field.read(lambda: [g.title for g in Goal.select().where(Goal.person == person.id)])
    assert titles == ["Cook a meal with friends"]
    page.click("#unsynced-count")
    page.wait_for_selector("h1:text-is('Sync')")
    problem = page.locator("[data-rejected]")
    assert "title" in problem.inner_text().lower()
    problem.locator("button:text('Try again')").click()  # sent again as it is: refused again, still kept
    sync_now(page)
    page.wait_for_function("() => document.querySelector('#unsynced-count').dataset.count === '1'")
    assert field.read(lambda: AppliedMutation.select().where(AppliedMutation.status == "rejected").count()) == 2
    page.click("#tabs a:text('Sync')")
    page.wait_for_selector("[data-rejected]")
    problem.locator("a:text('Correct it')").click()
    page.wait_for_selector("h1:text-is('Goal')")
    assert page.locator("[role=alert]:has-text('did not accept')").is_visible()
    page.fill("textarea[name=title]", "Walk to the park every morning")
    page.click("#save-goal")
    page.wait_for_selector("h1:text-is('Alex Example')")
    wait_synced(page)
    titles = field.read(lambda: sorted(g.title for g in Goal.select().where(Goal.person == person.id)))
    assert titles == ["Cook a meal with friends", "Walk to the park every morning"]


def test_expired_session_keeps_the_outbox_and_flushes_after_signing_in(live_server, field, browser_context, page):
    worker = field.user()
    person = field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")

    go_offline(browser_context)
    log_visit(page, notes="Talked about the allotment")
    with field.tx():
        from server.db import utcnow

        UserSession.update(revoked_at=utcnow()).where(UserSession.user == worker.id).execute()
    go_online(browser_context)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_selector("#signin-banner")
    assert unsynced(page) == 1
    assert field.read(lambda: Visit.select().count()) == 0

    page.click("#signin-banner button")
    page.wait_for_selector("h1:text-is('Sign in again')")
    assert page.input_value("input[name=email]") == worker.email
    from helpers import PASSWORD

    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    wait_synced(page)
    assert field.read(lambda: Visit.select().where(Visit.person == person.id).count()) == 1


def test_a_person_moved_to_another_worker_is_purged_from_the_phone(live_server, field, page):
    worker = field.user()
    other = field.user(name="Other Worker")
    person = field.person(worker, "Alex Example")
    field.person(worker, "Bo Stays")
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")
    log_visit(page, notes="First visit")
    wait_synced(page)
    open_app(page, live_server.url, "/app/")
    page.wait_for_selector("#caseload-list :text('Alex Example')")

    with field.tx():
        person.reassign(other)
    page.evaluate(SYNC_NOW)
    page.wait_for_function("() => !document.querySelector('#caseload-list').textContent.includes('Alex Example')")
    assert "Bo Stays" in page.locator("#caseload-list").inner_text()
    left = page.evaluate("""async () => {
        const db = await import('/app/js/db.js');
        return [(await db.all('person')).length, (await db.all('visit')).length];
    }""")
    assert left == [1, 0]
    open_app(page, live_server.url, f"/app/p/{person.uuid}")
    page.wait_for_selector("h1:text-is('Not on your caseload')")


def test_two_phones_edit_the_same_goal_the_conflict_shows_and_restore_works(
        live_server, field, playwright_browser):
    worker = field.user()
    field.person(worker, "Alex Example")
    phones = [playwright_browser.new_context(service_workers="allow", viewport={"width": 360, "height": 640})
              for _ in range(2)]
    a, b = (context.new_page() for context in phones)
    try:
        sign_in(a, live_server.url, worker)
        open_person(a, "Alex Example")
        add_goal(a, "Swim once a week")
        wait_synced(a)
        sign_in(b, live_server.url, worker)
        open_person(b, "Alex Example")

        go_offline(phones[0])
        a.click("#goals a:text('Swim once a week')")
        a.fill("textarea[name=title]", "Swim twice a week")
        a.click("#save-goal")
        a.wait_for_selector("#goals")

        b.click("#goals a:text('Swim once a week')")
        b.fill("textarea[name=title]", "Swim at the lido")
        b.click("#save-goal")
        b.wait_for_selector("#goals")
        wait_synced(b)

        go_online(phones[0])
        sync_now(a)
        wait_synced(a)
        goal = field.read(lambda: Goal.get(Goal.title.startswith("Swim")))
        assert goal.title == "Swim twice a week"  # the later arrival wins ...
        conflicts = field.read(lambda: list(Conflict.select()))
        assert len(conflicts) == 1  # ... and the overwritten value is kept

        sync_now(b)  # the other phone sees it too
        open_app(b, live_server.url, "/app/conflicts")
        b.wait_for_selector("[data-conflict]")
        assert "Swim at the lido" in b.locator("[data-conflict]").inner_text()
        b.click("[data-conflict] button:text('Restore replaced value')")  # one tap
        b.wait_for_selector("[data-conflict]", state="detached")
        sync_now(b)
        wait_synced(b)
        assert field.read(lambda: Conflict.get_by_id(conflicts[0].id).resolution) == "restored"
        assert field.read(lambda: Goal.get_by_id(goal.id).title) == "Swim at the lido"
    finally:
        for context in phones:
            context.close()


def test_an_oversized_batch_is_halved_until_it_fits(live_server, field, browser_context, page):
    worker = field.user()
    person = field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")
    go_offline(browser_context)
    for n in range(5):
        add_goal(page, f"Small step number {n}")

    sizes = []

    def too_large_over_two(route):
        count = len(route.request.post_data_json["mutations"])
        sizes.append(count)
        if count > 2:
            route.fulfill(status=413, content_type="application/json",
                          body='{"code": "batch_too_large", "message": "Too large", "errors": {}}')
        else:
            route.continue_()

    browser_context.route("**/api/v1/sync/push", too_large_over_two)
    go_online(browser_context)
    sync_now(page)
    wait_synced(page)
    assert sizes[:3] == [5, 2, 2] and max(sizes[1:]) <= 2
    assert field.read(lambda: Goal.select().where(Goal.person == person.id).count()) == 5


def test_a_revoked_device_wipes_its_local_data(live_server, field, page):
    from server.db import utcnow
    from server.models import Device

    worker = field.user()
    field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    with field.tx():
        Device.update(revoked_at=utcnow()).where(Device.user == worker.id).execute()
    sync_now(page)
    page.wait_for_selector("h1:text-is('Sign in')")
    assert "removed from Alongside" in page.locator("#toast").inner_text()
    left = page.evaluate("""async () => {
        const db = await import('/app/js/db.js');
        return [(await db.all('person')).length, await db.getMeta('device_id'), await db.getMeta('user')];
    }""")
    assert left == [0, None, None]


def test_sign_out_refuses_to_discard_unsynced_work(live_server, field, browser_context, page):
    worker = field.user()
    person = field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")
    go_offline(browser_context)
    log_visit(page, notes="Offline visit")
    page.click("#tabs a:text('Settings')")
    page.click("#sign-out")
    page.wait_for_selector("#settings-message:has-text('not yet synced')")
    assert page.locator("h1").inner_text() == "Settings"

    go_online(browser_context)
    sync_now(page)
    wait_synced(page)
    page.click("#sign-out")
    page.wait_for_selector("h1:text-is('Sign in')")
    assert field.read(lambda: Visit.select().where(Visit.person == person.id).count()) == 1
    assert page.evaluate("import('/app/js/db.js').then(async (db) => (await db.all('visit')).length)") == 0


def test_a_rejected_item_can_be_removed_from_the_phone_and_the_server_keeps_it(live_server, field, page):
    import json

    worker = field.user()
    person = field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    page.evaluate("""async (personId) => {
        const db = await import('/app/js/db.js');
        await db.edit([{ entity: 'goal', id: db.uuid(), isNew: true,
                         fields: { person_id: personId, title: '', life_area: 'Home', status: 'active' } }]);
    }""", str(person.uuid))
    sync_now(page)
    open_app(page, live_server.url, "/app/sync")
    wait_idle(page)
    remove = page.locator("[data-rejected] button:text('Remove from phone')")
    remove.click()
    page.click("[data-rejected] button:text('Tap again to remove')")
    page.wait_for_selector("[data-rejected]", state="detached")
    page.wait_for_selector("#unsynced-count[data-count='0']")
    assert page.evaluate("import('/app/js/db.js').then(async (db) => (await db.all('goal')).length)") == 0
    kept = field.read(lambda: AppliedMutation.get(AppliedMutation.status == "rejected"))
    assert json.loads(kept.result)["fields"]["life_area"] == "Home"


def test_background_sync_event_makes_the_open_app_flush(live_server, field, browser_context, page):
    worker = field.user()
    person = field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")
    browser_context.route("**/api/v1/sync/push", lambda route: route.abort("internetdisconnected"))
    log_visit(page, notes="Saved while the network was failing")
    page.wait_for_timeout(300)  # the failed push puts the client into backoff
    browser_context.unroute("**/api/v1/sync/push")
    pushes = []
    page.on("request", lambda r: pushes.append(r.url) if r.url.endswith("/sync/push") else None)

    cdp = browser_context.new_cdp_session(page)
    registrations = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
    cdp.send("ServiceWorker.enable")
    for _ in range(20):
        if registrations:
            break
        page.wait_for_timeout(50)
    reg = next(r for r in registrations if r["scopeURL"].endswith("/app/"))
    assert pushes == []  # still backing off
    cdp.send("ServiceWorker.dispatchSyncEvent", {"origin": live_server.url, "registrationId": reg["registrationId"],
                                                 "tag": "alongside-outbox", "lastChance": False})
    wait_synced(page, timeout=1200)  # well inside the backoff: the sync event did it
    assert pushes
    assert field.read(lambda: Visit.select().where(Visit.person == person.id).count()) == 1
