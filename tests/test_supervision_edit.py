"""Correcting and deleting a supervision session (issue 16, part 3): only the coordinator who recorded it (or an
admin) may; the change reaches the worker's phone at the next sync and a deletion leaves the phone; the other
coordinators of the team see the session but cannot change it; another team's answers as for an unknown id;
bad input changes nothing; everything is audited."""

from __future__ import annotations

import datetime as dt

from sync_support import HttpDevice, new_id
from test_coordinator_common import post, sign_in

from server.models import AuditEvent, SupervisionSession


def recorded(client, worker, **fields) -> SupervisionSession:
    data = {"held_on": dt.date.today().isoformat(), "kind": "reflective", "topics": "Boundaries with Sam",
            "actions": "Read the lone working guide", "share_wellbeing": "yes", "wellbeing": "6", **fields}
    assert post(client, f"/coordinator/supervision/worker/{worker.uuid}", data).status_code == 302
    return SupervisionSession.select().order_by(SupervisionSession.id.desc()).first()


def test_the_recorder_corrects_and_deletes_and_the_phone_follows(app, coordinator, worker):
    coord, phone_client = app.test_client(), app.test_client()
    sign_in(coord, coordinator)
    session = recorded(coord, worker)
    phone = HttpDevice(phone_client, worker)
    phone.pull_all()
    assert phone.records[("supervision", str(session.uuid))]["fields"]["topics"] == "Boundaries with Sam"

    base = f"/coordinator/supervision/worker/{worker.uuid}/session"
    page = coord.get(f"/coordinator/supervision/worker/{worker.uuid}").get_data(as_text=True)
    assert f"{base}?id={session.uuid}" in page
    form = coord.get(f"{base}?id={session.uuid}").get_data(as_text=True)
    assert "Boundaries with Sam" in form and 'value="6"' in form
    answer = post(coord, base, {"session_id": str(session.uuid), "held_on": session.held_on.isoformat(),
                                "kind": "group", "topics": "Boundaries, corrected", "actions": ""})
    assert answer.status_code == 302
    changed = SupervisionSession.get_by_id(session.id)
    assert (changed.kind, changed.topics, changed.actions, changed.wellbeing) == ("group", "Boundaries, corrected",
                                                                                  "", None)
    assert changed.rev > session.rev
    phone.pull_all()
    fields = phone.records[("supervision", str(session.uuid))]["fields"]
    assert fields["topics"] == "Boundaries, corrected" and fields["wellbeing"] is None

    assert post(coord, f"{base}/delete", {"session_id": str(session.uuid)}).status_code == 302
    gone = SupervisionSession.get_by_id(session.id)
    assert gone.deleted and gone.topics == "" and gone.wellbeing is None
    phone.pull_all()
    assert str(session.uuid) not in phone.ids("supervision")
    assert coord.get(f"{base}?id={session.uuid}").status_code == 404
    assert "Boundaries" not in coord.get(f"/coordinator/supervision/worker/{worker.uuid}").get_data(as_text=True)
    actions = [e.action for e in AuditEvent.select().where(AuditEvent.record_id == str(session.uuid))]
    assert {"supervision.create", "supervision.view", "supervision.update", "supervision.delete"} <= set(actions)


def test_only_the_recorder_or_an_admin_may_change_it(app, coordinator, worker, make_user, other_team):
    recorder = app.test_client()
    sign_in(recorder, coordinator)
    session = recorded(recorder, worker)
    colleague, stranger, admin = app.test_client(), app.test_client(), app.test_client()
    sign_in(colleague, make_user("coordinator", team=coordinator.team, name="Colleague"))
    sign_in(stranger, make_user("coordinator", team=other_team))
    sign_in(admin, make_user("admin"))
    url = f"/coordinator/supervision/worker/{worker.uuid}/session"
    which = {"session_id": str(session.uuid)}
    seen = colleague.get(f"/coordinator/supervision/worker/{worker.uuid}").get_data(as_text=True)
    assert "Boundaries with Sam" in seen and url not in seen
    assert colleague.get(f"{url}?id={session.uuid}").status_code == 403
    assert post(colleague, url, {**which, "held_on": "2026-01-05", "kind": "group"}).status_code == 403
    assert post(colleague, f"{url}/delete", which).status_code == 403
    assert stranger.get(f"{url}?id={session.uuid}").status_code == 404
    assert post(stranger, f"{url}/delete", which).status_code == 404
    other_worker = make_user("peer_worker", team=coordinator.team)  # the session named under another worker
    assert recorder.get(f"/coordinator/supervision/worker/{other_worker.uuid}/session?id={session.uuid}") \
        .status_code == 404
    assert SupervisionSession.get_by_id(session.id).topics == "Boundaries with Sam"
    assert admin.get(f"{url}?id={session.uuid}").status_code == 200
    assert post(admin, f"{url}/delete", which).status_code == 302 and SupervisionSession.get_by_id(session.id).deleted


def test_bad_input_is_a_clear_error_and_changes_nothing(client, coordinator, worker):
    sign_in(client, coordinator)
    session = recorded(client, worker)
    url = f"/coordinator/supervision/worker/{worker.uuid}/session"
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    for data in ({"held_on": future, "kind": "group"}, {"held_on": "2026-01-05", "kind": "nap"},
                 {"held_on": "2026-01-05", "kind": "group", "share_wellbeing": "yes", "wellbeing": "11"},
                 {"held_on": "not a date", "kind": "group"}):
        assert post(client, url, {"session_id": str(session.uuid), **data}).status_code == 400, data
    assert post(client, f"{url}/delete", {"session_id": new_id()}).status_code == 404
    assert post(client, f"{url}/delete").status_code == 404
    assert client.get(f"{url}?id=not-an-id").status_code == 404 and client.get(url).status_code == 404
    unchanged = SupervisionSession.get_by_id(session.id)
    assert (unchanged.kind, unchanged.wellbeing, unchanged.rev) == ("reflective", 6, session.rev)
