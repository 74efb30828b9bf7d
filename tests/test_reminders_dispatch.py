"""The dispatcher end to end with real encryption: pywebpush -> HTTP on 127.0.0.1 -> a push service in the
test that checks the VAPID JWT and decrypts the body. 201 delivered; 404/410 remove the subscription;
429/500/time-outs retry with backoff, then fail; too late is missed; two dispatchers never double-send."""

from __future__ import annotations

import datetime as dt
import logging
import threading

import pytest
from reminder_push_endpoint import PushEndpoint

from server import db as dbmod
from server.db import utcnow, write_transaction
from server.models import Person, PushSubscription, Reminder, ReminderDelivery
from server.person_pages import hash_token
from server.reminders import Dispatcher


@pytest.fixture
def endpoint(app):
    cfg = app.config["ALONGSIDE"]
    push = PushEndpoint(cfg.extra["VAPID_PUBLIC_KEY"], cfg.VAPID_SUBJECT)
    yield push
    push.close()


@pytest.fixture
def dispatcher(app):
    with Dispatcher.from_app(app, request_timeout=2.0) as d:
        yield d


@pytest.fixture
def person(app, team):
    return Person.create(team=team, display_name="Robin Example", reminders_opt_in=True)


def subscribe(person, endpoint, answers=None) -> PushSubscription:
    sub = endpoint.new_subscription(answers)
    return PushSubscription.create(person=person, endpoint=sub["endpoint"], endpoint_hash=hash_token(sub["endpoint"]),
                                   p256dh=sub["keys"]["p256dh"], auth=sub["keys"]["auth"])


def due(person, minutes_ago=1, kind="visit_evening", body="Reminder: your visit is tomorrow at 10:00"):
    return Reminder.create(person=person, kind=kind, body=body, send_at=utcnow() - dt.timedelta(minutes=minutes_ago))


def fresh(reminder) -> Reminder:
    return Reminder.get_by_id(reminder.id)


def outcomes(reminder) -> list[tuple]:
    return [(d.outcome, d.http_status) for d in
            ReminderDelivery.select().where(ReminderDelivery.reminder == reminder.id).order_by(ReminderDelivery.id)]


def test_delivers_encrypted_payload_to_every_device(person, endpoint, dispatcher):
    subscribe(person, endpoint)
    subscribe(person, endpoint)
    reminder = due(person)
    result = dispatcher.send_due()
    assert endpoint.problems == []
    assert result.sent == 1 and result.claimed == 1
    assert len(endpoint.received) == 2
    for push in endpoint.received:
        assert push["payload"] == {"title": "Alongside", "body": "Reminder: your visit is tomorrow at 10:00",
                                   "url": "/r/", "tag": f"alongside-{reminder.uuid}"}
        assert "Robin" not in str(push["payload"])
        assert 0 < push["ttl"] <= 24 * 3600
        assert push["urgency"] == "normal"
    reminder = fresh(reminder)
    assert reminder.status == "sent" and reminder.sent_at is not None
    assert outcomes(reminder) == [("delivered", 201), ("delivered", 201)]
    assert PushSubscription.select().where(PushSubscription.last_success_at.is_null(False)).count() == 2
    # a second pass sends nothing again
    assert dispatcher.send_due().claimed == 0
    assert len(endpoint.received) == 2


def test_not_due_yet_is_left_alone(person, endpoint, dispatcher):
    subscribe(person, endpoint)
    Reminder.create(person=person, kind="goal_step", body="Reminder: the plan you made together",
                    send_at=utcnow() + dt.timedelta(minutes=5))
    assert dispatcher.send_due().claimed == 0
    assert endpoint.received == []


def test_gone_subscription_is_removed(person, endpoint, dispatcher):
    for gone in (404, 410):
        keep = subscribe(person, endpoint)
        lost = subscribe(person, endpoint, answers=[gone])
        reminder = due(person)
        result = dispatcher.send_due()
        assert endpoint.problems == []
        assert result.sent == 1 and result.subscriptions_removed == 1
        assert [s.id for s in PushSubscription.select()] == [keep.id]
        assert sorted(outcomes(reminder)) == sorted([("delivered", 201), ("gone", gone)])
        assert PushSubscription.get_or_none(PushSubscription.id == lost.id) is None
        PushSubscription.delete().execute()


def test_only_device_gone_fails_the_reminder(person, endpoint, dispatcher):
    subscribe(person, endpoint, answers=[410])
    reminder = due(person)
    dispatcher.send_due()
    reminder = fresh(reminder)
    assert reminder.status == "failed"
    assert PushSubscription.select().count() == 0
    # the next reminder has nowhere to go: recorded, not sent
    second = due(person)
    dispatcher.send_due()
    assert fresh(second).status == "failed"
    assert outcomes(second) == [("no_device", None)]


def test_retry_with_backoff_then_delivered(person, endpoint, dispatcher):
    for status in (429, 500, 503):
        endpoint.received.clear()
        PushSubscription.delete().execute()
        subscribe(person, endpoint, answers=[status])
        reminder = due(person)
        result = dispatcher.send_due()
        assert result.retrying == 1
        reminder = fresh(reminder)
        assert reminder.status == "pending" and reminder.attempts == 1
        assert reminder.next_attempt_at >= utcnow() + dt.timedelta(seconds=25)
        assert reminder.last_error == f"push service answered {status}"
        # not again before the backoff is over
        assert dispatcher.send_due().claimed == 0
        later = reminder.next_attempt_at + dt.timedelta(seconds=1)
        result = dispatcher.send_due(now=later)
        assert result.sent == 1
        assert fresh(reminder).status == "sent"
        assert outcomes(reminder) == [("retry", status), ("delivered", 201)]
        assert [p["status"] for p in endpoint.received] == [status, 201]


def test_retries_stop_at_the_limit(person, endpoint, app):
    subscribe(person, endpoint, answers=[500] * 10)
    reminder = due(person)
    with Dispatcher.from_app(app, max_attempts=3) as d:
        now = utcnow()
        for _ in range(5):
            d.send_due(now=now)
            now = now + dt.timedelta(minutes=5)
    reminder = fresh(reminder)
    assert reminder.status == "failed" and reminder.attempts == 3
    assert [o for o, _ in outcomes(reminder)] == ["retry", "retry", "retry"]
    assert len(endpoint.received) == 3


def test_time_out_is_retried(person, endpoint, app):
    subscribe(person, endpoint, answers=[("slow", 1.5)])
    reminder = due(person)
    with Dispatcher.from_app(app, request_timeout=0.5) as d:
        result = d.send_due()
    assert result.retrying == 1
    reminder = fresh(reminder)
    assert reminder.status == "pending" and reminder.last_error == "timed out"
    assert outcomes(reminder) == [("retry", None)]


def test_partial_delivery_is_not_sent_twice_after_a_crash(person, endpoint, dispatcher):
    """A dispatcher that died mid-batch: its claim is released, and the device that already got the
    reminder does not get it again."""
    first = subscribe(person, endpoint)
    subscribe(person, endpoint)
    reminder = due(person)
    with write_transaction():
        Reminder.update(status="sending", claimed_at=utcnow() - dt.timedelta(hours=1), attempts=1).where(
            Reminder.id == reminder.id).execute()
        ReminderDelivery.create(reminder=reminder, subscription=first, outcome="delivered", http_status=201)
    dispatcher.send_due()
    assert len(endpoint.received) == 1
    assert fresh(reminder).status == "sent"


def test_too_late_is_missed_not_sent(person, endpoint, dispatcher):
    subscribe(person, endpoint)
    reminder = due(person, minutes_ago=3 * 60)
    result = dispatcher.send_due()
    assert result.missed == 1
    assert endpoint.received == []
    assert fresh(reminder).status == "missed"
    assert outcomes(reminder) == [("missed", None)]


def test_person_who_stopped_is_not_sent_to(person, endpoint, dispatcher):
    subscribe(person, endpoint)
    reminder = due(person)
    Person.update(reminders_opt_in=False).where(Person.id == person.id).execute()
    assert dispatcher.send_due().cancelled == 1
    assert endpoint.received == []
    assert fresh(reminder).status == "cancelled"


def test_unsafe_text_is_never_sent(person, endpoint, dispatcher):
    subscribe(person, endpoint)
    reminder = due(person, kind="goal_step", body="Reminder: your therapy group")
    assert dispatcher.send_due().failed == 1
    assert endpoint.received == []
    assert outcomes(reminder) == [("refused", None)]


def test_closed_person_is_not_sent_to(person, endpoint, dispatcher):
    subscribe(person, endpoint)
    reminder = due(person)
    Person.update(status="closed").where(Person.id == person.id).execute()
    assert dispatcher.send_due().cancelled == 1
    assert endpoint.received == [] and fresh(reminder).status == "cancelled"


def test_dispatch_settings_from_the_environment(app, monkeypatch):
    monkeypatch.setenv("ALONGSIDE_REMINDER_WORKERS", "3")
    monkeypatch.setenv("ALONGSIDE_REMINDER_MAX_LATE_MINUTES", "15")
    with Dispatcher.from_app(app) as d:
        assert d.settings.workers == 3 and d.settings.max_late == dt.timedelta(minutes=15)
    with pytest.raises(ValueError):
        Dispatcher.from_app(app, nonsense=1)


def test_ttl_and_urgency_follow_the_kind(person, endpoint, dispatcher):
    subscribe(person, endpoint)
    due(person, kind="visit_soon", body="Reminder: your visit is today at 10:00")
    due(person, kind="goal_step", body="Reminder: the step you planned for today")
    dispatcher.send_due()
    by_body = {p["payload"]["body"]: p for p in endpoint.received}
    assert by_body["Reminder: your visit is today at 10:00"]["urgency"] == "high"
    assert by_body["Reminder: the step you planned for today"]["ttl"] == 6 * 3600


def test_private_key_never_logged(app, person, endpoint, caplog):
    subscribe(person, endpoint, answers=[500])
    subscribe(person, endpoint)
    due(person)
    pem = app.config["ALONGSIDE"].extra["VAPID_PEM"]
    secret_lines = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    with caplog.at_level(logging.DEBUG):
        with Dispatcher.from_app(app) as d:
            d.send_due()
            text = caplog.text + repr(d) + repr(d.signer)
    for line in secret_lines:
        assert line not in text
    assert "PRIVATE KEY" not in text


def test_cli_send_one_pass(app, runner, person, endpoint):
    subscribe(person, endpoint)
    due(person)
    result = runner.invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    assert len(endpoint.received) == 1
    result = runner.invoke(args=["reminders", "run", "--passes", "1", "--interval", "1", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "Stopped after 1 pass(es)." in result.output


# FOR UPDATE SKIP LOCKED is the PostgreSQL path; SQLite serialises claims with BEGIN IMMEDIATE.
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_two_dispatchers_at_once_send_each_reminder_exactly_once(app, team, endpoint):
    assert dbmod.is_postgres()
    people = [Person.create(team=team, display_name=f"P{i}", reminders_opt_in=True) for i in range(60)]
    for p in people:
        subscribe(p, endpoint)
    rows = [{"person": p.id, "kind": "goal_step", "body": f"Reminder: the plan you made together {i}-{j}",
             "send_at": utcnow() - dt.timedelta(minutes=1)} for i, p in enumerate(people) for j in range(5)]
    Reminder.insert_many(rows).execute()
    dbmod.database.close()
    results = []
    barrier = threading.Barrier(2)

    def run():
        with Dispatcher.from_app(app, batch_size=10, workers=4) as d:
            barrier.wait()
            results.append(d.send_due())
            dbmod.database.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert endpoint.problems == []
    tags = [p["payload"]["tag"] for p in endpoint.received]
    assert len(tags) == 300
    assert len(set(tags)) == 300  # nobody got one twice
    assert sum(r.sent for r in results) == 300
    assert all(r.claimed > 0 for r in results), "both dispatchers took part"
    assert Reminder.select().where(Reminder.status == "sent").count() == 300
    assert ReminderDelivery.select().count() == 300
