"""The subject access export (issue 16, part 4) is streamed and set-based: both forms arrive in pieces and end
with an explicit end mark; the number of queries does not grow with the record (a query per section, never per
visit, goal or rating); the page and the JSON hold the same sections, the kept edit conflicts included."""

from __future__ import annotations

import json

from test_coordinator_common import make_goal, make_person, make_progress, make_visit, sign_in

from server.db import database, utcnow, write_transaction
from server.models import Conflict, Review
from server.sync.revisions import next_rev


def grow(person, worker, coordinator, visits: int):
    for i in range(visits):
        visit = make_visit(person, worker, notes=f"note {i}", wellbeing=i % 11)
        goal = make_goal(person, worker, title=f"goal {i}")
        make_progress(goal, visit, worker, i % 11, utcnow())
        with write_transaction():
            Review.create(visit=visit, reviewer=coordinator, comment=f"feedback {i}", rev=next_rev())


def count_queries(client, url: str) -> tuple[int, bytes, bool]:
    seen = []
    real = type(database.obj).execute_sql

    def spy(self, sql, params=None, *args, **kwargs):
        seen.append(sql)
        return real(self, sql, params, *args, **kwargs)

    type(database.obj).execute_sql = spy
    try:
        response = client.get(url)
        streamed = response.is_streamed  # before reading: reading makes the body a list
        body = response.get_data()
    finally:
        type(database.obj).execute_sql = real
    assert response.status_code == 200
    return len(seen), body, streamed


def test_the_export_is_streamed_and_its_queries_do_not_grow_with_the_record(client, coordinator, worker):
    small = make_person(coordinator.team, worker, name="Small Record")
    large = make_person(coordinator.team, worker, name="Large Record")
    grow(small, worker, coordinator, 2)
    grow(large, worker, coordinator, 12)
    sign_in(client, coordinator)
    for suffix in ("record", "record.json"):
        n_small, _, streamed = count_queries(client, f"/coordinator/people/{small.uuid}/{suffix}")
        n_large, body, _ = count_queries(client, f"/coordinator/people/{large.uuid}/{suffix}")
        assert streamed and n_small == n_large, (suffix, n_small, n_large)
        text = body.decode()
        assert "feedback 11" in text and "goal 11" in text and "Small Record" not in text
    data = json.loads(text)
    assert data["complete"] is True and len(data["visits"]) == 12 and len(data["goals"]) == 12
    assert all(len(v["feedback"]) == 1 for v in data["visits"]) and all(len(g["ratings"]) == 1 for g in data["goals"])
    assert [v["notes"] for v in data["visits"]] == [f"note {i}" for i in range(12)]  # oldest first


def test_page_and_json_hold_the_same_sections_and_end_marks(client, coordinator, worker):
    ann = make_person(coordinator.team, worker, name="Ann Example")
    with write_transaction():
        Conflict.create(person=ann, entity="person", record_id=ann.uuid, field="preferred_contact",
                        kept_value='"KEPT-VALUE"', lost_value='"LOST-VALUE"', rev=next_rev())
    sign_in(client, coordinator)
    page = client.get(f"/coordinator/people/{ann.uuid}/record").get_data(as_text=True)
    data = json.loads(client.get(f"/coordinator/people/{ann.uuid}/record.json").get_data(as_text=True))
    assert list(data) == ["made", "person", "visits", "goals", "referrals", "reminders", "consents",
                          "contact_details_for_reminders", "kept_edits", "viewed_by", "complete"]
    assert data["kept_edits"][0]["overwritten"] == '"LOST-VALUE"'
    assert "LOST-VALUE" in page and "KEPT-VALUE" in page and "Changes made on two phones at once" in page
    assert page.rstrip().endswith("</html>") and 'id="end-of-record"' in page
    assert "No visits." in page and "No goals." in page
