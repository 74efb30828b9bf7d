"""Staff alerts end to end: raise_alert records the alert and queues a message with no names or notes to the
team's coordinators as each chose (push to their browsers with real encryption to a local push service, email
through a local aiosmtpd), or by email to all of them when nobody chose; unacknowledged alerts escalate, on a
controllable clock, to every coordinator of the team and every admin, once, even with two dispatchers at once."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid

import pytest
from notify_fakes import SmtpFake
from reminder_push_endpoint import PushEndpoint

from server import db as dbmod
from server import notify
from server.db import write_transaction
from server.models import AuditEvent, OutboxMessage, Person, Reminder, StaffAlert, StaffAlertChoice, Visit
from server.reminders.dispatch import run_pass
from server.safety import alerts

T0 = dt.datetime(2026, 3, 2, 9, 0)


@pytest.fixture
def smtp():
    fake = SmtpFake()
    yield fake
    fake.close()


@pytest.fixture
def staff_app(app, make_app, smtp):
    # built after `app`, so its channel settings (SMTP on) are the ones in force
    return make_app(SMTP_URL=smtp.url, SMTP_FROM="alerts@alongside.example", ALERT_ESCALATE_AFTER_MINUTES=120)


@pytest.fixture
def push(app):
    cfg = app.config["ALONGSIDE"]
    endpoint = PushEndpoint(cfg.extra["VAPID_PUBLIC_KEY"], cfg.VAPID_SUBJECT)
    yield endpoint
    endpoint.close()


@pytest.fixture
def person(team):
    return Person.create(team=team, display_name="Robin Example")


def opt_in(user, push=None, *, by_push=False, by_email=False):
    with write_transaction():
        if push is not None:
            notify.save_push_subscription(notify.clean_subscription(push.new_subscription(), notify.current()),
                                          user=user)
        StaffAlertChoice.create(user=user, by_push=by_push, by_email=by_email)


def one_pass(staff_app, now):
    with notify.Dispatcher.from_app(staff_app, request_timeout=5.0) as d:
        return run_pass(d, now)


def test_raised_alert_reaches_opted_in_browser_and_email_without_names(staff_app, smtp, push, team, person, worker,
                                                                       coordinator, make_user):
    other = make_user("coordinator", team=team)  # chose nothing: not told while someone on the team chose
    opt_in(coordinator, push, by_push=True, by_email=True)
    visit_id = str(uuid.uuid4())
    with write_transaction():
        alert = alerts.raise_alert("concern", person.team, subject_uuid=visit_id, worker=worker, person=person,
                                   level="high", now=T0)
        again = alerts.raise_alert("concern", person.team, subject_uuid=visit_id, worker=worker, person=person,
                                   now=T0)
    assert again.id == alert.id and StaffAlert.select().count() == 1
    assert alert.escalate_at == T0 + dt.timedelta(minutes=120)
    assert OutboxMessage.select().count() == 2  # coordinator's browser + email; `other` chose nothing
    result = one_pass(staff_app, T0 + dt.timedelta(seconds=30))
    assert result["sent"] == 2 and push.problems == []
    [got] = push.received
    assert got["payload"]["body"] == "A serious concern needs review."
    assert got["payload"]["url"] == f"/coordinator/alerts/{alert.uuid}"
    assert got["urgency"] == "high"
    [mail] = smtp.received
    assert mail["to"] == [coordinator.email] and other.email not in mail["to"]
    body = mail["message"].get_content()
    assert f"/coordinator/alerts/{alert.uuid}" in body
    for secret in ("Robin", worker.name, "Worker"):
        assert secret not in body and secret not in json.dumps(got["payload"])
    assert one_pass(staff_app, T0 + dt.timedelta(minutes=1))["claimed"] == 0  # once


def test_nobody_opted_in_every_coordinator_of_the_team_gets_email(staff_app, smtp, team, other_team, person,
                                                                  coordinator, make_user):
    second = make_user("coordinator", team=team)
    make_user("coordinator", team=other_team)  # another team: never told
    make_user("coordinator", team=team, active=False)
    with write_transaction():
        alerts.raise_alert("help", team, subject_uuid=str(uuid.uuid4()), now=T0)
    one_pass(staff_app, T0)
    assert sorted(m["to"][0] for m in smtp.received) == sorted([coordinator.email, second.email])
    assert {m["message"].get_content().split("\n")[0] for m in smtp.received} == {"A worker asked for help."}


def test_unacknowledged_alert_escalates_once_to_team_and_admins_on_the_clock(staff_app, smtp, push, team, other_team,
                                                                             person, coordinator, make_user):
    opt_in(coordinator, push, by_push=True)
    second = make_user("coordinator", team=team)  # no choice: email on escalation
    admin = make_user("admin", team=None)
    outsider = make_user("coordinator", team=other_team)
    with write_transaction():
        alert = alerts.raise_alert("concern", team, subject_uuid=str(uuid.uuid4()), person=person, now=T0)
        acked = alerts.raise_alert("concern", team, subject_uuid=str(uuid.uuid4()), person=person, now=T0)
        alerts.acknowledge(acked, coordinator, note="Called them", now=T0 + dt.timedelta(minutes=5))
    assert one_pass(staff_app, T0)["sent"] == 2  # the two raised alerts to the opted-in browser
    early = one_pass(staff_app, T0 + dt.timedelta(minutes=119))
    assert early["escalate_due"] == 0 and early["claimed"] == 0
    late = one_pass(staff_app, T0 + dt.timedelta(minutes=121))
    assert late["escalate_due"] == 1
    assert StaffAlert.get_by_id(alert.id).escalated_at == T0 + dt.timedelta(minutes=121)
    assert StaffAlert.get_by_id(acked.id).escalated_at is None
    bodies = [p["payload"]["body"] for p in push.received]
    assert bodies[-1] == "Not acknowledged after 121 minutes. A serious concern needs review."
    emails = sorted(m["to"][0] for m in smtp.received)
    assert emails == sorted([second.email, admin.email])
    assert outsider.email not in emails
    assert one_pass(staff_app, T0 + dt.timedelta(minutes=200))["escalate_due"] == 0


def test_acknowledge_and_resolve_record_who_what_and_reach_the_visit(staff_app, team, person, worker, coordinator):
    visit = Visit.create(person=person, author=worker, started_at=T0, concern="high", concern_notes="private")
    with write_transaction():
        alert = alerts.raise_alert("concern", team, subject_uuid=str(visit.uuid), person=person, worker=worker,
                                   now=T0)
        rev_before = Visit.get_by_id(visit.id).rev
        alerts.acknowledge(alert, coordinator, outcome="safeguarding", note="Referral made today",
                           now=T0 + dt.timedelta(minutes=30))
    fresh = Visit.get_by_id(visit.id)
    assert fresh.concern_ack_at == T0 + dt.timedelta(minutes=30) and fresh.concern_ack_by_id == coordinator.id
    assert (fresh.concern_ack_note, fresh.concern_outcome) == ("Referral made today", "safeguarding")
    assert fresh.rev > rev_before  # a new change: it syncs to the worker
    with pytest.raises(alerts.AlertError):
        alerts.resolve(alert, coordinator, outcome="")
    with pytest.raises(alerts.AlertError):
        alerts.resolve(alert, coordinator, outcome="made_up")
    with pytest.raises(alerts.AlertError):
        alerts.acknowledge(alert, coordinator, note="x" * 2001)
    with write_transaction():
        alerts.resolve(alert, coordinator, outcome="safeguarding", now=T0 + dt.timedelta(hours=1))
    done = StaffAlert.get_by_id(alert.id)
    assert done.resolved_at == T0 + dt.timedelta(hours=1) and done.resolved_by_id == coordinator.id
    assert done.outcome == "safeguarding" and done.note == "Referral made today"
    assert {"alert.acknowledge", "alert.resolve"} <= {a.action for a in AuditEvent.select()}
    with write_transaction():  # resolved: the same subject may alert again
        again = alerts.raise_alert("concern", team, subject_uuid=str(visit.uuid), now=T0 + dt.timedelta(hours=2))
    assert again.id != alert.id


def test_two_dispatchers_escalate_and_send_each_alert_exactly_once(staff_app, smtp, push, team, person, coordinator,
                                                                   make_user):
    opt_in(coordinator, push, by_push=True, by_email=True)
    admin = make_user("admin", team=None)
    with write_transaction():
        raised = [alerts.raise_alert("concern", team, subject_uuid=str(uuid.uuid4()), now=T0) for _ in range(30)]
    assert one_pass(staff_app, T0)["sent"] == 60
    dbmod.database.close()
    results, barrier = [], threading.Barrier(2)

    def run():
        with notify.Dispatcher.from_app(staff_app, batch_size=7, workers=3, request_timeout=5.0) as d:
            barrier.wait()
            results.append(run_pass(d, T0 + dt.timedelta(hours=3)))
            dbmod.database.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and push.problems == []
    assert sum(r["escalate_due"] for r in results) == 30
    # 30 escalations x (coordinator browser + coordinator email + admin email), each once
    assert sum(r["sent"] for r in results) == 90
    tags = [p["payload"]["tag"] for p in push.received]
    assert len(tags) == 60 and len(set(tags)) == 60
    to_admin = [m for m in smtp.received if m["to"] == [admin.email]]
    assert len(to_admin) == 30
    assert {a.escalated_at for a in StaffAlert.select()} == {T0 + dt.timedelta(hours=3)}
    assert len(raised) == 30


def test_a_serious_concern_pushed_from_the_phone_reaches_the_coordinator_within_one_pass(staff_app, smtp, push, team,
                                                                                         worker, coordinator):
    from sync_support import HttpDevice, mutation, new_id, person_on_caseload, visit_fields

    opt_in(coordinator, push, by_push=True, by_email=True)
    person = person_on_caseload(worker, name="Robin Example")
    device = HttpDevice(staff_app.test_client(), worker)
    [result] = device.push([mutation("visit", new_id(), visit_fields(person.uuid, concern="high",
                                                                       concern_notes="Robin is not safe"))])
    assert result["status"] == "applied"
    sent = one_pass(staff_app, None)
    assert sent["sent"] == 2 and push.problems == []
    [alert] = StaffAlert.select()
    assert push.received[0]["payload"]["url"] == f"/coordinator/alerts/{alert.uuid}"
    [mail] = smtp.received
    assert "Robin" not in mail["message"].get_content() and "Robin" not in json.dumps(push.received[0]["payload"])


def test_a_pass_with_nothing_due_does_not_wait_for_the_write_lock(staff_app, smtp, team, person, coordinator):
    """Most dispatcher passes find nothing to do (no reminder, message, escalation or check-in due): they must not
    queue behind a push for the write lock (on SQLite, the one writer). A writer holds it here until the pass has
    returned; a pass that took it would fail after WRITE_WAIT_SECONDS instead."""
    with write_transaction():
        acked = alerts.raise_alert("concern", team, subject_uuid=str(uuid.uuid4()), person=person, now=T0)
        alerts.acknowledge(acked, coordinator, note="Called them", now=T0 + dt.timedelta(minutes=5))
        alerts.raise_alert("concern", team, subject_uuid=str(uuid.uuid4()), person=person,
                           now=T0 + dt.timedelta(hours=5))  # not due yet
        Reminder.create(person=person, kind="visit_evening", body="", send_at=T0 + dt.timedelta(days=3),
                        visit_at=T0 + dt.timedelta(days=4))
    one_pass(staff_app, T0 + dt.timedelta(minutes=1))  # what the raised alerts queued is sent now
    holding, done, errors = threading.Event(), threading.Event(), []

    def writer():
        try:
            with dbmod.database.connection_context(), write_transaction():
                holding.set()
                done.wait(60)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(30)
        summary = one_pass(staff_app, T0 + dt.timedelta(hours=3))
    finally:
        done.set()
        thread.join(30)
    assert errors == []
    assert summary["escalate_due"] == 0 and summary["claimed"] == 0 and summary["reminders_queued"] == 0
    assert one_pass(staff_app, T0 + dt.timedelta(hours=8))["escalate_due"] == 1  # one due still escalates
