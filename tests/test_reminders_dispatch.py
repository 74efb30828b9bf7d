"""Reminders end to end through the channel layer with real encryption: a due reminder is released into the
outbox (one message per subscribed phone), the dispatcher sends it with pywebpush's encryption -> HTTP on
127.0.0.1 -> a push service in the test that checks the VAPID JWT and the headers and decrypts the body.
201 delivered; 404/410 remove the subscription; 429/500/time-outs retry with backoff, then fail; too late is
missed; a stop cancels; a custom goal text never leaves the server; two dispatchers never double-send."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading

import pytest
from reminder_push_endpoint import PushEndpoint

from server import db as dbmod
from server.db import utcnow, write_transaction
from server.models import OutboxAttempt, OutboxMessage, Person, PushSubscription, Reminder
from server.notify import Dispatcher
from server.reminders.consent import hash_token, withdraw
from server.reminders.dispatch import run_pass
from server.reminders.schedule import visit_body


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


def due(person, minutes_ago=1, kind="visit_evening", visit_in_hours=16, template="", body=None):
    send_at = utcnow() - dt.timedelta(minutes=minutes_ago)
    visit_at = None if kind == "goal_step" else send_at + dt.timedelta(hours=visit_in_hours)
    return Reminder.create(person=person, kind=kind, body=body or "Reminder: shown on the page", send_at=send_at,
                           visit_at=visit_at, template=template)


def fresh(reminder) -> Reminder:
    return Reminder.get_by_id(reminder.id)


def outcomes(reminder) -> list[tuple]:
    return [(a.outcome, a.http_status) for a in
            OutboxAttempt.select().join(OutboxMessage).where(OutboxMessage.reminder == reminder.id)
            .order_by(OutboxAttempt.id)]


def messages(reminder) -> list[OutboxMessage]:
    return list(OutboxMessage.select().where(OutboxMessage.reminder == reminder.id).order_by(OutboxMessage.id))


def test_delivers_encrypted_payload_with_strict_headers_to_every_device(person, endpoint, dispatcher):
    subscribe(person, endpoint)
    subscribe(person, endpoint)
    reminder = due(person)
    result = run_pass(dispatcher)
    assert endpoint.problems == []
    assert result["reminders_queued"] == 1 and result["sent"] == 2
    assert len(endpoint.received) == 2
    for push in endpoint.received:
        payload = push["payload"]
        assert payload["title"] == "Alongside" and payload["url"] == "/r/"
        assert payload["body"] == visit_body(reminder.visit_at, reminder.send_at)
        assert payload["body"].startswith("Reminder: your visit is ")
        assert "Robin" not in json.dumps(payload)
        assert push["headers"]["content-type"] == "application/octet-stream"
        assert push["headers"]["content-encoding"] == "aes128gcm"
        assert push["headers"]["authorization"].startswith("vapid t=")
        assert 0 < push["ttl"] <= 24 * 3600 and push["urgency"] == "normal"
    assert fresh(reminder).status == "queued"
    assert [m.state for m in messages(reminder)] == ["sent", "sent"]
    assert outcomes(reminder) == [("delivered", 201), ("delivered", 201)]
    assert PushSubscription.select().where(PushSubscription.last_success_at.is_null(False)).count() == 2
    again = run_pass(dispatcher)
    assert again["claimed"] == 0 and again["reminders_queued"] == 0
    assert len(endpoint.received) == 2


def test_not_due_yet_is_left_alone(person, endpoint, dispatcher):
    subscribe(person, endpoint)
    Reminder.create(person=person, kind="goal_step", template="plan", body="Reminder: the plan you made together",
                    send_at=utcnow() + dt.timedelta(minutes=5))
    assert run_pass(dispatcher)["claimed"] == 0
    assert endpoint.received == []


def test_gone_subscription_is_removed(person, endpoint, dispatcher):
    for gone in (404, 410):
        keep = subscribe(person, endpoint)
        lost = subscribe(person, endpoint, answers=[gone])
        reminder = due(person)
        result = run_pass(dispatcher)
        assert endpoint.problems == []
        assert result["sent"] == 1 and result["subscriptions_removed"] == 1
        assert [s.id for s in PushSubscription.select()] == [keep.id]
        assert sorted(outcomes(reminder)) == sorted([("delivered", 201), ("gone", gone)])
        assert PushSubscription.get_or_none(PushSubscription.id == lost.id) is None
        PushSubscription.delete().execute()


def test_no_channel_left_fails_the_reminder(person, endpoint, dispatcher):
    subscribe(person, endpoint, answers=[410])
    due(person)
    run_pass(dispatcher)
    assert PushSubscription.select().count() == 0
    second = due(person)
    run_pass(dispatcher)
    second = fresh(second)
    assert second.status == "failed" and second.last_error == "no consented channel to send to"


def test_retry_with_backoff_then_delivered(person, endpoint, dispatcher):
    for status in (429, 500, 503):
        endpoint.received.clear()
        PushSubscription.delete().execute()
        subscribe(person, endpoint, answers=[status])
        reminder = due(person)
        assert run_pass(dispatcher)["retrying"] == 1
        [message] = messages(reminder)
        assert message.state == "pending" and message.attempts == 1
        assert message.next_attempt_at >= utcnow() + dt.timedelta(seconds=25)
        assert message.last_error == f"push service answered {status}"
        assert run_pass(dispatcher)["claimed"] == 0  # not again before the backoff is over
        result = run_pass(dispatcher, now=message.next_attempt_at + dt.timedelta(seconds=1))
        assert result["sent"] == 1
        assert messages(reminder)[0].state == "sent"
        assert outcomes(reminder) == [("retry", status), ("delivered", 201)]
        assert [p["status"] for p in endpoint.received] == [status, 201]


def test_retries_stop_at_the_limit(person, endpoint, app):
    subscribe(person, endpoint, answers=[500] * 10)
    reminder = due(person, kind="goal_step", template="call")
    with Dispatcher.from_app(app, max_attempts=3) as d:
        now = utcnow()
        for _ in range(5):
            run_pass(d, now=now)
            now = now + dt.timedelta(minutes=5)
    [message] = messages(reminder)
    assert message.state == "failed" and message.attempts == 3
    assert [o for o, _ in outcomes(reminder)] == ["retry", "retry", "retry"]
    assert len(endpoint.received) == 3


def test_time_out_is_retried(person, endpoint, app):
    subscribe(person, endpoint, answers=[("slow", 1.5)])
    reminder = due(person)
    with Dispatcher.from_app(app, request_timeout=0.5) as d:
        assert run_pass(d)["retrying"] == 1
    [message] = messages(reminder)
    assert message.state == "pending" and message.last_error == "timed out"
    assert outcomes(reminder) == [("retry", None)]


def test_too_late_is_missed_not_sent(person, endpoint, dispatcher):
    subscribe(person, endpoint)
    reminder = due(person, minutes_ago=3 * 60)
    assert run_pass(dispatcher)["reminders_missed"] == 1
    assert endpoint.received == [] and fresh(reminder).status == "missed" and messages(reminder) == []


def test_a_message_past_its_expiry_is_not_sent(person, endpoint, dispatcher):
    subscribe(person, endpoint)
    reminder = due(person, kind="visit_soon", visit_in_hours=1)
    with dbmod.database.connection_context():
        from server.reminders.dispatch import release_due

        release_due()
    [message] = messages(reminder)
    result = dispatcher.send_due(now=message.expires_at + dt.timedelta(seconds=1))
    assert result.expired == 1 and endpoint.received == []
    assert outcomes(reminder) == [("expired", None)]


def test_stopping_cancels_what_is_queued(person, endpoint, dispatcher):
    subscribe(person, endpoint)
    reminder = due(person)
    with dbmod.database.connection_context():
        from server.reminders.dispatch import release_due

        release_due()
    with write_transaction():
        withdraw(Person.get_by_id(person.id), reason="person_page")
    assert dispatcher.send_due().claimed == 0
    assert endpoint.received == [] and [m.state for m in messages(reminder)] == ["cancelled"]


def test_person_who_stopped_or_closed_is_not_sent_to(person, endpoint, dispatcher):
    subscribe(person, endpoint)
    first = due(person)
    Person.update(reminders_opt_in=False).where(Person.id == person.id).execute()
    run_pass(dispatcher)
    Person.update(reminders_opt_in=True, status="closed").where(Person.id == person.id).execute()
    second = due(person)
    run_pass(dispatcher)
    assert endpoint.received == []
    assert fresh(first).status == "cancelled" and fresh(second).status == "cancelled"


def test_custom_goal_text_never_leaves_the_server(person, endpoint, dispatcher):
    subscribe(person, endpoint)
    due(person, kind="goal_step", template="custom", body="Reminder: pick up methadone at the chemist")
    due(person, kind="goal_step", template="outing", body="Reminder: the outing you planned")
    run_pass(dispatcher)
    bodies = sorted(p["payload"]["body"] for p in endpoint.received)
    assert bodies == ["Reminder: a step you planned", "Reminder: the outing you planned"]
    assert "methadone" not in json.dumps([p["payload"] for p in endpoint.received])


def test_ttl_and_urgency_follow_the_kind(person, endpoint, dispatcher):
    subscribe(person, endpoint)
    due(person, kind="visit_soon", visit_in_hours=2)
    due(person, kind="goal_step", template="step")
    run_pass(dispatcher)
    by_urgency = {p["urgency"]: p for p in endpoint.received}
    assert set(by_urgency) == {"high", "normal"}
    assert 5 * 3600 < by_urgency["normal"]["ttl"] <= 6 * 3600


def test_private_key_never_logged(app, person, endpoint, caplog):
    subscribe(person, endpoint, answers=[500])
    subscribe(person, endpoint)
    due(person)
    pem = app.config["ALONGSIDE"].extra["VAPID_PEM"]
    secret_lines = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    with caplog.at_level(logging.DEBUG):
        with Dispatcher.from_app(app) as d:
            run_pass(d)
            text = caplog.text + repr(d) + repr(d.transport("webpush")) + repr(d.transport("webpush").signer) \
                + repr(d.settings)
    for line in secret_lines:
        assert line not in text
    assert "PRIVATE KEY" not in text


def test_cli_send_one_pass(app, runner, person, endpoint):
    subscribe(person, endpoint)
    due(person)
    result = runner.invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output and "reminders_queued 1" in result.output
    assert len(endpoint.received) == 1
    result = runner.invoke(args=["notify", "run", "--passes", "1", "--interval", "1", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "Stopped after 1 pass(es)." in result.output


def test_two_dispatchers_at_once_send_each_reminder_exactly_once(app, team, endpoint):
    """FOR UPDATE SKIP LOCKED on PostgreSQL; the immediate write lock on SQLite. Both release and send."""
    people = [Person.create(team=team, display_name=f"P{i}", reminders_opt_in=True) for i in range(40)]
    for p in people:
        subscribe(p, endpoint)
    rows = [{"person": p.id, "kind": "goal_step", "template": "plan", "body": "Reminder: x",
             "send_at": utcnow() - dt.timedelta(minutes=1)} for p in people for _ in range(5)]
    Reminder.insert_many(rows).execute()
    dbmod.database.close()
    results = []
    barrier = threading.Barrier(2)

    def run():
        with Dispatcher.from_app(app, batch_size=10, workers=4) as d:
            barrier.wait()
            results.append(run_pass(d))
            dbmod.database.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert endpoint.problems == []
    tags = [p["payload"]["tag"] for p in endpoint.received]
    assert len(tags) == 200 and len(set(tags)) == 200  # nobody got one twice
    assert sum(r["sent"] for r in results) == 200
    assert sum(r["reminders_queued"] for r in results) == 200
    assert Reminder.select().where(Reminder.status == "queued").count() == 200
    assert OutboxMessage.select().where(OutboxMessage.state == "sent").count() == 200
    assert OutboxAttempt.select().count() == 200
