"""The person's reminders page in Chromium: consent -> "Turn on reminders" subscribes (pushManager.subscribe
stubbed to a subscription for a local push service, since Chromium cannot reach Google's here) -> the
subscription is stored -> the dispatcher sends a real encrypted push -> the service worker's push handler
shows it -> "Stop all reminders" unsubscribes and removes it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from push_delivery import deliver_push
from reminder_push_endpoint import PushEndpoint

from server.db import utcnow, write_transaction
from server.models import Person, PushSubscription, Reminder, Team, User
from server.notify import Dispatcher
from server.reminders.consent import create_invite
from server.reminders.dispatch import run_pass

STUB = """
(() => {
  const sub = %s;
  const fake = {
    endpoint: sub.endpoint, expirationTime: null, options: {userVisibleOnly: true},
    toJSON: () => sub, getKey: () => null,
    unsubscribe: async () => {
      localStorage.setItem("fakeSub", "");
      localStorage.setItem("unsubscribed", "1");
      return true;
    }
  };
  PushManager.prototype.subscribe = async function (options) {
    localStorage.setItem("fakeSub", "1");
    localStorage.setItem("serverKeyLength", String(new Uint8Array(options.applicationServerKey).length));
    return fake;
  };
  PushManager.prototype.getSubscription = async function () {
    return localStorage.getItem("fakeSub") === "1" ? fake : null;
  };
})();
"""


@pytest.fixture
def endpoint(live_app):
    cfg = live_app.config["ALONGSIDE"]
    push = PushEndpoint(cfg.extra["VAPID_PUBLIC_KEY"], cfg.VAPID_SUBJECT)
    yield push
    push.close()


@pytest.fixture
def invite_url(live_server):
    with write_transaction():
        team = Team.create(name="Team A")
        worker = User.create(email="w@example.test", name="Worker", role="peer_worker", team=team,
                             password_hash="x")
        person = Person.create(team=team, display_name="Casey Browser")
        person.assign_to(worker)
        token, _ = create_invite(person, worker)
    return f"{live_server.url}/r/{token}"


def test_turn_on_receive_and_stop(live_server, live_app, browser_context, page, invite_url, endpoint):
    sub = endpoint.new_subscription()
    browser_context.grant_permissions(["notifications"], origin=live_server.url)
    browser_context.add_init_script(STUB % json.dumps(sub))

    page.goto(invite_url)
    assert page.locator("h1").inner_text() == "Reminders on your phone"
    page.click("#turn-on")
    page.wait_for_url(f"{live_server.url}/r/")
    assert page.locator("h1").inner_text() == "Your reminders"
    assert page.evaluate("localStorage.getItem('serverKeyLength')") == "65"

    stored = PushSubscription.get()
    assert stored.endpoint == sub["endpoint"] and stored.p256dh == sub["keys"]["p256dh"]
    person = Person.get_by_id(stored.person_id)
    assert person.reminders_opt_in

    # the service worker is registered for /r/ and controls the page after a reload
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=10000)

    # a real encrypted push through the dispatcher to the local push service ...
    send_at = utcnow() - dt.timedelta(minutes=1)
    Reminder.create(person=person, kind="visit_evening", body="Reminder: your visit is tomorrow at 10:00",
                    send_at=send_at, visit_at=send_at + dt.timedelta(hours=16))
    with Dispatcher.from_app(live_app) as dispatcher:
        assert run_pass(dispatcher)["sent"] == 1
    assert endpoint.problems == []
    # ... and its decrypted payload delivered to the service worker's push handler through DevTools
    shown = [[n["title"], n["body"], (n["data"] or {}).get("url")]
             for n in deliver_push(browser_context, page, live_server.url, "/r/", endpoint.received[0]["payload"])]
    assert shown == [["Alongside", endpoint.received[0]["payload"]["body"], "/r/"]]
    assert shown[0][1].startswith("Reminder: your visit is ")

    # stop: the browser subscription is dropped and the server forgets every subscription
    page.click("#stop")
    page.wait_for_selector("text=Reminders are off")
    assert page.evaluate("localStorage.getItem('unsubscribed')") == "1"
    assert PushSubscription.select().count() == 0
    assert Person.get_by_id(person.id).reminders_opt_in is False
    page.goto(f"{live_server.url}/r/")
    assert page.locator("h1").inner_text() == "This link cannot be used"


def test_used_link_is_calm_in_the_browser(live_server, page, invite_url):
    page.goto(invite_url + "x")
    assert page.locator("h1").inner_text() == "This link cannot be used"
    assert page.locator("script").count() == 0
