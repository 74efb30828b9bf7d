"""The coordinator's resource pages in Chromium, at phone (360x640) and laptop (1366x768) sizes: axe-core finds
no violation on the list, the add/edit form (structured address, status, weekly opening times) and the
Open Referral UK import page with its per-service report; the form saves what a coordinator types."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import PASSWORD

AXE = (Path(__file__).parent.parent / "vendor/axe-core-4.14.1/axe.min.js").read_text()
EXAMPLE = Path(__file__).parent.parent / "oruk_data/oruk-3.0/examples/service_full.json"
SIZES = {"phone": {"width": 360, "height": 640}, "laptop": {"width": 1366, "height": 768}}


def axe_violations(page) -> list:
    page.evaluate(AXE + "\n;0")
    found = page.evaluate("async () => (await axe.run()).violations.map(v => [v.id, v.nodes.length, "
                          "v.nodes[0].target.join(' ')])")
    return found


@pytest.mark.parametrize("size", SIZES)
def test_resource_pages_are_accessible(live_server, field, playwright_browser, tmp_path, size):
    coordinator = field.user("coordinator", name="Cass Coordinator")
    field.resource()
    context = playwright_browser.new_context(viewport=SIZES[size])
    page = context.new_page()
    page.goto(live_server.url + "/login")
    page.fill("#email", coordinator.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/coordinator/**")

    page.goto(live_server.url + "/coordinator/resources/new")
    assert axe_violations(page) == [], "new resource form"
    page.fill("#name", "Drop-in Cafe")
    page.fill("#address_1", "1 Church Lane")
    page.fill("#city", "Northside")
    page.fill("#postcode", "ns1 2ab")
    page.select_option("#status", "temporarily closed")
    page.fill("#opens_MO", "09:30")
    page.fill("#closes_MO", "16:00")
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/coordinator/resources")
    assert axe_violations(page) == [], "resource list"
    page.goto(live_server.url + "/coordinator/resources?show=archived")  # temporarily closed: not on phones
    page.get_by_role("link", name="Edit Drop-in Cafe").click()
    assert page.input_value("#postcode") == "NS1 2AB" and page.input_value("#opens_MO") == "09:30"
    assert page.input_value("#status") == "temporarily closed"
    assert axe_violations(page) == [], "edit form"
    page.screenshot(path=str(tmp_path / f"resource-form-{size}.png"), full_page=True)

    page.goto(live_server.url + "/coordinator/resources/import")
    page.set_input_files("#file", files=[{"name": "one.json", "mimeType": "application/json",
                                          "buffer": json.dumps(json.loads(EXAMPLE.read_text())).encode()}])
    page.click("form.form button[type=submit]")
    page.get_by_text("Imported 1 new and 0 updated").wait_for()
    assert page.locator("table caption").inner_text() == "What happened to each service"
    assert axe_violations(page) == [], "import report"
    page.screenshot(path=str(tmp_path / f"import-report-{size}.png"), full_page=True)
    context.close()
