"""Steps shared by the field-app browser tests: sign in, wait for sync, fill the forms like a worker."""

from __future__ import annotations

from helpers import PASSWORD

SYNC_NOW = "() => import('/app/js/sync.js').then((m) => m.syncNow({ manual: true }))"
PIN = "calm river 42"


def unlock_if_locked(page, pin=PIN):
    if page.locator("#unlock-screen").count():
        unlock(page, pin)


def unlock(page, pin=PIN):
    """The lock screen (after reopening, idle or a reload): enter the PIN."""
    page.wait_for_selector("#unlock-screen")
    page.fill("input[name=pin]", pin)
    page.click("#unlock")
    page.wait_for_selector("html:not([data-locked])", state="attached", timeout=15000)


def set_pin(page, pin=PIN):
    """The PIN set after sign-in (first time, or after a forgotten PIN)."""
    page.wait_for_selector("#set-pin-screen")
    page.fill("input[name=new_pin]", pin)
    page.fill("input[name=new_pin_again]", pin)
    page.click("#set-pin")
    page.wait_for_selector("html:not([data-locked])", state="attached", timeout=15000)


def open_app(page, url, path="/app/", pin=PIN):
    """Open (or reopen) the app; a signed-in phone opens locked, so unlock it."""
    page.goto(url + path)
    page.wait_for_selector("html[data-ready]")
    unlock_if_locked(page, pin)


def reload(page, pin=PIN):
    page.reload()
    page.wait_for_selector("html[data-ready]")
    unlock_if_locked(page, pin)


def enter_password(page, user):
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")


def sign_in(page, url, user, pin=PIN):
    open_app(page, url)
    enter_password(page, user)
    set_pin(page, pin)
    page.wait_for_selector("h1:text-is('Caseload')")
    wait_synced(page)
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)


def wait_synced(page, timeout=15000):
    """Nothing left in the outbox and a sync has completed."""
    page.wait_for_function(
        """() => { const c = document.querySelector('#unsynced-count');
                   const l = document.querySelector('#last-sync');
                   return c && c.dataset.count === '0' && l && l.textContent.startsWith('Last sync')
                          && document.documentElement.dataset.sync === 'idle'; }""",
        timeout=timeout,
    )


def wait_idle(page, timeout=15000):
    """The app's sync has started and is not running now (whatever the outcome)."""
    page.wait_for_selector("html[data-sync=idle]", state="attached", timeout=timeout)


def sync_now(page):
    page.evaluate(SYNC_NOW)


def unsynced(page) -> int:
    return int(page.get_attribute("#unsynced-count", "data-count"))


def open_person(page, name):
    page.click(f"#caseload-list a:has-text('{name}')")
    page.wait_for_selector(f"h1:text-is('{name}')")


def add_goal(page, title, area="Home"):
    page.click("a:text-is('New goal')")
    page.fill("textarea[name=title]", title)
    page.select_option("select[name=life_area]", area)
    page.fill("textarea[name=steps]", "Call the council\nVisit the flat")
    page.click("#save-goal")
    page.wait_for_selector(f"#goals :text('{title}')")


def rate(page, goal_title, rating):
    """Tap a goal's rating chip (one tap: the chips are radio buttons in a group named by the goal)."""
    page.get_by_role("group", name=goal_title, exact=True).locator(f"label.chip:has(input[value='{rating}'])").click()


def log_visit(page, ratings=None, notes="Went for a walk.", concern=None):
    page.click("#log-visit")
    page.wait_for_selector("h1:text-is('Log a visit')")
    for goal_title, rating in (ratings or {}).items():
        rate(page, goal_title, rating)
    page.fill("textarea[name=notes]", notes)
    if concern:
        page.check(f"input[name=concern][value={concern}]")
        page.fill("textarea[name=concern_notes]", "Worried about money")
    page.click("#save-visit")
    page.wait_for_selector("#visits")


def refer(page, person_name, resource_name):
    page.click("a:text-is('Refer')")
    page.wait_for_selector("h1:text-is('Resources')")
    page.fill("input[name=q]", resource_name.split()[0])
    page.click(f"#resource-list li:has-text('{resource_name}') button")
    page.wait_for_selector("h1:text-is('Refer')")
    page.fill("textarea[name=notes]", "Needs food this week")
    page.click("#save-referral")
    page.wait_for_selector(f"#referrals :text('{resource_name}')")
