"""Issue 15 (contract C) on the coordinator pages: a visit voided by its worker shows "Voided by the worker:
<reason>" and leaves the to-review count, the queue's "to review" filter and the reports; a visit edited after
review shows "Changed since review" and is back in the queue until reviewed again; the person page shows each
goal's ratings over time (SVG and the numbers as a list); the caseload flags two missed visits in a row; moving a
person asks for a handover note that syncs to the new worker; closing records how it ended. Real SQLite and
PostgreSQL; bad input is a 400 that changes nothing."""

from __future__ import annotations

import datetime as dt
import re

from sync_support import HttpDevice
from test_coordinator_common import make_goal, make_person, make_progress, make_visit, post, sign_in

from server.db import utcnow, write_transaction
from server.models import Person, Visit
from server.sync.revisions import next_rev


def _void(visit, reason="Logged for the wrong person"):
    with write_transaction():
        Visit.update(voided_at=utcnow(), voided_reason=reason, rev=next_rev()).where(Visit.id == visit.id).execute()


def _review(visit, when):
    with write_transaction():
        Visit.update(reviewed_at=when, rev=next_rev()).where(Visit.id == visit.id).execute()


def _edit(visit, when):
    with write_transaction():
        Visit.update(edited_at=when, rev=next_rev()).where(Visit.id == visit.id).execute()


def _unreviewed_count(client) -> int:
    html = client.get("/coordinator/").get_data(as_text=True)
    match = re.search(r'class="big">(\d+)</span>\s*visits? (?:not yet reviewed|to review)', html)
    assert match, html[html.find("<main"):][:1500]
    return int(match.group(1))


def test_voided_and_changed_visits_in_the_queue_visit_page_and_reports(client, coordinator, worker):
    sign_in(client, coordinator)
    person = make_person(coordinator.team, worker, name="Robin")
    now = utcnow().replace(microsecond=0)
    plain = make_visit(person, worker, now - dt.timedelta(hours=3), duration_minutes=60)
    voided = make_visit(person, worker, now - dt.timedelta(hours=2), duration_minutes=60)
    changed = make_visit(person, worker, now - dt.timedelta(hours=1), duration_minutes=60)
    before = _unreviewed_count(client)
    assert before == 3
    _void(voided)
    _review(changed, now - dt.timedelta(minutes=30))
    assert _unreviewed_count(client) == 1  # voided leaves the count; reviewed leaves it
    _edit(changed, now - dt.timedelta(minutes=10))
    assert _unreviewed_count(client) == 2  # edited after review: back in

    queue = client.get("/coordinator/review").get_data(as_text=True)
    assert "Voided by the worker: Logged for the wrong person" in queue
    assert "Changed since review" in queue
    assert f'value="{voided.uuid}"' not in queue  # no tick box for a voided visit
    assert f'value="{changed.uuid}"' in queue  # changed since review: can be ticked again
    to_review = client.get("/coordinator/review?unreviewed=1").get_data(as_text=True)
    assert str(voided.uuid) not in to_review and str(changed.uuid) in to_review and str(plain.uuid) in to_review

    page = client.get(f"/coordinator/visits/{voided.uuid}").get_data(as_text=True)
    assert "Voided by the worker: Logged for the wrong person" in page and "Mark as reviewed" not in page
    page = client.get(f"/coordinator/visits/{changed.uuid}").get_data(as_text=True)
    assert "Changed since review" in page and "Mark as reviewed again" in page

    # Reviewing again takes it out of the queue; the phone learns through a new rev.
    rev = Visit.get_by_id(changed.id).rev
    assert post(client, f"/coordinator/visits/{changed.uuid}/review", {"mark_reviewed": ["0", "1"]}).status_code == 302
    again = Visit.get_by_id(changed.id)
    assert again.reviewed_at > again.edited_at and again.rev > rev
    assert "Changed since review" not in client.get(f"/coordinator/visits/{changed.uuid}").get_data(as_text=True)
    # Bulk review skips the voided visit.
    assert post(client, "/coordinator/review/bulk", {"visit": [str(voided.uuid), str(plain.uuid)]}).status_code == 302
    assert Visit.get_by_id(voided.id).reviewed_at is None and Visit.get_by_id(plain.id).reviewed_at is not None
    assert _unreviewed_count(client) == 0
    # A voided visit with nothing to say is a clear 400.
    assert post(client, f"/coordinator/visits/{voided.uuid}/review", {"mark_reviewed": "0"}).status_code == 400

    # Reports count the two visits that stand, not the voided one.
    report = client.get("/coordinator/reports").get_data(as_text=True)
    row = report.split(f"<th scope=\"row\">{worker.name}</th>", 1)[1].split("</tr>", 1)[0]
    assert re.search(r'<td class="num">2</td>', row), row


def test_goal_ratings_over_time_on_the_person_page(client, coordinator, worker):
    sign_in(client, coordinator)
    person = make_person(coordinator.team, worker, name="Kim")
    goal = make_goal(person, worker, title="Walk to the shop")
    unrated = make_goal(person, worker, title="Call my sister")
    now = utcnow().replace(microsecond=0)
    for i, rating in enumerate((2, 4, 5)):
        when = now - dt.timedelta(days=30 - 10 * i)
        make_progress(goal, make_visit(person, worker, when), worker, rating, when)
    wrong = make_visit(person, worker, now - dt.timedelta(days=1))
    make_progress(goal, wrong, worker, 9, now - dt.timedelta(days=1))
    _void(wrong)  # its rating goes with it
    make_progress(goal, None, worker, 6, now)  # rated after a phone call
    html = client.get(f"/coordinator/people/{person.uuid}").get_data(as_text=True)
    svg = html.split(f'<svg class="sparkline" id="goal-{goal.uuid}"', 1)[1].split("</svg>", 1)[0]
    assert svg.count("<circle") == 4 and "Walk to the shop" in svg  # the title names the goal
    ratings = html.split(f'aria-labelledby="ratings-{goal.uuid}"', 1)[1].split("</ol>", 1)[0]
    assert re.findall(r"<strong>(\d+)</strong>", ratings) == ["2", "4", "5", "6"]
    assert f'id="goal-{unrated.uuid}"' not in html and "Not rated yet." in html


def test_two_missed_visits_in_a_row_are_flagged_on_the_caseload(client, coordinator, worker):
    sign_in(client, coordinator)
    flagged = make_person(coordinator.team, worker, name="Morgan", missed_in_a_row=2)
    once = make_person(coordinator.team, worker, name="Pat", missed_in_a_row=1)
    html = client.get("/coordinator/people").get_data(as_text=True)
    morgan = html.split(">Morgan</a>", 1)[1].split("</tr>", 1)[0]
    pat = html.split(">Pat</a>", 1)[1].split("</tr>", 1)[0]
    assert "try another way to reach them" in morgan and "try another way" not in pat
    assert "Try another way to reach them" in client.get(f"/coordinator/people/{flagged.uuid}").get_data(as_text=True)
    assert "Try another way" not in client.get(f"/coordinator/people/{once.uuid}").get_data(as_text=True)


def test_reassigning_asks_for_a_handover_note_that_syncs_to_the_new_worker(client, app, coordinator, worker,
                                                                          make_user):
    newcomer = make_user("peer_worker", team=coordinator.team, name="New Worker")
    person = make_person(coordinator.team, worker, name="Ash")
    sign_in(client, coordinator)
    page = client.get(f"/coordinator/people/{person.uuid}").get_data(as_text=True)
    assert 'name="handover_note"' in page
    too_long = post(client, f"/coordinator/people/{person.uuid}/assign",
                    {"worker": str(newcomer.uuid), "mode": "replace", "handover_note": "x" * 2001})
    assert too_long.status_code == 400 and [w.id for w in Person.get_by_id(person.id).current_workers()] == [worker.id]
    rev = Person.get_by_id(person.id).rev
    note = "Prefers afternoons; ring first. Dog is friendly."
    assert post(client, f"/coordinator/people/{person.uuid}/assign",
                {"worker": str(newcomer.uuid), "mode": "replace", "handover_note": f"  {note}  "}).status_code == 302
    stored = Person.get_by_id(person.id)
    assert stored.handover_note == note and stored.rev > rev and "handover_note" in stored.field_revs
    assert note in client.get(f"/coordinator/people/{person.uuid}").get_data(as_text=True)

    phone = HttpDevice(app.test_client(), newcomer)
    phone.pull_all()
    assert phone.records[("person", str(person.uuid))]["fields"]["handover_note"] == note


def test_closing_an_engagement_records_and_shows_how_it_ended(client, coordinator, worker):
    person = make_person(coordinator.team, worker, name="Lou")
    sign_in(client, coordinator)
    for bad in ({"status": "closed", "closed_reason": "bored"}, {"status": "closed", "ending_summary": "x" * 2001},
                {"status": "finished"}):
        assert post(client, f"/coordinator/people/{person.uuid}/status", bad).status_code == 400, bad
    assert Person.get_by_id(person.id).status == "active"
    summary = "Lou joined the walking group and feels ready to go on alone."
    assert post(client, f"/coordinator/people/{person.uuid}/status",
                {"status": "closed", "closed_reason": "goals_met", "ending_summary": summary}).status_code == 302
    closed = Person.get_by_id(person.id)
    assert (closed.status, closed.closed_reason, closed.ending_summary) == ("closed", "goals_met", summary)
    assert closed.closed_at is not None
    page = client.get(f"/coordinator/people/{person.uuid}").get_data(as_text=True)
    assert "Goals met" in page and summary in page
    listing = client.get("/coordinator/people?status=closed").get_data(as_text=True)
    assert "Closed: goals met" in listing


def test_subject_access_holds_the_ending_the_handover_note_and_voided_visits(client, coordinator, worker):
    import json

    person = make_person(coordinator.team, worker, name="Sky", handover_note="HANDOVER-words",
                         ending_summary="ENDING-words", closed_reason="moved_away", status="closed",
                         closed_at=dt.date(2026, 11, 30))
    visit = make_visit(person, worker)
    _void(visit, "VOIDED-reason")
    sign_in(client, coordinator)
    page = client.get(f"/coordinator/people/{person.uuid}/record").get_data(as_text=True)
    data = json.loads(client.get(f"/coordinator/people/{person.uuid}/record.json").get_data(as_text=True))
    for body in (page, json.dumps(data)):
        for words in ("HANDOVER-words", "ENDING-words", "Moved away", "VOIDED-reason", "2026-11-30"):
            assert words in body, words
    assert data["visits"][0]["voided"] and data["person"]["closed_reason"] == "Moved away"
