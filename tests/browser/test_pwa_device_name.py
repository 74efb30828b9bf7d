"""A name given to the phone in Settings reaches the server (the coordinators' device list) with the next
sync, also when it was changed offline; a refused name never stands in the way of the records."""

from __future__ import annotations

import time

from conftest import go_offline, go_online
from pwa_steps import log_visit, open_person, sign_in, sync_now, wait_synced

from server.models import Device, Visit


def _server_names(field, worker):
    return field.read(lambda: [d.name for d in Device.select().where(Device.user == worker.id)])


def _wait_for_server_name(field, worker, name, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _server_names(field, worker) == [name]:
            return
        time.sleep(0.1)
    raise AssertionError(f"server still has {_server_names(field, worker)}, not {[name]}")


def _rename(page, name):
    page.click("#tabs a:text('Caseload')")
    page.wait_for_selector("h1:text-is('Caseload')")
    page.click("#tabs a:text('Settings')")
    page.wait_for_selector("#settings-message:empty", state="attached")  # a fresh screen, not the last message
    page.fill("input[name=device_name]", name)
    page.click("button:text('Save name')")
    page.wait_for_selector("#settings-message:has-text('Saved')")


def test_a_name_given_offline_reaches_the_server_on_the_next_sync(live_server, field, browser_context, page):
    worker = field.user()
    field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    [registered] = _server_names(field, worker)
    _rename(page, "Work phone")
    _wait_for_server_name(field, worker, "Work phone")

    go_offline(browser_context)
    _rename(page, "Blue phone")
    assert _server_names(field, worker) == ["Work phone"]  # offline: still on the phone only
    go_online(browser_context)
    sync_now(page)
    _wait_for_server_name(field, worker, "Blue phone")
    assert registered != "Blue phone"


def test_a_refused_name_does_not_stop_the_records_syncing(live_server, field, browser_context, page):
    worker = field.user()
    person = field.person(worker, "Alex Example")
    sign_in(page, live_server.url, worker)
    [registered] = _server_names(field, worker)
    refusals = []

    def refuse(route):
        if route.request.method == "PATCH":
            refusals.append(True)
            route.fulfill(status=422, content_type="application/json",
                          body='{"code": "validation_failed", "message": "Some fields need attention.", '
                               '"errors": {"name": ["Give the device a name."]}}')
        else:
            route.continue_()

    browser_context.route("**/api/v1/devices/*", refuse)
    _rename(page, "Refused name")
    page.click("#tabs a:text('Caseload')")
    open_person(page, "Alex Example")
    log_visit(page, notes="Coffee at the library")
    sync_now(page)
    wait_synced(page)
    assert refusals
    assert field.read(lambda: Visit.select().where(Visit.person == person.id).count()) == 1
    assert _server_names(field, worker) == [registered]
    sync_now(page)
    wait_synced(page)
    assert len(refusals) == 1  # refused once: kept on this phone, not sent again on every sync
