"""One description of a journey, two drivers: a `Phone` is the field app in one browser engine, driven with CSS
selectors and small JavaScript functions only, so a journey written once (tests/browser/journeys.py) runs in
Chromium (Playwright) and in WebKit, Safari's engine (WebKitGTK's MiniBrowser through WebKitWebDriver and
Selenium, under a private Xvfb display)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

WEBKIT_DRIVER = os.environ.get("ALONGSIDE_WEBKIT_DRIVER", "/usr/bin/WebKitWebDriver")
MINIBROWSER = os.environ.get("ALONGSIDE_MINIBROWSER", "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser")
# How long a journey step may take before it fails: generous, because a loaded 2-core machine running two
# test workers at once is slow, and a step that passes late is still a pass (time limits belong in bench/).
WAIT = 40
# Into view, then until it stays put for two frames, as Playwright waits before a click: a line added above it
# (a banner, a longer status) would otherwise move it between aiming and clicking, and the click would miss.
STEADY = """const [el, done] = arguments; el.scrollIntoView({ block: 'center' });
  let last = null, tries = 0;
  const check = () => { const r = el.getBoundingClientRect(); const now = [r.top, r.left, r.width, r.height].join();
    if (now === last || ++tries > 20) done();
    else { last = now; requestAnimationFrame(() => requestAnimationFrame(check)); } };
  requestAnimationFrame(check);
  setTimeout(done, 2000);  // frames may not come (a page put away): click anyway"""
WHERE = """() => ({ path: location.pathname, locked: !!document.documentElement.dataset.locked,
  headings: [...document.querySelectorAll('h1')].map((h) => [h.textContent, !!h.closest('[hidden]')]),
  banners: [...document.querySelectorAll('#banners > *')].map((b) => b.id),
  status: document.querySelector('#sync-status')?.textContent, scrollY: window.scrollY })"""


class JourneyTimeout(AssertionError):
    pass


class Phone:
    """What a journey may do. `js` takes the source of a (possibly async) JS function and its arguments."""

    engine = ""

    def __init__(self, base_url: str):
        self.url = base_url

    def open(self, path: str = "/app/") -> None:  # by URL: a navigation, never a Reload
        self.goto(self.url + path)
        self.wait("html[data-ready]")

    def wait_heading(self, text: str, timeout: float = WAIT) -> None:
        self.wait_js("(t) => { const h = document.querySelector('main:not([hidden]) h1, #lock:not([hidden]) h1');"
                     " return !!h && h.textContent === t; }", text, timeout=timeout)

    def wait_text(self, css: str, text: str, timeout: float = WAIT) -> None:
        self.wait_js("([c, t]) => [...document.querySelectorAll(c)].some((e) => e.textContent.includes(t))",
                     [css, text], timeout=timeout)

    def wait_js(self, fn, arg=None, timeout=WAIT):
        """Until `fn` (which may return a promise) gives a true value. Polled from Python in both engines:
        Playwright's wait_for_function takes a returned promise as true at once."""
        end = time.monotonic() + timeout
        while True:
            value = self._probe(fn, arg)
            if value:
                return value
            if time.monotonic() > end:
                raise JourneyTimeout(f"{self.engine}: waited {timeout} s for {fn}; {self._where()}")
            time.sleep(0.05)

    def _probe(self, fn, arg):
        return self.js(fn, arg)

    def _where(self) -> str:
        """What the phone showed when a wait ran out: its path, headings, banners and status line."""
        try:
            return "phone: " + repr(self.js(WHERE))
        except Exception as err:  # the page itself may be what is broken
            return f"phone: not readable ({err})"


class ChromiumPhone(Phone):
    engine = "chromium"

    def __init__(self, base_url, page):
        super().__init__(base_url)
        self.page = page

    def goto(self, url):
        self.page.goto(url)

    def reload(self):
        self.page.reload()
        self.wait("html[data-ready]")

    def back(self):
        self.page.go_back()

    def wait(self, css, timeout=WAIT, state="attached"):
        self.page.wait_for_selector(css, state=state, timeout=timeout * 1000)

    def _probe(self, fn, arg):
        from playwright.sync_api import Error  # noqa: PLC0415

        try:
            return self.js(fn, arg)
        except Error:  # the page is navigating: its context went away mid-check; look again
            return None

    def js(self, fn, arg=None):
        return self.page.evaluate(fn, arg)

    def fill(self, css, text):
        self.page.fill(css, text)

    def click(self, css):
        self.page.click(css)

    def select(self, css, value):
        self.page.select_option(css, value)

    def text(self, css):
        return self.page.inner_text(css)

    def count(self, css):
        return self.page.locator(css).count()


class WebKitPhone(Phone):
    engine = "webkit"

    def __init__(self, base_url, driver):
        super().__init__(base_url)
        self.driver = driver

    def goto(self, url):
        self.driver.get(url)

    def reload(self):
        self.driver.refresh()
        self.wait("html[data-ready]")

    def back(self):
        self.driver.back()

    def wait(self, css, timeout=WAIT, state="attached"):
        check = ("(c) => { const e = document.querySelector(c); return !!e && !e.closest('[hidden]')"
                 " && !e.disabled; }") if state == "visible" else "(c) => !!document.querySelector(c)"
        self.wait_js(check, css, timeout=timeout)

    def js(self, fn, arg=None):
        script = ("const done = arguments[arguments.length - 1];"
                  f"Promise.resolve().then(() => ({fn})(arguments[0]))"
                  ".then((v) => done({ ok: v === undefined ? null : v }),"
                  " (e) => done({ error: String(e && e.stack || e) }));")
        result = self.driver.execute_async_script(script, arg)
        if result is None:
            return None
        if "error" in result:
            raise AssertionError(f"WebKit: {result['error']}")
        return result["ok"]

    def _element(self, css):
        from selenium.webdriver.common.by import By

        self.wait(css, state="visible")
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def fill(self, css, text):
        element = self._element(css)
        element.clear()
        element.send_keys(text)

    def click(self, css):
        """A real click, as Playwright does it: in the middle of the screen (not under the tab bar or a toast),
        tried again for a moment while something else is on top."""
        from selenium.common.exceptions import ElementClickInterceptedException, StaleElementReferenceException

        end = time.monotonic() + 5
        while True:
            element = self._element(css)
            try:  # a redraw may replace the element between finding it and clicking it: find it again
                self.driver.execute_async_script(STEADY, element)
                element.click()
                return
            except (ElementClickInterceptedException, StaleElementReferenceException):
                if time.monotonic() > end:
                    raise
                time.sleep(0.1)

    def select(self, css, value):
        self.wait(css, state="visible")
        self.js("([c, v]) => { const s = document.querySelector(c); s.value = v;"
                " s.dispatchEvent(new Event('change', { bubbles: true })); }", [css, value])

    def text(self, css):
        self.wait(css)
        return self.js("(c) => document.querySelector(c).innerText", css)

    def count(self, css):
        return self.js("(c) => document.querySelectorAll(c).length", css)


class WebKitSession:
    """A private Xvfb display for the whole run, and a fresh MiniBrowser (its own storage) for each phone."""

    def __init__(self):
        self.xvfb = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        display = self.xvfb.stdout.readline().decode().strip()
        if not display:
            raise RuntimeError("Xvfb did not start")
        self.env = dict(os.environ, DISPLAY=f":{display}")

    def new_driver(self):
        from selenium import webdriver
        from selenium.webdriver.webkitgtk.service import Service

        options = webdriver.WebKitGTKOptions()
        options.binary_location = MINIBROWSER
        options.add_argument("--automation")
        driver = webdriver.WebKitGTK(options=options, service=Service(executable_path=WEBKIT_DRIVER, env=self.env))
        driver.set_script_timeout(60)
        driver.set_window_size(360, 640)  # MiniBrowser's toolbar keeps it a little wider
        return driver

    def close(self):
        self.xvfb.terminate()
        self.xvfb.wait(timeout=10)


def webkit_missing() -> str | None:
    for path in (WEBKIT_DRIVER, MINIBROWSER):
        if not os.path.exists(path):
            return f"{path} is missing (apt-get install webkit2gtk-driver)"
    if not shutil.which("Xvfb"):
        return "Xvfb is missing (apt-get install xvfb)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (requirements-dev.txt)"
    return None

