"""The routine visit (issue 15) at 360x640 in Chromium: defaults kept, the length changed, one goal rated and a short
note, in at most 6 taps plus typing the note, with everything it needs on at most two screens; the less common
fields are folded under "More details", whose summary says what they hold, and the remembered defaults are kept."""

from __future__ import annotations

from pwa_steps import add_goal, log_visit, open_person, sign_in, wait_synced

from server.models import GoalProgress, Visit

COUNT_TAPS = """() => { window.__taps = 0;
  document.addEventListener('pointerdown', (e) => { if (e.isTrusted) window.__taps += 1; }, true); }"""


def test_routine_visit_in_six_taps_on_two_screens(live_server, field, page, tmp_path):
    worker = field.user()
    person = field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")
    add_goal(page, "Sleep through the night")
    add_goal(page, "Cook a meal each week")
    wait_synced(page)
    if page.locator("#banners button:text-is('Got it')").count():  # the one-off storage notice, dismissed once
        page.click("#banners button:text-is('Got it')")

    page.evaluate(COUNT_TAPS)
    page.click("#log-visit")  # 1
    page.wait_for_selector("h1:text-is('Log a visit')")
    form_height = page.evaluate("""() => {
        const more = document.querySelector('#more-details');
        return Math.round(more.getBoundingClientRect().bottom + window.scrollY); }""")
    page.screenshot(path=str(tmp_path / "visit-form-1.png"))
    page.screenshot(path=str(tmp_path / "visit-form-full.png"), full_page=True)
    page.click("#duration label.chip:has(input[value='30'])")  # 2
    page.get_by_role("group", name="Sleep through the night", exact=True).locator(
        "label.chip:has(input[value='7'])").click()  # 3
    page.click("textarea[name=notes]")  # 4
    page.keyboard.type("Walked to the park.")
    page.mouse.wheel(0, 640)
    page.screenshot(path=str(tmp_path / "visit-form-2.png"))
    page.click("#save-visit")  # 5
    page.wait_for_selector("h1:text-is('Alex Example')")
    taps = page.evaluate("window.__taps")
    assert taps <= 6, taps
    assert form_height <= 2 * 640, form_height  # the routine part, "More details" folded, on two screens
    wait_synced(page)

    def saved():
        v = Visit.get(Visit.person == person.id)
        return (v.duration_minutes, v.mode, v.location_type, v.attendance, v.notes,
                [(p.rating, p.rated_by) for p in GoalProgress.select()])

    assert field.read(saved) == (30, "01", "A01", "5", "Walked to the park.", [(7, "person")])

    # The next visit form remembers the length; "More details" says what it holds, and opens to change it.
    page.click("#log-visit")
    page.wait_for_selector("h1:text-is('Log a visit')")
    assert page.locator("#duration input:checked").get_attribute("value") == "30"
    summary = page.locator("#more-details summary").inner_text()
    assert "Face to face" in summary and "Person's home" in summary and "Attended" in summary
    page.click("#more-details summary")
    page.click("label.radio:has-text('Telephone')")
    assert "Telephone" in page.locator("#more-details summary").inner_text()
    page.screenshot(path=str(tmp_path / "visit-form-more.png"), full_page=True)
    page.click("#save-visit")
    page.wait_for_selector("h1:text-is('Alex Example')")
    page.click("#log-visit")
    page.wait_for_selector("h1:text-is('Log a visit')")
    assert "Telephone" in page.locator("#more-details summary").inner_text()
    print("routine visit taps:", taps, "form height to More details:", form_height)


def test_a_tap_anywhere_on_a_visit_card_opens_the_visit(live_server, field, page, tmp_path):
    """Not only its date: a thumb on the card's edge, or a card moved a line down by the status above it just as the
    worker taps (a longer "Can't reach Alongside" status), still opens the visit."""
    worker = field.user()
    field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    open_person(page, "Alex Example")
    log_visit(page, notes="Walked to the park.")
    card = page.locator("#visits li.card").first
    card.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "visit-card.png"))  # looks as before: the link's cover is invisible
    box = card.bounding_box()
    title = card.locator("a.title").bounding_box()
    x, y = box["x"] + box["width"] - 12, box["y"] + box["height"] - 8  # far from the title
    assert y > title["y"] + title["height"] or x > title["x"] + title["width"]
    page.mouse.click(x, y)
    page.wait_for_selector("h1:text-is('Visit')")
    assert page.input_value("textarea[name=notes]") == "Walked to the park."
