"""Outcomes (issue 16, part 2): CHIME tags and who rated travel through sync; the team figures against
hand-computed fixtures (the >= 3-point rule); the report page's charts each with a table; the CSV; a person's
wellbeing over time and goal outcomes on their page."""

from __future__ import annotations

import csv
import datetime as dt
import io

from sync_support import HttpDevice, mutation, new_id, person_on_caseload
from test_coordinator_common import (
    make_goal,
    make_person,
    make_progress,
    make_referral,
    make_resource,
    make_visit,
    sign_in,
)

from server.coordinator.outcomes import build_outcomes, classify
from server.coordinator.reports import Scope
from server.db import utcnow
from server.models import AuditEvent, Goal, GoalProgress


def test_chime_tags_and_who_rated_sync(client, worker):
    phone = HttpDevice(client, worker)
    person = person_on_caseload(worker)
    goal_id, rating_id = new_id(), new_id()
    results = phone.push([
        mutation("goal", goal_id, {"person_id": str(person.uuid), "title": "Join the choir",
                                   "chime_tags": ["connectedness", "hope"]}),
        mutation("goal_progress", rating_id, {"goal_id": goal_id, "rating": 4, "rated_by": "together"}),
        mutation("goal", new_id(), {"person_id": str(person.uuid), "title": "x", "chime_tags": ["luck"]}),
        mutation("goal_progress", new_id(), {"goal_id": goal_id, "rating": 4, "rated_by": "coordinator"}),
    ])
    assert [r["status"] for r in results] == ["applied", "applied", "rejected", "rejected"]
    assert "chime_tags.0" in results[2]["errors"] and "rated_by" in results[3]["errors"]
    assert Goal.get(Goal.uuid == goal_id).chime_tags == '["connectedness", "hope"]'
    assert GoalProgress.get(GoalProgress.uuid == rating_id).rated_by == "together"
    phone.pull_all()
    assert phone.records[("goal", goal_id)]["fields"]["chime_tags"] == ["connectedness", "hope"]
    assert phone.records[("goal_progress", rating_id)]["fields"]["rated_by"] == "together"


def test_the_three_point_rule():
    assert [classify(2, 5), classify(2, 4), classify(5, 2), classify(5, 3), classify(7, 7)] == [
        "improved", "unchanged", "worse", "unchanged", "unchanged"]


def build(coordinator, worker, other_team, make_user):
    """Hand-computed: goals A 2->6 improved, B 5->4->6 unchanged (+1), C 8->4 worse, D one rating (not counted),
    E rated before the period then twice in it 3->3 unchanged. Wellbeing: Ann 3,5,7 improved; Bob 6,5 unchanged;
    Cy one score (not counted). CHIME: set in period A(hope, meaning), B(hope), C(); achieved in period: B."""
    now = utcnow().replace(microsecond=0)
    day = dt.timedelta(days=1)
    ann = make_person(coordinator.team, worker, name="Ann")
    bob = make_person(coordinator.team, worker, name="Bob")
    cy = make_person(coordinator.team, worker, name="Cy")
    for person, scores in ((ann, [3, 5, 7]), (bob, [6, None, 5]), (cy, [4])):
        for i, score in enumerate(scores):
            make_visit(person, worker, when=now - (10 - i) * day, wellbeing=score)
    visit = make_visit(ann, worker, when=now - 9 * day)
    a = make_goal(ann, worker, title="A", chime_tags='["hope", "meaning"]')
    b = make_goal(bob, worker, title="B", chime_tags='["hope"]', status="achieved", achieved_at=now - day)
    c = make_goal(bob, worker, title="C")
    d = make_goal(cy, worker, title="D", chime_tags='["identity"]', created_at=now - 400 * day)
    e = make_goal(cy, worker, title="E", created_at=now - 400 * day)
    for goal, ratings in ((a, [2, 6]), (b, [5, 4, 6]), (c, [8, 4]), (d, [9]), (e, [3, 3])):
        for i, rating in enumerate(ratings):
            make_progress(goal, visit, worker, rating, now - (8 - i) * day)
    make_progress(e, visit, worker, 0, now - 300 * day)  # before the period: not its first rating
    cafe, debt = make_resource("Cafe", category="Social"), make_resource("Debt", category="Money")
    make_referral(ann, cafe, worker, status="attended")
    make_referral(bob, cafe, worker, status="made")
    make_referral(bob, debt, worker, status="attended")
    make_referral(cy, debt, worker, status="suggested")
    stranger = make_user("peer_worker", team=other_team)
    outsider = make_person(other_team, stranger, name="Outsider")
    og = make_goal(outsider, stranger, title="O", chime_tags='["hope"]')
    make_progress(og, make_visit(outsider, stranger, wellbeing=1), stranger, 0, now - 5 * day)
    make_progress(og, None, stranger, 10, now - 4 * day)
    return now.date()


def test_team_figures_match_hand_computed(app, coordinator, worker, other_team, make_user):
    today = build(coordinator, worker, other_team, make_user)
    with app.app_context():
        out = build_outcomes(Scope([coordinator.team_id], today - dt.timedelta(days=30), today, "Team A"), True)
    g = out.goals
    assert (g.counted, g.people, g.improved, g.unchanged, g.worse) == (4, 3, 1, 2, 1)
    assert g.pct("improved") == 25.0
    assert sorted((first, latest, change, result) for *_, first, latest, change, result in out.per_goal) == [
        (2, 6, 4, "improved"), (3, 3, 0, "unchanged"), (5, 6, 1, "unchanged"), (8, 4, -4, "worse")]
    w = out.wellbeing
    assert (w.counted, w.improved, w.unchanged, w.worse) == (2, 1, 1, 0)
    assert out.chime_set == {"connectedness": 0, "hope": 2, "identity": 0, "meaning": 1, "empowerment": 0}
    assert out.chime_achieved["hope"] == 1 and sum(out.chime_achieved.values()) == 1
    assert out.referrals == [("Money", 1, 1), ("Social", 2, 1)] or out.referrals == [("Social", 2, 1), ("Money", 1, 1)]


def test_report_page_and_csv(client, coordinator, worker, other_team, make_user):
    today = build(coordinator, worker, other_team, make_user)
    sign_in(client, coordinator)
    q = f"from={today - dt.timedelta(days=30)}&to={today}"
    html = client.get(f"/coordinator/outcomes?{q}").get_data(as_text=True)
    assert "at least 3 points above the first" in html
    for chart in ("chart-goals", "chart-wellbeing", "chart-chime-set", "chart-chime-achieved", "chart-take-up"):
        assert f'id="{chart}" role="img"' in html
    assert html.count("<caption>") >= 8 and "Outsider" not in html
    response = client.get(f"/coordinator/exports/outcomes.csv?{q}")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    figures = {(r["section"], r["measure"]): r for r in rows}
    assert figures[("goals", "improved")]["value"] == "1" and figures[("goals", "improved")]["percent"] == "25.0"
    assert figures[("wellbeing", "counted")]["value"] == "2"
    goals = [r for r in rows if r["section"] == "goal"]
    assert len(goals) == 4 and {r["result"] for r in goals} == {"improved", "unchanged", "worse"}
    actions = {e.action for e in AuditEvent.select()}
    assert {"report.outcomes", "export.outcomes"} <= actions


def test_person_page_shows_wellbeing_over_time_and_goal_outcomes(client, coordinator, worker, other_team, make_user):
    build(coordinator, worker, other_team, make_user)
    sign_in(client, coordinator)
    from server.models import Person

    ann = Person.get(Person.display_name == "Ann")
    html = client.get(f"/coordinator/people/{ann.uuid}").get_data(as_text=True)
    assert 'id="chart-person-wellbeing" role="img"' in html and "Wellbeing over time: the numbers" in html
    assert "+4" in html and "Improved" in html
