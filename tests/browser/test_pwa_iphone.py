"""What an iPhone needs said (issue 18), in Chromium with an iPhone's Safari user agent: Web Push only from the
Home Screen (iOS 16.4 and later), with the other ways to get reminders, in the worker's install prompt and on the
person's reminders page; persistent storage asked for, and said plainly when the browser will not keep the data.
(The same pages run in WebKit itself in test_journeys.py; WebKitGTK cannot pretend to be an iPhone.)"""

from __future__ import annotations

import pytest
from journeys import invite_link
from pwa_steps import open_app, sign_in
from test_pwa_a11y import audit

IPHONE_SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/18.0 Mobile/15E148 Safari/604.1")
# Safari outside a Home Screen app has no Push API at all.
NO_PUSH = "delete window.PushManager;"
# The browser's answer to "keep this site's data?", and how often the app asked.
STORAGE = """(() => {
  const grant = %s;
  let kept = false;
  localStorage.setItem('persistAsked', localStorage.getItem('persistAsked') || '0');
  StorageManager.prototype.persisted = async () => kept;
  StorageManager.prototype.persist = async () => {
    localStorage.setItem('persistAsked', String(Number(localStorage.getItem('persistAsked')) + 1));
    kept = grant;
    return kept;
  };
})();"""


@pytest.fixture
def iphone(playwright_browser):
    context = playwright_browser.new_context(service_workers="allow", viewport={"width": 375, "height": 667},
                                             user_agent=IPHONE_SAFARI)
    yield context
    context.close()


def words(text: str) -> str:
    return " ".join(text.split())


def test_the_install_prompt_says_notifications_need_the_home_screen_and_the_other_ways(live_server, iphone):
    page = iphone.new_page()
    open_app(page, live_server.url)
    notice = page.locator("#ios-banner")
    notice.wait_for()
    said = words(notice.inner_text())
    assert "Add to Home Screen" in said and "7 days" in said
    assert "iOS 16.4 or later" in said and "only work from an app on the Home Screen" in said
    assert "text message" in said and "calendar" in said
    audit(page, "iPhone install prompt")


def test_the_persons_page_on_an_iphone_shows_the_home_screen_steps_and_the_other_ways(live_server, field, iphone):
    worker = field.user()
    person = field.person(worker, "Casey Example")
    iphone.add_init_script(NO_PUSH)
    page = iphone.new_page()
    page.goto(live_server.url + invite_link(field, person, worker))
    guide = page.locator("#ios-guide")
    assert guide.is_visible()
    assert "iOS 16.4 or later" in words(guide.inner_text())
    assert "text message" in words(guide.inner_text()) and "calendar" in words(guide.inner_text())
    page.click("#turn-on")
    status = page.locator("#consent-status")
    status.filter(has_text="Home Screen").wait_for()
    assert "text message" in status.inner_text() and "calendar" in status.inner_text()


@pytest.mark.parametrize("granted", [False, True])
def test_storage_is_asked_for_and_its_state_said(live_server, field, iphone, granted):
    worker = field.user()
    iphone.add_init_script(STORAGE % ("true" if granted else "false"))
    page = iphone.new_page()
    open_app(page, live_server.url)
    page.wait_for_selector("#ios-banner")  # shown once; while it is, it says this and the storage banner waits
    sign_in(page, live_server.url, worker)
    page.wait_for_selector("html[data-storage]", state="attached")
    assert int(page.evaluate("localStorage.getItem('persistAsked')")) >= 1
    if granted:
        assert page.locator("#storage-banner").count() == 0
    else:
        banner = page.locator("#storage-banner")
        assert "Safari may clear Alongside's data after 7 days without use" in banner.inner_text()
        audit(page, "storage banner")
    page.click("#tabs a[data-tab=settings]")
    page.wait_for_selector("h1:text-is('Settings')")
    state = page.inner_text("#storage-state")
    assert ("keeps Alongside's data until you sign out" in state) if granted else ("Safari may clear" in state)
