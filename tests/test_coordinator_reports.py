"""Reports and exports: the per-worker figures come out as defined on the page, and every CSV matches the
database row for row (and holds nothing of another team)."""

from __future__ import annotations

import csv
import datetime as dt
import io

from test_coordinator_common import (
    make_goal,
    make_person,
    make_progress,
    make_referral,
    make_resource,
    make_visit,
    sign_in,
)

from server.coordinator import exports
from server.coordinator.reports import Scope, build_report
from server.db import utcnow
from server.models import AuditEvent, Goal, Referral, Visit


def rows_of(response) -> list[dict]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def build_team(coordinator, worker, other_worker, other_team, make_user):
    now = utcnow().replace(microsecond=0)
    today = now.date()
    new = make_person(coordinator.team, worker, name="New Person", engagement_start=today - dt.timedelta(days=5))
    old = make_person(coordinator.team, worker, name="Old Person", engagement_start=today - dt.timedelta(days=400))
    theirs = make_person(coordinator.team, other_worker, name="Third Person")
    visits = [
        make_visit(new, worker, when=now - dt.timedelta(days=3), mode="01", attendance="5", duration_minutes=60),
        make_visit(new, worker, when=now - dt.timedelta(days=2), mode="02", attendance="5", duration_minutes=30,
                   concern="low"),
        make_visit(old, worker, when=now - dt.timedelta(days=2), mode="01", attendance="3", duration_minutes=60),
        make_visit(old, worker, when=now - dt.timedelta(days=1), mode="11", attendance="5", duration_minutes=90,
                   group_session=True, wellbeing=6),
        make_visit(theirs, other_worker, when=now - dt.timedelta(days=1), mode="01", attendance="2"),
        make_visit(theirs, other_worker, when=now - dt.timedelta(days=400), mode="01", attendance="5"),  # too old
    ]
    goal = make_goal(new, worker, title="=cmd|' /C calc'!A0")  # a spreadsheet formula must come out inert
    make_goal(old, worker, title="Cook twice a week", status="achieved", achieved_at=now - dt.timedelta(days=1))
    make_progress(goal, visits[0], worker, 3, now - dt.timedelta(days=3))
    make_progress(goal, visits[1], worker, 4, now - dt.timedelta(days=2, hours=1))
    make_progress(goal, visits[1], worker, 7, now - dt.timedelta(days=2))
    cafe = make_resource("Cafe", category="Social connection")
    debt = make_resource("Debt Line", category="Money")
    make_referral(new, cafe, worker, status="attended")
    make_referral(new, debt, worker, status="made")
    make_referral(old, debt, worker, status="not_taken_up")
    make_referral(old, cafe, worker, status="suggested")  # suggestions are not referrals made
    stranger = make_user("peer_worker", team=other_team, name="Other Team Worker")
    outsider = make_person(other_team, stranger, name="Outsider")
    foreign = make_visit(outsider, stranger, when=now - dt.timedelta(days=1))
    make_goal(outsider, stranger, title="Outsider goal")
    make_referral(outsider, cafe, stranger, status="made")
    return {"visits": visits, "foreign": foreign, "today": today}


def test_report_figures_per_worker(app, client, coordinator, worker, make_user, other_team):
    other_worker = make_user("peer_worker", team=coordinator.team, name="Second Worker")
    data = build_team(coordinator, worker, other_worker, other_team, make_user)
    today = data["today"]
    with app.app_context():
        report = build_report(Scope([coordinator.team_id], today - dt.timedelta(days=30), today, "Team A"))
    rows = {r.name: r for r in report["workers"]}
    assert set(rows) == {"Worker One", "Second Worker"}
    one = rows["Worker One"]
    assert one.contacts == 4 and one.by_mode == {"01": 2, "02": 1, "11": 1}
    assert one.by_attendance == {"5": 3, "3": 1} and one.dna_rate == 25.0
    assert one.minutes == 180 and one.hours == 3.0
    assert one.people == 2 and one.new_people == 1
    assert one.goals_set == 2 and one.goals_achieved == 1
    assert one.progress_change == 4.0 and one.progress_goals == 1
    assert one.referrals == 3 and one.referrals_taken_up == 1 and one.take_up_rate == 33.3
    assert one.referrals_by_category == {"Social connection": 1, "Money": 2}
    assert one.concerns == 1
    second = rows["Second Worker"]
    assert second.contacts == 1 and second.by_attendance == {"2": 1} and second.people == 0 and second.minutes == 0
    totals = report["totals"]
    assert totals.contacts == 5 and totals.people == 2 and totals.referrals == 3 and totals.concerns == 1
    assert sum(n for _, n in report["months"]) == 5

    sign_in(client, coordinator)
    html = client.get(f"/coordinator/reports?from={today - dt.timedelta(days=30)}&to={today}").get_data(as_text=True)
    assert "Worker One" in html and "25.0%" in html and "33.3%" in html and "+4.00" in html
    assert "Other Team Worker" not in html
    assert html.count("<svg") == 5 and html.count("<desc") == 5
    assert AuditEvent.select().where(AuditEvent.action == "report.view").count() == 1


def test_csv_exports_match_the_database(client, coordinator, worker, make_user, other_team, monkeypatch):
    other_worker = make_user("peer_worker", team=coordinator.team, name="Second Worker")
    data = build_team(coordinator, worker, other_worker, other_team, make_user)
    today = data["today"]
    monkeypatch.setattr(exports, "CHUNK", 2)  # several keyset pages, including ties on started_at
    sign_in(client, coordinator)
    period = f"?from={today - dt.timedelta(days=30)}&to={today}"

    visits = rows_of(client.get("/coordinator/exports/visits.csv" + period))
    expected = [v for v in data["visits"] if v.started_at >= dt.datetime.combine(today - dt.timedelta(days=31),
                                                                                  dt.time())]
    assert {r["visit_id"] for r in visits} == {str(v.uuid) for v in expected}
    assert len(visits) == len(expected) == 5
    for row in visits:
        v = Visit.get(Visit.uuid == row["visit_id"])
        assert row["person_id"] == str(v.person.uuid) and row["worker_id"] == str(v.author.uuid)
        assert row["mode"] == v.mode and row["attendance"] == v.attendance and row["location_type"] == v.location_type
        assert int(row["duration_minutes"]) == v.duration_minutes and row["concern"] == v.concern
        assert row["group_session"] == ("Y" if v.group_session else "N")
        assert dt.datetime.fromisoformat(row["started_at"]).astimezone(dt.UTC).replace(tzinfo=None) == v.started_at
        assert "notes" not in row
    assert [r["started_at"] for r in visits] == sorted(r["started_at"] for r in visits)

    contacts = rows_of(client.get("/coordinator/exports/contacts.csv" + period))
    assert {r["CareContactId"] for r in contacts} == {str(v.uuid) for v in expected}
    video = next(r for r in contacts if r["ConsMechanismMH"] == "11")
    assert video["GroupTherapyInd"] == "Y" and video["AttendStatus"] == "5" and video["ClinContDurOfCareCont"] == "90"
    assert {r["AttendStatus"] for r in contacts} == {"5", "3", "2"}

    goals = rows_of(client.get("/coordinator/exports/goals.csv" + period))
    in_team = Goal.select().join(Goal.person.rel_model).where(Goal.person.rel_model.team == coordinator.team_id)
    assert {r["goal_id"] for r in goals} == {str(g.uuid) for g in in_team}
    assert any(r["title"] == "'=cmd|' /C calc'!A0" for r in goals)
    assert "Outsider goal" not in str(goals)

    referrals = rows_of(client.get("/coordinator/exports/referrals.csv" + period))
    assert len(referrals) == 4
    for row in referrals:
        r = Referral.get(Referral.uuid == row["referral_id"])
        assert row["status"] == r.status and row["resource_name"] == r.resource.name
        assert row["category"] == r.resource.category and row["person_id"] == str(r.person.uuid)

    for name in ("visits", "contacts", "goals", "referrals"):
        body = client.get(f"/coordinator/exports/{name}.csv{period}").get_data(as_text=True)
        assert str(data["foreign"].uuid) not in body and "Other Team Worker" not in body
    exported = [e.action for e in AuditEvent.select().where(AuditEvent.action.startswith("export."))]
    assert sorted(set(exported)) == ["export.contacts", "export.goals", "export.referrals", "export.visits"]


def test_export_streams_in_pages(client, coordinator, worker, monkeypatch):
    person = make_person(coordinator.team, worker)
    when = utcnow().replace(microsecond=0) - dt.timedelta(hours=5)
    made = {str(make_visit(person, worker, when=when).uuid) for _ in range(7)}  # identical times: ties
    monkeypatch.setattr(exports, "CHUNK", 3)
    sign_in(client, coordinator)
    response = client.get("/coordinator/exports/visits.csv")
    assert response.is_streamed
    assert {r["visit_id"] for r in rows_of(response)} == made
