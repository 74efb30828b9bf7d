"""Supervision (issue 16, part 3): a coordinator records a session; the worker's phone pulls their own sessions
only, read-only; another team's coordinator sees nothing; no export holds it; every read and write is audited;
"supervision due" on the start page and coverage on the outcomes report."""

from __future__ import annotations

import datetime as dt

from sync_support import HttpDevice, mutation, new_id
from test_coordinator_common import post, sign_in

from server.db import utcnow
from server.models import AuditEvent, SupervisionSession


def record(client, worker, **fields):
    data = {"held_on": dt.date.today().isoformat(), "kind": "reflective", "topics": "Boundaries with Sam",
            "actions": "Read the lone working guide", **fields}
    return post(client, f"/coordinator/supervision/worker/{worker.uuid}", data)


def test_recorded_session_reaches_only_that_workers_phone(app, coordinator, worker, make_user):
    other = make_user("peer_worker", team=coordinator.team, name="Other Worker")
    coord_client, worker_client, other_client = app.test_client(), app.test_client(), app.test_client()
    sign_in(coord_client, coordinator)
    assert record(coord_client, worker, share_wellbeing="yes", wellbeing="6").status_code == 302
    assert record(coord_client, worker, held_on="2026-01-05", kind="group", wellbeing="9").status_code == 302
    session = SupervisionSession.get(SupervisionSession.kind == "reflective")
    assert session.wellbeing == 6 and session.recorded_by_id == coordinator.id
    assert SupervisionSession.get(SupervisionSession.kind == "group").wellbeing is None  # not shared: not kept
    phone, theirs = HttpDevice(worker_client, worker), HttpDevice(other_client, other)
    phone.pull_all()
    theirs.pull_all()
    mine = {rid: c["fields"] for (entity, rid), c in phone.records.items() if entity == "supervision"}
    assert len(mine) == 2 and mine[str(session.uuid)]["topics"] == "Boundaries with Sam"
    assert mine[str(session.uuid)]["recorded_by"] == "Coordinator One"
    assert not theirs.ids("supervision")
    refused = phone.push([mutation("supervision", session.uuid, {"topics": "changed"})])
    assert refused[0]["status"] == "rejected" and refused[0]["code"] == "forbidden"
    assert {"supervision.create"} <= {e.action for e in AuditEvent.select()}


def test_another_teams_coordinator_sees_nothing(app, client, coordinator, worker, make_user, other_team):
    sign_in(client, coordinator)
    record(client, worker)
    session = SupervisionSession.get()
    stranger = make_user("coordinator", team=other_team)
    outside = app.test_client()
    sign_in(outside, stranger)
    assert outside.get(f"/coordinator/supervision/worker/{worker.uuid}").status_code == 404
    assert post(outside, f"/coordinator/supervision/worker/{worker.uuid}",
                {"held_on": "2026-01-05", "kind": "group"}).status_code == 404
    assert "Worker One" not in outside.get("/coordinator/supervision").get_data(as_text=True)
    own = client.get(f"/coordinator/supervision/worker/{worker.uuid}").get_data(as_text=True)
    assert "Boundaries with Sam" in own and str(session.uuid) in own
    assert AuditEvent.get(AuditEvent.action == "supervision.view").actor_id == coordinator.id


def test_never_in_an_export(client, coordinator, worker):
    sign_in(client, coordinator)
    record(client, worker, topics="SUPERVISION-SECRET", actions="SUPERVISION-ACTION")
    q = f"from={dt.date.today() - dt.timedelta(days=30)}&to={dt.date.today()}"
    for kind in ("visits", "contacts", "goals", "referrals", "outcomes"):
        body = client.get(f"/coordinator/exports/{kind}.csv?{q}").get_data(as_text=True)
        assert "SUPERVISION" not in body, kind


def test_bad_input_is_a_clear_error(client, coordinator, worker):
    sign_in(client, coordinator)
    assert record(client, worker, kind="nap").status_code == 400
    assert record(client, worker, share_wellbeing="yes", wellbeing="11").status_code == 400
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    assert record(client, worker, held_on=future).status_code == 400
    assert record(client, worker, held_on="not a date").status_code == 400
    assert post(client, f"/coordinator/supervision/worker/{new_id()}", {"kind": "group"}).status_code == 404
    assert SupervisionSession.select().count() == 0


def test_due_on_the_start_page_and_coverage(client, coordinator, worker, make_user):
    make_user("peer_worker", team=coordinator.team, name="Second Worker")
    sign_in(client, coordinator)
    home = client.get("/coordinator/").get_data(as_text=True)
    assert '<span class="big">2</span> peer workers due supervision' in home
    record(client, worker)
    home = client.get("/coordinator/").get_data(as_text=True)
    assert '<span class="big">1</span> peer workers due supervision' in home
    today = utcnow().date()
    page = client.get(f"/coordinator/outcomes?from={today - dt.timedelta(days=27)}&to={today}").get_data(as_text=True)
    assert "Supervision coverage" in page and "Second Worker" in page
