"""The browser harness itself: Chromium reaches the live server and renders the sign-in page."""


def test_sign_in_page_renders_in_chromium(live_server, page):
    page.goto(live_server.url + "/login")
    assert page.locator("h1").inner_text() == "Sign in"
    assert page.get_attribute("input#email", "type") == "email"
