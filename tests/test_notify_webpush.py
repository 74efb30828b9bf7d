"""Web Push as a strict push service expects it (the exact request), the production allow-list of push
hosts (refusing loopback, private, link-local and numeric hosts, and anything off the list, when saved and
again when sent), and staff alerts through the same outbox: a coordinator's browser and email."""

from __future__ import annotations

import pytest
from notify_fakes import SmtpFake
from reminder_push_endpoint import PushEndpoint

from server import notify
from server.db import write_transaction
from server.models import OutboxAttempt, OutboxMessage, PushSubscription
from server.notify.channels import Send
from server.notify.endpoints import SubscriptionError, clean_subscription, endpoint_problem
from server.notify.settings import NotifySettings
from server.notify.templates import render
from server.notify.webpush import WebPushTransport

PRODUCTION = NotifySettings(production=True, allow_local_push=False)
KEYS = {"p256dh": "B" + "A" * 86, "auth": "A" * 22}

BAD_HOSTS = [
    "https://127.1/push/x", "https://0x7f000001/push/x", "https://127.0.0.1/push/x", "https://2130706433/push/x",
    "https://[::1]/push/x", "https://10.0.0.5/push/x", "https://192.168.1.20/push/x", "https://172.16.0.1/push/x",
    "https://169.254.169.254/latest/meta-data", "https://[fe80::1]/push/x", "https://localhost/push/x",
    "https://intranet/push/x", "https://push.corp.internal/x", "https://printer.local/x", "https://0177.0.0.1/x",
    "http://fcm.googleapis.com/fcm/send/x", "https://fcm.googleapis.com:8443/fcm/send/x",
    "https://evil.example.com/push", "https://fcm.googleapis.com.evil.example/x", "https://user@fcm.googleapis.com/x",
    "https://notfcm.googleapis.com/x",
]
GOOD_HOSTS = [
    "https://fcm.googleapis.com/fcm/send/abc", "https://updates.push.services.mozilla.com/wpush/v2/abc",
    "https://web.push.apple.com/QAbc", "https://db5p.notify.windows.com/w/?token=abc",
]


@pytest.mark.parametrize("endpoint", BAD_HOSTS)
def test_production_refuses_every_bad_push_host(endpoint):
    assert endpoint_problem(endpoint, PRODUCTION)
    with pytest.raises(SubscriptionError):
        clean_subscription({"endpoint": endpoint, "keys": KEYS}, PRODUCTION)


@pytest.mark.parametrize("endpoint", GOOD_HOSTS)
def test_production_accepts_the_browser_push_services(endpoint):
    assert endpoint_problem(endpoint, PRODUCTION) is None


def test_the_allow_list_is_configurable(make_app):
    app = make_app(PUSH_HOSTS="push.example.org, *.push.example.net", REMINDER_ALLOW_LOCAL_ENDPOINTS=False)
    settings = notify.from_config(app.config["ALONGSIDE"])
    assert endpoint_problem("https://push.example.org/x", settings) is None
    assert endpoint_problem("https://a.push.example.net/x", settings) is None
    assert endpoint_problem("https://fcm.googleapis.com/x", settings)


def test_a_bad_endpoint_already_stored_is_refused_at_send_time(app):
    cfg = app.config["ALONGSIDE"]
    settings = NotifySettings(production=True, allow_local_push=False, vapid_pem=cfg.extra["VAPID_PEM"])
    transport = WebPushTransport(settings)
    send = Send(1, "webpush", "webpush", "", {"endpoint": "https://127.1/push/x", "keys": KEYS},
                render("goal_step", {"variant": "step"}, "https://x.example"), 60, "normal", "t")
    outcome = transport.send(send)
    assert outcome.outcome == "failed" and outcome.error.startswith("endpoint refused")


def test_push_request_is_what_rfc_8030_asks_for(app):
    cfg = app.config["ALONGSIDE"]
    endpoint = PushEndpoint(cfg.extra["VAPID_PUBLIC_KEY"], cfg.VAPID_SUBJECT)
    try:
        sub = endpoint.new_subscription()
        transport = WebPushTransport(notify.from_config(cfg))
        send = Send(7, "webpush", "webpush", sub["endpoint"], sub,
                    render("goal_step", {"variant": "plan"}, "https://x.example"), 3600, "high", "alongside-t")
        url, headers, body = transport.request(send)
        assert url == sub["endpoint"]
        assert headers["Content-Type"] == "application/octet-stream"
        assert headers["Content-Encoding"] == "aes128gcm"
        assert headers["TTL"] == "3600" and headers["Urgency"] == "high"
        assert headers["Authorization"].startswith("vapid t=") and f"k={cfg.extra['VAPID_PUBLIC_KEY']}" in \
            headers["Authorization"]
        endpoint.verify_vapid(headers["Authorization"])
        assert isinstance(body, bytes) and b"plan" not in body  # encrypted
        assert transport.send(send).outcome == "delivered"
        assert endpoint.problems == []
        assert endpoint.received[0]["payload"] == {"title": "Alongside", "body": "Reminder: the plan you made together",
                                                   "url": "/r/", "tag": "alongside-t"}
    finally:
        endpoint.close()


def test_staff_alert_reaches_a_coordinators_browser_and_email(app, make_app, coordinator, make_user, team):
    smtp = SmtpFake()
    cfg = app.config["ALONGSIDE"]
    push = PushEndpoint(cfg.extra["VAPID_PUBLIC_KEY"], cfg.VAPID_SUBJECT)
    try:
        staff_app = make_app(SMTP_URL=smtp.url, SMTP_FROM="alerts@alongside.example")
        sub = notify.clean_subscription(push.new_subscription(), notify.current())
        gone = make_user("coordinator", team=team, active=False)
        concern = "0b8f3b0e-8a61-4b8f-9a7c-3a1c2d4e5f60"
        with write_transaction():
            notify.save_push_subscription(sub, user=coordinator)
            queued = notify.enqueue_to_staff(coordinator, "staff_concern", {"concern_id": concern},
                                             source="safety", dedupe_key=f"concern:{concern}:{coordinator.id}")
            again = notify.enqueue_to_staff(coordinator, "staff_concern", {"concern_id": concern},
                                            source="safety", dedupe_key=f"concern:{concern}:{coordinator.id}")
            nobody = notify.enqueue_to_staff(gone, "staff_concern", {"concern_id": concern})
        assert (queued, again, nobody) == (2, 0, 0)
        with notify.Dispatcher.from_app(staff_app) as d:
            result = d.send_due()
        assert result.sent == 2 and push.problems == []
        payload = push.received[0]["payload"]
        assert payload["body"] == "A serious concern needs review."
        assert payload["url"] == f"/coordinator/concerns?focus={concern}"
        [mail] = smtp.received
        assert mail["to"] == [coordinator.email] and mail["message"]["Subject"] == "A serious concern needs review"
        assert f"/coordinator/concerns?focus={concern}" in mail["message"].get_content()
        assert PushSubscription.get().person_id is None
        assert [a.outcome for a in OutboxAttempt.select()] == ["delivered", "delivered"]
    finally:
        push.close()
        smtp.close()


def test_staff_and_person_templates_do_not_mix(app, coordinator, team):
    from server.models import Person

    person = Person.create(team=team, display_name="P")
    with pytest.raises(ValueError):
        notify.enqueue_to_staff(coordinator, "goal_step", {"variant": "step"})
    with pytest.raises(ValueError):
        notify.enqueue_to_person(person, "staff_concern", {"concern_id": "0b8f3b0e-8a61-4b8f-9a7c-3a1c2d4e5f60"})
    with pytest.raises(notify.TemplateError):  # there is no kind of value that carries text
        notify.enqueue_to_staff(coordinator, "staff_concern", {"concern_id": "Robin took an overdose"})
    assert OutboxMessage.select().count() == 0
