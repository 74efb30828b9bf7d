"""The phone fixes of issue 15, in Chromium at 360x640: the caseload shows its people as soon as the first pull
has landed after choosing a PIN; the toast sits in the page's flow and covers no control (not the sticky Save,
not Refer); the sign-out refusal sits above the tab bar; 24 px between "Open" and "Forgot your PIN" and between
"Save" and "Lock now"; the page asks to be an installable web app in both the old and the new words."""

from __future__ import annotations

from conftest import go_offline
from pwa_steps import PIN, enter_password, log_visit, open_app, open_person, sign_in

OVERLAPS = """() => {
  const t = document.getElementById('toast').getBoundingClientRect();
  const hit = (r) => r.width && r.height && r.left < t.right && t.left < r.right
    && r.top < t.bottom && t.top < r.bottom;
  return [...document.querySelectorAll('button, a, input, select, textarea, label, [role=alert], .error')]
    .filter((el) => !document.getElementById('toast').contains(el) && hit(el.getBoundingClientRect()))
    .map((el) => el.id || el.textContent.trim().slice(0, 30));
}"""

IN_VIEW = """() => { const t = document.getElementById('toast').getBoundingClientRect();
  return t.top >= document.getElementById('top').getBoundingClientRect().bottom && t.bottom <= innerHeight; }"""


def scroll_and_settle(page, dy: int) -> None:
    """Scroll as a thumb does, then wait until the page has stopped moving (the wheel scrolls after it returns)."""
    page.mouse.wheel(0, dy)
    last = None
    for _ in range(100):
        now = page.evaluate("() => [scrollY, document.scrollingElement.scrollHeight]")
        if now == last:
            return
        last = now
        page.wait_for_timeout(100)
    raise AssertionError("the page kept scrolling")


def test_caseload_shows_people_once_the_first_pull_lands(live_server, field, page):
    worker = field.user()
    field.person(worker, "Alex Example")
    open_app(page, live_server.url)
    enter_password(page, worker)
    page.wait_for_selector("#set-pin-screen")
    page.evaluate("""() => import('/app/js/sync.js').then((s) => s.events.addEventListener('pulled', () => {
        window.__pulledAt = performance.now(); }))""")
    page.fill("input[name=new_pin]", PIN)
    page.fill("input[name=new_pin_again]", PIN)
    page.click("#set-pin")
    page.wait_for_selector("#caseload-list a:has-text('Alex Example')")
    shown_at = page.evaluate("performance.now()")
    pulled_at = page.evaluate("window.__pulledAt")
    delay = shown_at - pulled_at
    print(f"caseload drawn {delay:.0f} ms after the first pull landed")
    assert delay < 2500, delay  # it waited 5 s (a redraw held back by the PIN's key presses) before the fix


def test_toast_covers_no_control_and_sign_out_refusal_is_above_the_tabs(live_server, field, browser_context, page):
    worker = field.user()
    person = field.person(worker, "Alex Example")
    field.resource("Riverside Food Bank", "Food")
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")
    log_visit(page, notes="A walk")
    toast = page.locator("#toast")
    assert toast.inner_text() == "Visit saved on this phone."
    assert page.evaluate("getComputedStyle(document.getElementById('toast')).position") == "static"
    assert page.evaluate(OVERLAPS) == []
    # a toast on a screen with the sticky Refer buttons, scrolled to the bottom
    page.click("#tabs a:text('Resources')")
    page.wait_for_selector("h1:text-is('Resources')")
    assert toast.is_hidden()  # moving on clears the last toast
    scroll_and_settle(page, 2000)
    page.evaluate("() => import('/app/js/ui.js').then((ui) => ui.toast('Choose a person first.'))")
    assert page.evaluate(OVERLAPS) == []
    assert page.evaluate(IN_VIEW)  # brought back into view, below the sticky header
    # a visit form's sticky Save
    open_app(page, live_server.url, f"/app/p/{person.uuid}/visit")
    page.wait_for_selector("h1:text-is('Log a visit')")
    scroll_and_settle(page, 600)
    page.evaluate("() => import('/app/js/ui.js').then((ui) => ui.toast('Something to say'))")
    assert page.evaluate(OVERLAPS) == []
    assert page.evaluate(IN_VIEW)

    go_offline(browser_context)
    open_app(page, live_server.url, f"/app/p/{person.uuid}")
    log_visit(page, notes="Offline")
    page.click("#tabs a:text('Settings')")
    page.click("#sign-out")
    message = page.locator("#sign-out-message")
    message.wait_for()
    box = message.bounding_box()
    tabs = page.locator("#tabs").bounding_box()
    header = page.locator("#top").bounding_box()
    assert box["y"] + box["height"] <= tabs["y"], (box, tabs)
    assert box["y"] >= header["y"] + header["height"], (box, header)
    assert message.inner_text().startswith("You have 1 thing not yet synced.")


def _gap(a, b) -> float:
    """The distance between two boxes, whichever way they are apart."""
    dx = max(b["x"] - (a["x"] + a["width"]), a["x"] - (b["x"] + b["width"]), 0)
    dy = max(b["y"] - (a["y"] + a["height"]), a["y"] - (b["y"] + b["height"]), 0)
    return max(dx, dy)


def test_24_px_between_neighbouring_targets_and_web_app_meta(live_server, field, page):
    worker = field.user()
    sign_in(page, live_server.url, worker)
    page.click("#tabs a:text('Settings')")
    page.wait_for_selector("#lock-now")
    save = page.locator("form:has(#lock-now) button[type=submit]").bounding_box()
    assert _gap(save, page.locator("#lock-now").bounding_box()) >= 24
    page.reload()
    page.wait_for_selector("#unlock-screen")
    assert _gap(page.locator("#unlock").bounding_box(), page.locator("#forgot-pin").bounding_box()) >= 24
    html = page.content()
    assert '<meta name="mobile-web-app-capable" content="yes">' in html
    assert '<meta name="apple-mobile-web-app-capable" content="yes">' in html
