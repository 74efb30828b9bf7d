"""Issue 15 on the server's coordinator side (contract C): a voided visit leaves the review queue, its count and the
reports and exports; a visit its author edited after review is back in the queue, and bulk review signs it off
again. Real SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from test_coordinator_common import make_person, make_visit, post, sign_in

from server.coordinator.dashboard import summary
from server.db import utcnow, write_transaction
from server.models import Visit
from server.sync.revisions import stamp_values
from server.visit_state import changed_since_review, counted, needs_review, voided_words


def _set(visit, **values):
    with write_transaction():
        Visit.update(**values, **stamp_values(visit, ())).where(Visit.id == visit.id).execute()
    return Visit.get_by_id(visit.id)


def test_voided_and_changed_visits_in_queue_counts_and_exports(app, client, coordinator, worker):
    dee = make_person(coordinator.team, worker, name="Dee")
    now = utcnow()
    plain = make_visit(dee, worker, when=now - dt.timedelta(days=3))
    voided = make_visit(dee, worker, when=now - dt.timedelta(days=2))
    edited = make_visit(dee, worker, when=now - dt.timedelta(days=1))
    voided = _set(voided, voided_at=now, voided_reason="Logged twice")
    edited = _set(edited, reviewed_at=now - dt.timedelta(hours=2))
    assert not changed_since_review(edited)
    edited = _set(edited, edited_at=now - dt.timedelta(hours=1))
    assert changed_since_review(edited) and voided_words(voided) == "Voided by the worker: Logged twice"
    assert voided_words(plain) == ""

    assert {v.id for v in Visit.select().where(needs_review())} == {plain.id, edited.id}
    assert {v.id for v in Visit.select().where(counted())} == {plain.id, edited.id}
    sign_in(client, coordinator)
    with app.test_request_context():
        from flask_login import login_user

        login_user(coordinator)
        assert summary()["unreviewed"] == 2

    html = client.get("/coordinator/review?unreviewed=1").get_data(as_text=True)
    assert str(plain.uuid) in html and str(edited.uuid) in html and str(voided.uuid) not in html
    today = utcnow().date()
    period = f"?from={today - dt.timedelta(days=30)}&to={today}"
    csv = client.get("/coordinator/exports/visits.csv" + period).get_data(as_text=True)
    assert str(plain.uuid) in csv and str(voided.uuid) not in csv

    assert post(client, "/coordinator/review/bulk", {"visit": [str(edited.uuid), str(voided.uuid)]}).status_code == 302
    edited = Visit.get_by_id(edited.id)
    assert not changed_since_review(edited)  # signed off again
    assert Visit.get_by_id(voided.id).reviewed_at is None  # a voided visit is not reviewed
    html = client.get("/coordinator/review?unreviewed=1").get_data(as_text=True)
    assert str(edited.uuid) not in html and str(plain.uuid) in html
