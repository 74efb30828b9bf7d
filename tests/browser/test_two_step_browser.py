"""Two-step sign-in in Chromium, as a coordinator meets it: the first sign-in sets up an authenticator (QR code and
key, the first code, ten recovery codes), later sign-ins ask for a code, a wrong code is said plainly, a recovery
code works once, and the account page moves it to a new phone. At laptop (1366x768) and phone (360x640) sizes,
axe-core finds nothing and nothing scrolls sideways. Screenshots go to the test's tmp_path."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pyotp
import pytest
from coordinator_pages import targets_too_close
from helpers import PASSWORD, TEST_SECRET

AXE = (Path(__file__).parent.parent / "vendor/axe-core-4.14.1/axe.min.js").read_text()
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 360, "height": 640}


@pytest.fixture
def live_app(tmp_path, sqlite_template):
    """The live server with the second step required, as in production (the other browser tests turn it off)."""
    from server import create_app

    db_path = tmp_path / "live.db"
    shutil.copy(sqlite_template, db_path)
    return create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{db_path}", "INSTANCE_PATH": str(tmp_path / "i"),
                       "SECRET_KEY": TEST_SECRET, "AUTO_MIGRATE": False, "TOTP_REQUIRED": True})


def code(secret: str, steps_ahead: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(dt.datetime.now(dt.UTC)) + steps_ahead)


def check_screen(page, where: str, shots: Path) -> None:
    page.evaluate(AXE + "\n;0")
    violations = page.evaluate("async () => (await axe.run(document, {rules: {'target-size': {enabled: true}}}))"
                               ".violations.map(v => [v.id, v.nodes.length, "
                               "v.nodes.map(n => n.target.join(' ')).slice(0, 3)])")
    assert violations == [], f"{where}: {violations}"
    assert targets_too_close(page) == [], f"{where}: targets closer than 24 px"  # issue 15
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), f"{where} scrolls sideways"
    for el in page.query_selector_all("main button, main input:not([type=hidden]), main a.button"):
        box = el.bounding_box()
        assert box and box["height"] >= 44, f"{where}: small target {el.evaluate('e => e.outerHTML')[:80]}"
    page.screenshot(path=str(shots / f"{where}.png"), full_page=True)


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_a_coordinator_sets_up_and_uses_two_step_sign_in(playwright_browser, live_server, field, tmp_path, viewport):
    coordinator = field.user("coordinator", name="Cass Coordinator")
    context = playwright_browser.new_context(viewport=viewport)
    page = context.new_page()
    errors: list[str] = []
    # script errors and CSP refusals (a wrong code's 401 is the page working, not an error)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    base = live_server.url

    sign_in(page, base, coordinator.email)
    page.wait_for_url("**/login/setup")
    assert page.get_by_role("heading", level=1).inner_text() == "Set up two-step sign-in"
    assert page.get_by_role("img", name="QR code for your authenticator app").is_visible()
    check_screen(page, "setup", tmp_path)
    secret = page.locator("#setup-key").inner_text().replace(" ", "")
    page.get_by_label("Code from the app").fill("000000")
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    assert "did not work" in page.get_by_role("alert").inner_text()
    page.get_by_label("Code from the app").fill(code(secret))
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    page.get_by_role("heading", name="Your recovery codes").wait_for()
    recovery = page.locator(".recovery-codes code").all_inner_texts()
    assert len(recovery) == 10 and all(re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", c) for c in recovery)
    check_screen(page, "recovery-codes", tmp_path)
    page.get_by_role("link", name="I have kept them safe, continue").click()
    page.wait_for_url("**/coordinator/")

    # signed out and back in: the code is step 2; a wrong one is said plainly
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, base, coordinator.email)
    page.wait_for_url("**/login/code")
    check_screen(page, "code", tmp_path)
    page.get_by_label("Code", exact=True).fill("123456")
    page.get_by_role("button", name="Continue").click()
    assert "did not work" in page.get_by_role("alert").inner_text()
    page.get_by_label("Code", exact=True).fill(code(secret, 1))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/coordinator/")

    # a lost phone: a recovery code signs in once, and the account page moves the authenticator
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, base, coordinator.email)
    page.get_by_label("Code", exact=True).fill(recovery[0])
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="You signed in with a recovery code").wait_for()
    assert "9 recovery codes left" in page.locator("main").inner_text()
    page.get_by_role("link", name="Set up my new phone").click()
    page.wait_for_url("**/account/two-step")
    check_screen(page, "account", tmp_path)
    page.locator("#move-password").fill(PASSWORD)
    page.locator("#move-code").fill(recovery[1])
    page.get_by_role("button", name="Set up a new phone").click()
    page.wait_for_url("**/account/two-step/setup")
    check_screen(page, "account-setup", tmp_path)
    new_secret = page.locator("#setup-key").inner_text().replace(" ", "")
    assert new_secret != secret
    page.get_by_label("Code from the app").fill(code(new_secret))
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    page.get_by_role("heading", name="Your recovery codes").wait_for()
    assert not errors, errors
    context.close()


def test_the_field_app_asks_for_the_code_when_an_account_has_two_step_sign_in(playwright_browser, live_server,
                                                                              live_app, field, tmp_path):
    """The field app (360x640) signs in an account with an authenticator: the password alone brings a code field
    with the server's words, a wrong code is said plainly, the right one signs in. A coordinator who has not set
    up two-step sign-in is told to do so on a computer first, not that the password is wrong."""
    from server import totp
    from server.models import User

    worker = field.user(name="Sam Worker")
    newcomer = field.user("coordinator", name="Cass Coordinator")
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    with live_app.app_context(), field.tx():  # sealing needs the app's key
        User.update(totp_secret=totp.seal(worker, secret), totp_enabled_at=User.created_at).where(
            User.id == worker.id).execute()
    context = playwright_browser.new_context(viewport=PHONE, service_workers="allow")
    page = context.new_page()

    def password_step(email: str) -> None:
        page.goto(live_server.url + "/app/")
        page.wait_for_selector("html[data-ready]")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.click("form button[type=submit]")

    password_step(newcomer.email)
    page.wait_for_selector("#signin-error:has-text('Sign in once at /login on a computer')")
    assert page.locator("input[name=one_time_code]").is_hidden()

    password_step(worker.email)
    page.wait_for_selector("#signin-error:has-text('Enter the 6-digit code from your authenticator app')")
    assert page.locator("input[name=one_time_code]").is_visible()
    assert page.evaluate("document.activeElement.name") == "one_time_code"
    check_screen(page, "field-app-code", tmp_path)
    page.fill("input[name=email]", newcomer.email)  # another account: its own answer decides, not this one's
    assert page.locator("input[name=one_time_code]").is_hidden()
    page.fill("input[name=email]", worker.email)
    page.click("form button[type=submit]")
    page.wait_for_selector("input[name=one_time_code]", state="visible")
    page.click("form button[type=submit]")  # no code yet: asked for, nothing sent
    assert page.inner_text("#signin-error") == "Enter the code from your authenticator app."
    page.get_by_label("Code from your authenticator app").fill("000000")
    page.click("form button[type=submit]")
    page.wait_for_selector("#signin-error:has-text('That code did not work')")
    assert page.input_value("input[name=one_time_code]") == ""
    page.get_by_label("Code from your authenticator app").fill(code(secret))
    page.click("form button[type=submit]")
    page.wait_for_selector("#set-pin-screen")  # signed in: the phone's own PIN comes next
    context.close()
