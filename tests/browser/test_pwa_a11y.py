"""The field app's screens against WCAG 2.2 AA basics, at 360x640: every control labelled, touch targets at
least 44 px, text contrast at least 4.5:1 (3:1 for large text), one h1, visible keyboard focus, and no
Content-Security-Policy violation anywhere (no inline script or style sneaks in)."""

from __future__ import annotations

from pwa_steps import add_goal, enter_password, log_visit, open_app, open_person, set_pin, wait_synced

AUDIT = """() => {
  const problems = [];
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0
    && getComputedStyle(el).visibility !== 'hidden'; };
  const name = (el) => (el.id ? '#' + el.id : el.tagName.toLowerCase()) + ' '
    + (el.textContent || el.name || '').trim().slice(0, 30);
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden' || !visible(el) && el.type !== 'radio' && el.type !== 'checkbox') continue;
    if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label')) problems.push('unlabelled ' + name(el));
  }
  const targets = [...document.querySelectorAll('button, a.btn, .tabs a, a.row, select, textarea, '
    + 'input:not([type=radio]):not([type=checkbox]), label.radio, label.check')].filter(visible);
  for (const el of targets) {
    const r = el.getBoundingClientRect();
    if (r.height < 44 || r.width < 44) {
      problems.push(`small target ${Math.round(r.width)}x${Math.round(r.height)} ${name(el)}`);
    }
  }
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || c[3] > 0.5) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  for (const el of document.querySelectorAll('body *')) {
    if (!visible(el) || !['SCRIPT', 'STYLE', 'METER', 'OPTION'].every((t) => el.tagName !== t)) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const s = getComputedStyle(el);
    const fg = lum(rgb(s.color).slice(0, 3)), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const size = parseFloat(s.fontSize), bold = parseInt(s.fontWeight, 10) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) problems.push(`contrast ${ratio.toFixed(2)} ${name(el)}`);
  }
  if (document.querySelectorAll('main h1').length !== 1) problems.push('not exactly one h1');
  if (!document.documentElement.lang) problems.push('no lang');
  if (document.querySelector('[style]')) problems.push('inline style attribute');
  return problems;
}"""


def audit(page, where):
    problems = page.evaluate(AUDIT)
    assert problems == [], f"{where}: {problems}"


def test_screens_meet_wcag_basics(live_server, field, page):
    worker = field.user()
    person = field.person(worker, "Alex Example")
    resource = field.resource("Riverside Food Bank", "Food")
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)

    page.goto(live_server.url + "/app/")
    page.wait_for_selector("html[data-ready]")
    audit(page, "sign in")
    page.keyboard.press("Tab")  # the skip link, then the first field: focus must be visible
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), outline

    enter_password(page, worker)
    page.wait_for_selector("#set-pin-screen")
    audit(page, "choose a PIN")
    set_pin(page)
    page.wait_for_selector("h1:text-is('Caseload')")
    audit(page, "caseload")
    open_person(page, "Alex Example")
    add_goal(page, "Feel calmer at night")
    log_visit(page, ratings={"Feel calmer at night": 4}, concern="low")
    wait_synced(page)
    audit(page, "person")
    screens = [
        (f"/app/p/{person.uuid}/visit", "Log a visit"),
        (f"/app/p/{person.uuid}/goal", "New goal"),
        (f"/app/resources?person={person.uuid}", "Resources"),
        (f"/app/p/{person.uuid}/refer/{resource.uuid}", "Refer"),
        ("/app/diary", "Diary"),
        ("/app/sync", "Sync"),
        ("/app/settings", "Settings"),
    ]
    for path, heading in screens:
        open_app(page, live_server.url, path)
        page.wait_for_selector(f"h1:text-is('{heading}')")
        audit(page, heading)
    open_app(page, live_server.url, "/app/diary")
    page.wait_for_selector("main a.row:has-text('Alex Example')")  # the next visit set in the visit form
    page.reload()
    page.wait_for_selector("#unlock-screen")
    audit(page, "unlock")
    page.fill("input[name=pin]", "wrong pin")
    page.click("#unlock")
    page.wait_for_selector("#unlock-error:has-text('not right')")
    audit(page, "unlock, wrong PIN")
    assert violations == []
