"""Who may see which person, through every entry point (issue 11): one rule, server/sync/scope.py.

A person on a worker's caseload in team A, with a visit (a serious concern), a goal and a referral. Each role
below (a colleague in the same team is not assigned) goes through every way in: sync push and pull, the invites
API, every coordinator page and export that shows a person's records. Expected: the assigned worker and
their own team's coordinator see them; a coordinator of another team sees nothing (404, or simply absent from
lists and exports); an admin sees every team."""

from __future__ import annotations

import datetime as dt

import pytest
from sync_support import HttpDevice, mutation, new_id, visit_fields
from test_coordinator_common import make_goal, make_person, make_resource, make_visit, sign_in

from server.db import utcnow, write_transaction
from server.models import Referral, Team
from server.sync.revisions import next_rev

NAME = "Sam Scopewell"
SEES = {"worker": True, "colleague": False, "coordinator": True, "other_coordinator": False, "admin": True}


@pytest.fixture
def world(app, make_user):
    team_a, team_b = Team.create(name="Team A"), Team.create(name="Team B")
    worker = make_user("peer_worker", team=team_a)
    person = make_person(team_a, worker, name=NAME)
    visit = make_visit(person, worker, concern="high", concern_notes="worried")
    goal = make_goal(person, worker)
    with write_transaction():
        referral = Referral.create(person=person, resource=make_resource(), created_by=worker, rev=next_rev())
    users = {"worker": worker, "colleague": make_user("peer_worker", team=team_a),
             "coordinator": make_user("coordinator", team=team_a),
             "other_coordinator": make_user("coordinator", team=team_b), "admin": make_user("admin")}
    return {"users": users, "person": person, "visit": visit, "goal": goal, "referral": referral}


def _coordinator_pages(client, world) -> dict[str, bool]:
    """What each coordinator page and export shows of the person: True if it shows them."""
    person, visit = world["person"], world["visit"]
    pid, vid = str(person.uuid), str(visit.uuid)
    today = utcnow().date()
    period = f"from={today - dt.timedelta(days=30)}&to={today}"
    seen = {
        "person page": client.get(f"/coordinator/people/{pid}").status_code == 200,
        "person edit form": client.get(f"/coordinator/people/{pid}/edit").status_code == 200,
        "visit page": client.get(f"/coordinator/visits/{vid}").status_code == 200,
        "people list": NAME in client.get("/coordinator/people?q=Scopewell").get_data(as_text=True),
        "review queue": vid in client.get("/coordinator/review").get_data(as_text=True),
        "concerns": vid in client.get("/coordinator/concerns?show=all").get_data(as_text=True),
    }
    for kind, record in (("visits", visit), ("contacts", visit), ("goals", world["goal"]),
                         ("referrals", world["referral"])):
        response = client.get(f"/coordinator/exports/{kind}.csv?{period}")
        assert response.status_code == 200
        seen[f"{kind} export"] = str(record.uuid) in response.get_data(as_text=True)
    return seen


@pytest.mark.parametrize("role", list(SEES))
def test_every_entry_point_applies_the_one_rule(app, world, role):
    user, person, sees = world["users"][role], world["person"], SEES[role]
    phone = HttpDevice(app.test_client(), user)

    [result] = phone.push([mutation("visit", new_id(), visit_fields(person.uuid))])
    assert result["status"] == ("applied" if sees else "rejected"), result
    phone.pull_all()
    assert (str(person.uuid) in phone.ids("person")) is sees
    assert (str(world["visit"].uuid) in phone.ids("visit")) is sees
    reminders = phone.client.get(f"/api/v1/invites/people/{person.uuid}")
    assert reminders.status_code == (200 if sees else 404)

    pages = app.test_client()
    if role in ("worker", "colleague"):  # a peer worker has no coordinator pages at all
        pages.post("/api/v1/auth/login", json={"email": user.email, "password": "correct-horse-battery"})
        assert pages.get(f"/coordinator/people/{person.uuid}").status_code in (302, 403)
        return
    sign_in(pages, user)
    seen = _coordinator_pages(pages, world)
    assert seen == dict.fromkeys(seen, sees), seen
