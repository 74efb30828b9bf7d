"""Security findings 8, 10, 11 and 12 of issue 12 (the others have modules of their own: test_sessions,
test_audit_reads, test_json_input, test_throttle, test_logs, test_two_step)."""

from __future__ import annotations

import re

import pytest
from helpers import PASSWORD
from sync_support import HttpDevice, mutation, new_id, person_on_caseload, visit_fields
from test_coordinator_common import make_person, post, sign_in

from server.models import User
from server.passwords import password_problem

# --- 8: list pages with url_for's own argument names in the query --------------------------------------------


@pytest.mark.parametrize("query", ["page=2&_method=POST", "_method=POST", "_external=1&_anchor=x", "endpoint=x",
                                   "_scheme=javascript&page=1"])
def test_list_pages_ignore_url_for_arguments(client, coordinator, worker, query):
    make_person(coordinator.team, worker, name="Robin")
    sign_in(client, coordinator)
    for page in ("/coordinator/people", "/coordinator/audit", "/coordinator/review", "/coordinator/resources"):
        response = client.get(f"{page}?{query}")
        assert response.status_code == 200, (page, query)
        links = re.findall(r'href="([^"]*)"', response.get_data(as_text=True))
        assert not [link for link in links if "_method" in link or "_external" in link or "javascript:" in link]


def test_list_page_links_keep_their_filters(client, coordinator, worker):
    for i in range(101):
        make_person(coordinator.team, worker, name=f"Person {i:03}")
    sign_in(client, coordinator)
    html = client.get("/coordinator/people?q=Person&_method=POST").get_data(as_text=True)
    assert "/coordinator/people?page=2&amp;q=Person" in html or "/coordinator/people?q=Person&amp;page=2" in html


# --- 10: weak passwords are refused, saying why --------------------------------------------------------------

@pytest.mark.parametrize("weak", ["password1234", "qwerty1234", "Summer2026!", "alongside123"])
def test_weak_passwords_are_refused_with_a_reason(weak):
    problem = password_problem(weak, "sam@example.test", "Sam Okafor")
    assert problem is not None and problem.startswith("This password is too easy to guess.")
    assert len(problem) > len("This password is too easy to guess.")  # and why, with a way forward


def test_good_passwords_pass():
    for good in (PASSWORD, "river stones and moss", "a long walk by the canal"):
        assert password_problem(good, "sam@example.test", "Sam Okafor") is None


def test_the_user_form_explains_a_weak_password(client, coordinator):
    sign_in(client, coordinator)
    response = post(client, "/coordinator/users/new", {"name": "Ann", "email": "ann@example.test",
                                                       "role": "peer_worker", "method": "password",
                                                       "password": "Summer2026!", "password_again": "Summer2026!"})
    assert response.status_code == 400
    assert "too easy to guess" in response.get_data(as_text=True)
    assert not User.select().where(User.email == "ann@example.test").exists()


# --- 11: only admins manage coordinators ------------------------------------------------------------------

def test_a_coordinator_cannot_take_over_another_coordinator(app, client, coordinator, make_user):
    colleague = make_user("coordinator", team=coordinator.team, name="Colleague")
    before = User.get_by_id(colleague.id).password_hash
    sign_in(client, coordinator)
    assert post(client, f"/coordinator/users/{colleague.uuid}/invite").status_code == 403
    assert User.get_by_id(colleague.id).password_hash == before
    assert post(client, f"/coordinator/users/{colleague.uuid}/deactivate").status_code == 403
    assert post(client, f"/coordinator/users/{colleague.uuid}/role", {"role": "peer_worker"}).status_code == 403
    page = client.get(f"/coordinator/users/{colleague.uuid}").get_data(as_text=True)
    assert "Make a new invite link" not in page
    admin_client = sign_in(app.test_client(), make_user("admin", name="Admin"))
    assert post(admin_client, f"/coordinator/users/{colleague.uuid}/invite").status_code == 200
    assert User.get_by_id(colleague.id).password_hash != before


def test_a_coordinator_still_manages_peer_workers(client, coordinator, worker):
    sign_in(client, coordinator)
    assert post(client, f"/coordinator/users/{worker.uuid}/invite").status_code == 200


# --- 12: another worker's person and an id that does not exist answer alike ---------------------------------

def test_a_visit_for_someone_elses_person_answers_like_a_random_id(client, worker, make_user):
    colleague = make_user("peer_worker", name="Colleague")
    theirs = person_on_caseload(colleague)
    phone = HttpDevice(client, worker)
    foreign, random = phone.push([mutation("visit", new_id(), visit_fields(theirs.uuid)),
                                  mutation("visit", new_id(), visit_fields(new_id()))])
    assert foreign["status"] == random["status"] == "rejected"
    assert (foreign["code"], foreign["errors"]) == (random["code"], random["errors"])
    goal_foreign, goal_random = phone.push([
        mutation("goal", new_id(), {"person_id": str(theirs.uuid), "title": "Walk"}),
        mutation("goal", new_id(), {"person_id": new_id(), "title": "Walk"})])
    assert (goal_foreign["code"], goal_foreign["errors"]) == (goal_random["code"], goal_random["errors"])
