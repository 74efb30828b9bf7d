"""Text messages and email: GOV.UK Notify through its official client against a local server that speaks
its API (checks the client's JWT, answers 201/400/429/500), and plain SMTP against a local aiosmtpd. Each
message is delivered once, retried on 429/5xx (SMTP 4xx), refused for good on 400 (SMTP 5xx), given up
after the limit, and never doubled by two dispatchers at once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from notify_fakes import API_KEY, EMAIL_TEMPLATE, SMS_TEMPLATE, NotifyFake, SmtpFake

from server import db as dbmod
from server.db import utcnow, write_transaction
from server.models import ContactPoint, OutboxAttempt, OutboxMessage, Person, Reminder
from server.notify import Dispatcher
from server.reminders.consent import add_contact, withdraw
from server.reminders.dispatch import run_pass

CUSTOM = "Reminder: coffee with Zoë at the clinic"


@pytest.fixture
def notify_fake():
    fake = NotifyFake()
    yield fake
    fake.close()


@pytest.fixture
def smtp_fake():
    fake = SmtpFake()
    yield fake
    fake.close()


# The channel settings are the process's (one app per process in production): build these apps after the
# default `app` (which `team` and `worker` use), so theirs are the settings in force.
@pytest.fixture
def notify_app(app, make_app, notify_fake):
    return make_app(NOTIFY_API_KEY=API_KEY, NOTIFY_BASE_URL=notify_fake.base_url, NOTIFY_SMS_TEMPLATE_ID=SMS_TEMPLATE,
                    NOTIFY_EMAIL_TEMPLATE_ID=EMAIL_TEMPLATE)


@pytest.fixture
def smtp_app(app, make_app, smtp_fake):
    return make_app(SMTP_URL=smtp_fake.url, SMTP_FROM="reminders@alongside.example")


def person_with(team, channel, address, name="Zoë Example"):
    with write_transaction():
        person = Person.create(team=team, display_name=name)
        add_contact(person, channel, address)
    return Person.get_by_id(person.id)


def due_goal(person, template="custom", minutes_ago=1):
    return Reminder.create(person=person, kind="goal_step", template=template, body=CUSTOM,
                           send_at=utcnow() - dt.timedelta(minutes=minutes_ago))


def states(source="reminder"):
    return [m.state for m in OutboxMessage.select().where(OutboxMessage.source == source)
            .order_by(OutboxMessage.id)]


def test_sms_through_notify_delivered_once_with_fixed_words(notify_app, team, notify_fake):
    person = person_with(team, "sms", "07700 900123")
    due_goal(person)
    with Dispatcher.from_app(notify_app) as d:
        result = run_pass(d)
        assert run_pass(d)["claimed"] == 0
    assert notify_fake.problems == []
    assert result["sent"] == 2  # the "reminders are on" confirmation, and the reminder
    texts = [r["data"]["personalisation"]["body"] for r in notify_fake.received]
    assert [r["data"]["phone_number"] for r in notify_fake.received] == ["07700900123"] * 2
    assert all(r["data"]["template_id"] == SMS_TEMPLATE for r in notify_fake.received)
    assert sorted(t.split("\n")[0] for t in texts) == [
        "Reminder: a step you planned",
        "Reminders from Alongside are on. We will send you a message before your visits."]
    assert not any("Zoë" in t or "clinic" in t or "coffee" in t for t in texts)
    attempts = list(OutboxAttempt.select().order_by(OutboxAttempt.id))
    assert [a.outcome for a in attempts] == ["delivered", "delivered"]
    assert all(len(a.provider_id) == 36 for a in attempts)  # Notify's notification id is kept


def test_email_through_notify(notify_app, team, notify_fake):
    person = person_with(team, "email", "zoe@example.org")
    due_goal(person, template="call")
    with Dispatcher.from_app(notify_app) as d:
        run_pass(d)
    assert notify_fake.problems == []
    [last] = [r for r in notify_fake.received if "call" in r["data"]["personalisation"]["body"]]
    assert last["path"] == "/v2/notifications/email" and last["data"]["email_address"] == "zoe@example.org"
    assert last["data"]["personalisation"]["subject"] == "A reminder from Alongside"
    assert last["data"]["personalisation"]["body"].startswith("Reminder: the call you planned\n")


@pytest.mark.parametrize("status", [429, 500])
def test_notify_busy_or_failing_is_retried_then_delivered(notify_app, team, notify_fake, status):
    person = person_with(team, "sms", "+447700900123")
    with Dispatcher.from_app(notify_app) as d:
        run_pass(d)  # the confirmation
        due_goal(person)
        notify_fake.script = [status]
        assert run_pass(d)["retrying"] == 1
        message = OutboxMessage.select().where(OutboxMessage.reminder.is_null(False)).get()
        assert message.state == "pending" and message.last_error == f"GOV.UK Notify answered {status}"
        assert run_pass(d)["claimed"] == 0
        assert run_pass(d, now=message.next_attempt_at + dt.timedelta(seconds=1))["sent"] == 1
    outcomes = [(a.outcome, a.http_status) for a in OutboxAttempt.select().where(OutboxAttempt.message == message.id)
                .order_by(OutboxAttempt.id)]
    assert outcomes == [("retry", status), ("delivered", 201)]


def test_notify_refusal_is_final_and_retries_give_up_at_the_limit(team, make_app, notify_fake):
    app = make_app(NOTIFY_API_KEY=API_KEY, NOTIFY_BASE_URL=notify_fake.base_url, NOTIFY_SMS_TEMPLATE_ID=SMS_TEMPLATE,
                   NOTIFY_DISPATCH={"max_attempts": 2})
    person = person_with(team, "sms", "07700900123")
    notify_fake.script = [400]  # the confirmation: a bad number, refused for good
    with Dispatcher.from_app(app) as d:
        assert run_pass(d)["failed"] == 1
        due_goal(person)
        notify_fake.script = [500, 500, 500]
        now = utcnow()
        for _ in range(3):
            run_pass(d, now=now)
            now += dt.timedelta(minutes=5)
    assert states() == ["failed", "failed"]
    assert len(notify_fake.received) == 3  # 400 once, then 500 twice: the limit


def test_a_wrong_api_key_secret_is_refused_by_notify(team, make_app, notify_fake):
    bad_key = API_KEY[:-36] + "00000000-0000-0000-0000-000000000000"
    app = make_app(NOTIFY_API_KEY=bad_key, NOTIFY_BASE_URL=notify_fake.base_url, NOTIFY_SMS_TEMPLATE_ID=SMS_TEMPLATE)
    person_with(team, "sms", "07700900123")
    with Dispatcher.from_app(app) as d:
        assert run_pass(d)["failed"] == 1
    assert notify_fake.problems and notify_fake.received == []


def test_smtp_email_delivered_once(smtp_app, team, smtp_fake):
    person = person_with(team, "email", "zoe@example.org")
    due_goal(person)
    with Dispatcher.from_app(smtp_app) as d:
        assert run_pass(d)["sent"] == 2
        assert run_pass(d)["claimed"] == 0
    assert len(smtp_fake.received) == 2
    [got] = [r for r in smtp_fake.received if r["message"]["Subject"] == "A reminder from Alongside"]
    message = got["message"]
    assert got["to"] == ["zoe@example.org"]
    assert message["From"] == "reminders@alongside.example" and message["Subject"] == "A reminder from Alongside"
    text = message.get_content()
    assert text.startswith("Reminder: a step you planned") and "Zoë" not in text and "clinic" not in text


def test_smtp_temporary_refusal_retried_permanent_refusal_final(smtp_app, team, smtp_fake):
    person = person_with(team, "email", "zoe@example.org")
    smtp_fake.refuse = ["451 4.3.0 try again later"]
    with Dispatcher.from_app(smtp_app) as d:
        assert run_pass(d)["retrying"] == 1
        message = OutboxMessage.get()
        assert run_pass(d, now=message.next_attempt_at + dt.timedelta(seconds=1))["sent"] == 1
        due_goal(person)
        smtp_fake.refuse = ["550 5.1.1 no such mailbox"]
        assert run_pass(d)["failed"] == 1
    assert [(a.outcome, a.http_status) for a in OutboxAttempt.select().order_by(OutboxAttempt.id)] == [
        ("retry", 451), ("delivered", 250), ("failed", 550)]


def test_stop_removes_the_number_and_cancels_what_is_queued(notify_app, team, notify_fake, worker):
    person = person_with(team, "sms", "07700900123")
    with write_transaction():
        withdraw(person, actor=worker, reason="person_request")
    assert ContactPoint.select().count() == 0
    assert states() == ["cancelled"]
    with Dispatcher.from_app(notify_app) as d:
        assert run_pass(d)["claimed"] == 0
    assert notify_fake.received == []
    assert Person.get_by_id(person.id).reminders_opt_in is False


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_two_dispatchers_never_double_a_text_or_an_email(team, make_app, notify_fake, smtp_fake):
    app = make_app(NOTIFY_API_KEY=API_KEY, NOTIFY_BASE_URL=notify_fake.base_url, NOTIFY_SMS_TEMPLATE_ID=SMS_TEMPLATE,
                   SMTP_URL=smtp_fake.url, SMTP_FROM="reminders@alongside.example")
    assert dbmod.is_postgres()
    for i in range(30):
        person = person_with(team, "sms" if i % 2 else "email", f"0770090{i:04d}" if i % 2 else f"p{i}@example.org")
        for _ in range(3):
            due_goal(person, template="plan")
    dbmod.database.close()
    results, barrier = [], threading.Barrier(2)

    def run():
        with Dispatcher.from_app(app, batch_size=7, workers=3) as d:
            barrier.wait()
            results.append(run_pass(d))
            dbmod.database.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert notify_fake.problems == []
    references = [r["data"]["reference"] for r in notify_fake.received]
    assert len(references) == len(set(references)) == 15 * 4
    ids = [r["message"]["Message-ID"] for r in smtp_fake.received]
    assert len(ids) == len(set(ids)) == 15 * 4
    assert sum(r["sent"] for r in results) == 120
    assert OutboxAttempt.select().count() == 120
