"""Lone working end to end (issue 14), on SQLite and PostgreSQL with a controllable clock: a check-in pushed
from the phone, overdue at its expected end plus the grace -> the worker's own browser is asked "Are you OK?"
(real Web Push encryption to a local push service) -> LONE_ESCALATE_AFTER_MINUTES later the team's coordinators
are alerted by push and email (aiosmtpd) with no names or places -> a coordinator resolves it on the page; a
check-out that arrives after the alert closes it and the page says so; two dispatchers prompt and escalate
each check-in exactly once; bad input on every endpoint is a clear 4xx."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from notify_fakes import SmtpFake
from reminder_push_endpoint import PushEndpoint
from sync_support import HttpDevice, mutation, new_id, person_on_caseload
from test_coordinator_common import post, sign_in

from server import db as dbmod
from server import notify
from server.db import utcnow, write_transaction
from server.models import AuditEvent, CheckIn, OutboxMessage, StaffAlert, StaffAlertChoice, User
from server.reminders.dispatch import run_pass
from server.work_phone import PhoneError, clean_work_phone

MIN = dt.timedelta(minutes=1)


@pytest.fixture
def smtp():
    fake = SmtpFake()
    yield fake
    fake.close()


@pytest.fixture
def staff_app(app, make_app, smtp):
    return make_app(SMTP_URL=smtp.url, SMTP_FROM="alerts@alongside.example", LONE_GRACE_MINUTES=15,
                    LONE_ESCALATE_AFTER_MINUTES=15)


@pytest.fixture
def push(app):
    cfg = app.config["ALONGSIDE"]
    endpoint = PushEndpoint(cfg.extra["VAPID_PUBLIC_KEY"], cfg.VAPID_SUBJECT)
    yield endpoint
    endpoint.close()


@pytest.fixture
def t0():
    """The visit's start: three hours ago, so every step of the clock below is already in the past."""
    return (utcnow() - dt.timedelta(hours=3)).replace(second=0, microsecond=0)


def iso(value: dt.datetime) -> str:
    return value.isoformat() + "+00:00"


def one_pass(app, now):
    with notify.Dispatcher.from_app(app, request_timeout=5.0) as d:
        return run_pass(d, now)


def phone_with_push(app, worker, push) -> HttpDevice:
    phone = HttpDevice(app.test_client(), worker)
    response = phone.client.post("/api/v1/me/push-subscription", json={"subscription": push.new_subscription()},
                                 headers={"X-CSRF-Token": phone.csrf})
    assert response.status_code == 201, response.get_json()
    return phone


def check_in(phone, person, t0, **extra) -> str:
    cid = new_id()
    [result] = phone.push([mutation("check_in", cid, {
        "person_id": str(person.uuid), "started_at": iso(t0), "expected_end_at": iso(t0 + 60 * MIN),
        "place": "Flat 2, Elm Street", **extra})])
    assert result["status"] == "applied", result
    return cid


def pulled(phone, cid) -> dict:
    phone.pull_all()
    return phone.records[("check_in", cid)]["fields"]


def overdue_to_escalation(staff_app, push, smtp, phone, cid, t0):
    assert one_pass(staff_app, t0 + 74 * MIN)["overdue_pass"] == 0  # within the grace: nothing yet
    prompted = one_pass(staff_app, t0 + 75 * MIN)
    assert prompted["overdue_pass"] == 1 and prompted["sent"] == 1 and push.problems == []
    [got] = push.received
    assert got["payload"]["body"] == "Are you OK? Tap to check out."
    assert got["payload"]["url"] == f"/app/check-in/{cid}" and got["urgency"] == "high"
    assert pulled(phone, cid)["status"] == "prompted"
    assert one_pass(staff_app, t0 + 89 * MIN)["overdue_pass"] == 0
    assert smtp.received == []
    escalated = one_pass(staff_app, t0 + 90 * MIN)
    assert escalated["overdue_pass"] == 1
    alert = StaffAlert.get((StaffAlert.kind == "lone_overdue") & (StaffAlert.subject_uuid == cid))
    assert pulled(phone, cid)["status"] == "escalated"
    return alert


def test_overdue_prompts_the_worker_then_alerts_coordinators_then_resolved(staff_app, smtp, push, t0, team, worker,
                                                                           coordinator, make_user):
    other = make_user("coordinator", team=team, name="Second Coordinator")
    with write_transaction():  # the first coordinator chose push and email; `other` chose nothing
        notify.save_push_subscription(notify.clean_subscription(push.new_subscription(), notify.current()),
                                      user=coordinator)
        StaffAlertChoice.create(user=coordinator, by_push=True, by_email=True)
        User.update(work_phone="07700 900123").where(User.id == worker.id).execute()
    person = person_on_caseload(worker, "Robin Example")
    phone = phone_with_push(staff_app, worker, push)
    cid = check_in(phone, person, t0)
    alert = overdue_to_escalation(staff_app, push, smtp, phone, cid, t0)
    assert alert.worker_id == worker.id and alert.person_id == person.id and alert.team_id == team.id
    to_coordinator = [p for p in push.received if p["payload"]["body"] != "Are you OK? Tap to check out."]
    assert [p["payload"]["body"] for p in to_coordinator] == ["A lone worker has not checked out."]
    [mail] = smtp.received
    assert mail["to"] == [coordinator.email] and other.email not in mail["to"]
    body = mail["message"].get_content()
    for secret in ("Robin", worker.name, "Flat 2", "Elm", "07700"):  # no names, places or numbers leave
        assert secret not in body and all(secret not in json.dumps(p["payload"]) for p in push.received)

    pages = sign_in(staff_app.test_client(), coordinator)
    linked = pages.get(f"/coordinator/alerts/{alert.uuid}").get_data(as_text=True)  # where the messages link
    for shown in (worker.name, "07700 900123", "Flat 2, Elm Street", f"/coordinator/lone-working?focus={cid}"):
        assert shown in linked, shown
    html = pages.get(f"/coordinator/lone-working?focus={cid}").get_data(as_text=True)
    for shown in (worker.name, "07700 900123", 'href="tel:07700900123"', "Flat 2, Elm Street", "Robin Example",
                  "Escalated: coordinators alerted", "Mark resolved"):
        assert shown in html, shown
    assert post(pages, f"/coordinator/lone-working/{cid}/resolve", {"outcome": "made_up"}).status_code == 400
    assert post(pages, f"/coordinator/lone-working/{cid}/resolve",
                {"outcome": "safe", "note": "x" * 2001}).status_code == 400
    done = post(pages, f"/coordinator/lone-working/{cid}/resolve", {"outcome": "safe", "note": "Phone had died"})
    assert done.status_code == 302
    row = CheckIn.get(CheckIn.uuid == cid)
    assert (row.status, row.place, row.outcome, row.resolved_by_id) == ("resolved", None, "safe", coordinator.id)
    alert = StaffAlert.get_by_id(alert.id)
    assert alert.resolved_at is not None and alert.outcome == "safe"
    assert pulled(phone, cid)["status"] == "resolved" and pulled(phone, cid)["place"] is None
    again = post(pages, f"/coordinator/lone-working/{cid}/resolve", {"outcome": "safe"})
    assert again.status_code == 400 and "already closed" in again.get_data(as_text=True)
    assert "Resolved: Reached the worker: they are safe" in pages.get("/coordinator/lone-working").get_data(
        as_text=True)
    actions = [a.action for a in AuditEvent.select().where(AuditEvent.record_id == cid).order_by(AuditEvent.id)]
    assert actions[:2] == ["checkin.prompt", "checkin.escalate"] and "checkin.resolve" in actions
    assert one_pass(staff_app, t0 + 200 * MIN)["overdue_pass"] == 0  # once


def test_a_check_out_after_the_alert_closes_it_and_the_page_says_so(staff_app, smtp, push, t0, team, worker,
                                                                   coordinator):
    person = person_on_caseload(worker, "Robin Example")
    phone = phone_with_push(staff_app, worker, push)
    cid = check_in(phone, person, t0)
    alert = overdue_to_escalation(staff_app, push, smtp, phone, cid, t0)
    assert [m["to"] for m in smtp.received] == [[coordinator.email]]  # nobody chose: every coordinator by email
    rev = pulled(phone, cid) and phone.records[("check_in", cid)]["rev"]
    [out] = phone.push([mutation("check_in", cid, {"checked_out_at": iso(t0 + 100 * MIN)}, base_rev=rev)])
    assert out["status"] == "applied", out
    row = CheckIn.get(CheckIn.uuid == cid)
    assert (row.status, row.place) == ("closed", None) and row.checked_out_received_at is not None
    alert = StaffAlert.get_by_id(alert.id)
    assert alert.resolved_at is not None and alert.outcome == "checked_out" and alert.resolved_by_id == worker.id
    told = one_pass(staff_app, utcnow() + MIN)
    assert told["sent"] == 1
    assert smtp.received[-1]["message"].get_content().startswith(
        "The lone worker you were alerted about has now checked out.")
    pages = sign_in(staff_app.test_client(), coordinator)
    html = pages.get("/coordinator/lone-working").get_data(as_text=True)
    local = (t0 + 100 * MIN).replace(tzinfo=dt.UTC).astimezone(__import__("zoneinfo").ZoneInfo("Europe/London"))
    assert f"Checked out at {local:%H:%M}, after the alert" in html
    assert "Flat 2" not in html
    assert pulled(phone, cid)["status"] == "closed"
    assert "checkin.late_checkout" in {a.action for a in AuditEvent.select().where(AuditEvent.record_id == cid)}
    # The check-out is kept: sending it again, or an old place, changes nothing.
    [again] = phone.push([mutation("check_in", cid, {"place": "Back again", "checked_out_at": None})])
    assert again["status"] == "applied"
    assert CheckIn.get(CheckIn.uuid == cid).place is None and CheckIn.get(CheckIn.uuid == cid).status == "closed"


def test_on_time_check_out_and_more_time_prompt_nobody(staff_app, smtp, push, t0, worker, coordinator):
    person = person_on_caseload(worker)
    phone = phone_with_push(staff_app, worker, push)
    done = check_in(phone, person, t0)
    [out] = phone.push([mutation("check_in", done, {"checked_out_at": iso(t0 + 50 * MIN)})])
    assert out["status"] == "applied"
    longer = check_in(phone, person, t0)
    assert one_pass(staff_app, t0 + 75 * MIN)["overdue_pass"] == 1  # `longer` is prompted
    [more] = phone.push([mutation("check_in", longer, {"expected_end_at": iso(t0 + 150 * MIN)})])
    assert more["status"] == "applied"
    assert CheckIn.get(CheckIn.uuid == longer).status == "open"  # asked for more time before any alert
    assert one_pass(staff_app, t0 + 100 * MIN)["overdue_pass"] == 0
    assert StaffAlert.select().count() == 0 and smtp.received == []
    offline = check_in(phone, person, t0, checked_out_at=iso(t0 + 40 * MIN))  # started and ended without signal
    assert CheckIn.get(CheckIn.uuid == offline).status == "closed"
    assert CheckIn.get(CheckIn.uuid == offline).place is None


def test_two_dispatchers_prompt_and_escalate_each_check_in_exactly_once(staff_app, smtp, push, t0, team,
                                                                       coordinator, make_user):
    workers = [make_user("peer_worker", team=team) for _ in range(6)]
    for w in workers:
        person = person_on_caseload(w)
        with write_transaction():
            notify.save_push_subscription(notify.clean_subscription(push.new_subscription(), notify.current()),
                                          user=w)
            CheckIn.create(person=person, worker=w, team=team, started_at=t0, expected_end_at=t0 + 60 * MIN,
                           place="Somewhere")
    dbmod.database.close()

    def race(now):
        results, barrier = [], threading.Barrier(2)

        def run():
            with notify.Dispatcher.from_app(staff_app, batch_size=3, workers=2, request_timeout=5.0) as d:
                barrier.wait()
                results.append(run_pass(d, now))
                dbmod.database.close()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(results) == 2
        return results

    prompts = race(t0 + 80 * MIN)
    assert sum(r["overdue_pass"] for r in prompts) == 6 and sum(r["sent"] for r in prompts) == 6
    assert len(push.received) == 6 and len({p["sub"] for p in push.received}) == 6 and push.problems == []
    escalations = race(t0 + 100 * MIN)
    assert sum(r["overdue_pass"] for r in escalations) == 6
    assert StaffAlert.select().where(StaffAlert.kind == "lone_overdue").count() == 6
    assert len(smtp.received) == 6 and {m["to"][0] for m in smtp.received} == {coordinator.email}
    assert OutboxMessage.select().where(OutboxMessage.template == "lone_check_out_prompt").count() == 6


def test_help_raises_an_urgent_alert_once(staff_app, smtp, push, t0, team, worker, coordinator):
    person = person_on_caseload(worker)
    phone = phone_with_push(staff_app, worker, push)
    cid = check_in(phone, person, t0)
    headers = {"X-CSRF-Token": phone.csrf}
    first = phone.client.post("/api/v1/safety/help", json={"check_in_id": cid}, headers=headers)
    assert first.status_code == 201, first.get_json()
    again = phone.client.post("/api/v1/safety/help", json={"check_in_id": cid}, headers=headers)
    assert again.get_json()["alert_id"] == first.get_json()["alert_id"]  # pressed twice: one alert
    assert first.get_json()["emergency"] == "999"
    [alert] = StaffAlert.select().where(StaffAlert.kind == "help")
    assert alert.worker_id == worker.id and alert.person_id == person.id
    one_pass(staff_app, utcnow() + MIN)
    [mail] = smtp.received
    assert mail["to"] == [coordinator.email]
    assert mail["message"].get_content().startswith("A worker asked for help.")
    without = phone.client.post("/api/v1/safety/help", json={}, headers=headers)
    assert without.status_code == 201


def test_work_phone_shape_users_page_and_contacts(staff_app, team, worker, coordinator, make_user):
    assert clean_work_phone(" 07700  900123 ") == "07700 900123"
    assert clean_work_phone("+44 (0)20-7946 0958") == "+44 (0)20-7946 0958"
    assert clean_work_phone("") == ""
    for bad in ("12345", "0770090012345", "+0 123", "call me", "07700 900123 ext 4", "+" + "1" * 16, "0" * 31):
        with pytest.raises(PhoneError):
            clean_work_phone(bad)
    pages = sign_in(staff_app.test_client(), coordinator)
    url = f"/coordinator/users/{worker.uuid}/work-phone"
    refused = post(pages, url, {"work_phone": "not a number"})
    assert refused.status_code == 400 and "Work phone" in refused.get_data(as_text=True)
    assert post(pages, url, {"work_phone": "07700 900123"}).status_code == 302
    assert User.get_by_id(worker.id).work_phone == "07700 900123"
    assert "07700 900123" in pages.get(f"/coordinator/users/{worker.uuid}").get_data(as_text=True)
    assert post(pages, f"/coordinator/users/{coordinator.uuid}/work-phone",
                {"work_phone": "+44 7700 900999"}).status_code == 302  # their own
    admin = make_user("admin", team=None)
    assert post(pages, f"/coordinator/users/{admin.uuid}/work-phone", {"work_phone": "07700 900000"}).status_code \
        in (403, 404)

    phone = HttpDevice(staff_app.test_client(), worker)
    headers = {"X-CSRF-Token": phone.csrf}
    contacts = phone.client.get("/api/v1/me/contacts").get_json()
    assert contacts["coordinators"] == [{"name": coordinator.name, "work_phone": "+44 7700 900999",
                                         "tel": "+447700900999"}]
    assert contacts["emergency"] == "999" and contacts["my_work_phone"] == "07700 900123"
    assert contacts["vapid_public_key"]
    bad = phone.client.put("/api/v1/me/work-phone", json={"work_phone": "123"}, headers=headers)
    assert bad.status_code == 422 and "UK number" in bad.get_json()["message"]
    ok = phone.client.put("/api/v1/me/work-phone", json={"work_phone": "07700 900124"}, headers=headers)
    assert ok.status_code == 200 and User.get_by_id(worker.id).work_phone == "07700 900124"


def test_bad_input_is_a_clear_refusal(staff_app, t0, team, other_team, worker, make_user):
    person = person_on_caseload(worker)
    phone = HttpDevice(staff_app.test_client(), worker)
    headers = {"X-CSRF-Token": phone.csrf}
    base = {"person_id": str(person.uuid), "started_at": iso(t0), "expected_end_at": iso(t0 + 60 * MIN)}
    cases = [
        ({**base, "expected_end_at": iso(t0)}, "expected_end_at", "after the start"),
        ({**base, "expected_end_at": iso(t0 + 13 * 60 * MIN)}, "expected_end_at", "within 12 hours"),
        ({**base, "place": "x" * 201}, "place", "200"),
        ({key: v for key, v in base.items() if key != "expected_end_at"}, "expected_end_at", "required"),
        ({**base, "status": "closed"}, "status", "Set by the server"),
        ({**base, "person_id": new_id()}, "person_id", "No such person"),
        ({**base, "visit_id": new_id()}, "visit_id", "No visit"),
    ]
    for fields, name, words in cases:
        [result] = phone.push([mutation("check_in", new_id(), fields)])
        assert result["status"] == "rejected", (fields, result)
        assert words in " ".join(result["errors"][name]), result
    cid = new_id()
    assert phone.push([mutation("check_in", cid, base)])[0]["status"] == "applied"
    [gone] = phone.push([mutation("check_in", cid, {}, op="delete")])
    assert gone["status"] == "rejected" and "check out instead" in gone["errors"]["op"][0]
    stranger = HttpDevice(staff_app.test_client(), make_user("peer_worker", team=team))
    [theirs] = stranger.push([mutation("check_in", cid, {"checked_out_at": iso(t0 + 30 * MIN)})])
    assert theirs["status"] == "rejected" and theirs["code"] == "forbidden"
    assert all(c["entity"] != "check_in" for c in stranger.pull_all())  # only the worker pulls their check-ins

    for body in ({"check_in_id": "nope"}, {"check_in_id": 5}, {"other": 1}, []):
        response = phone.client.post("/api/v1/safety/help", json=body, headers=headers)
        assert response.status_code == 422, (body, response.get_json())
    mine_not = stranger.client.post("/api/v1/safety/help", json={"check_in_id": cid},
                                    headers={"X-CSRF-Token": stranger.csrf})
    assert mine_not.status_code == 404
    for body in ({}, {"subscription": "x"}, {"subscription": {"endpoint": "http://evil.example/x", "keys": {}}}):
        response = phone.client.post("/api/v1/me/push-subscription", json=body, headers=headers)
        assert response.status_code == 422, (body, response.get_json())
    for body in ({}, {"work_phone": 7}, {"work_phone": "x" * 40}):
        assert phone.client.put("/api/v1/me/work-phone", json=body, headers=headers).status_code == 422
    anonymous = staff_app.test_client()
    for method, url in (("get", "/api/v1/me/contacts"), ("post", "/api/v1/safety/help"),
                        ("post", "/api/v1/me/push-subscription"), ("put", "/api/v1/me/work-phone")):
        assert getattr(anonymous, method)(url, json={}).status_code in (401, 403)
    no_team = HttpDevice(staff_app.test_client(), make_user("admin", team=None))
    assert no_team.client.post("/api/v1/safety/help", json={},
                               headers={"X-CSRF-Token": no_team.csrf}).status_code == 409


def test_closing_the_alert_on_the_alert_page_resolves_the_check_in(staff_app, smtp, push, t0, worker, coordinator):
    person = person_on_caseload(worker)
    phone = phone_with_push(staff_app, worker, push)
    cid = check_in(phone, person, t0)
    alert = overdue_to_escalation(staff_app, push, smtp, phone, cid, t0)
    pages = sign_in(staff_app.test_client(), coordinator)
    closed = post(pages, f"/coordinator/alerts/{alert.uuid}/resolve", {"outcome": "other", "note": "Rang her"})
    assert closed.status_code == 302
    assert one_pass(staff_app, t0 + 95 * MIN)["overdue_pass"] == 1
    row = CheckIn.get(CheckIn.uuid == cid)
    assert (row.status, row.place, row.outcome, row.resolution_note) == ("resolved", None, "other", "Rang her")
    assert pulled(phone, cid)["status"] == "resolved"
    assert one_pass(staff_app, t0 + 96 * MIN)["overdue_pass"] == 0


def test_another_teams_coordinator_sees_and_resolves_nothing(staff_app, t0, team, other_team, worker, coordinator,
                                                            make_user):
    person = person_on_caseload(worker, "Robin Example")
    phone = HttpDevice(staff_app.test_client(), worker)
    cid = check_in(phone, person, t0)
    outsider = sign_in(staff_app.test_client(), make_user("coordinator", team=other_team))
    page = outsider.get(f"/coordinator/lone-working?focus={cid}")
    assert page.status_code == 200 and worker.name not in page.get_data(as_text=True)
    assert "Flat 2" not in page.get_data(as_text=True)
    assert post(outsider, f"/coordinator/lone-working/{cid}/resolve", {"outcome": "safe"}).status_code == 404
    assert post(outsider, "/coordinator/lone-working/not-an-id/resolve", {"outcome": "safe"}).status_code == 404
    mine = sign_in(staff_app.test_client(), coordinator)
    html = mine.get("/coordinator/lone-working?focus=nonsense").get_data(as_text=True)
    assert worker.name in html and "Out on a visit" in html
    assert CheckIn.get(CheckIn.uuid == cid).status == "open"
    admin = sign_in(staff_app.test_client(), make_user("admin", team=None))
    assert worker.name in admin.get("/coordinator/lone-working").get_data(as_text=True)  # admins: every team
