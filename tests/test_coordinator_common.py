"""Builders shared by the coordinator test modules (no tests in here)."""

from __future__ import annotations

import datetime as dt
import re

from helpers import csrf_from_html, form_login

from server.db import utcnow, write_transaction
from server.models import Goal, GoalProgress, Person, Referral, Resource, Visit
from server.sync.revisions import next_rev


def sign_in(client, user, password=None):
    response = form_login(client, user) if password is None else form_login(client, user, password)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def token(client) -> str:
    return csrf_from_html(client.get("/coordinator/").get_data(as_text=True))


def post(client, url, data=None, with_token=True, **kwargs):
    data = dict(data or {})
    if with_token:
        data["csrf_token"] = token(client)
    return client.post(url, data=data, **kwargs)


def make_person(team, worker=None, name="Person One", **fields):
    with write_transaction():
        person = Person.create(team=team, display_name=name, rev=next_rev(), **fields)
        if worker is not None:
            person.assign_to(worker)
    return person


def make_visit(person, author, when=None, **fields):
    with write_transaction():
        return Visit.create(person=person, author=author, started_at=when or utcnow() - dt.timedelta(hours=2),
                            rev=next_rev(), **fields)


def make_goal(person, author, **fields):
    with write_transaction():
        return Goal.create(person=person, created_by=author, title=fields.pop("title", "Walk to the park"),
                           rev=next_rev(), **fields)


def make_progress(goal, visit, author, rating, when):
    with write_transaction():
        return GoalProgress.create(goal=goal, visit=visit, author=author, rating=rating, created_at=when,
                                   rev=next_rev())


def make_resource(name="Community Cafe", **fields):
    with write_transaction():
        return Resource.create(name=name, category=fields.pop("category", "Social connection"), rev=next_rev(),
                               **fields)


def make_referral(person, resource, author, **fields):
    with write_transaction():
        return Referral.create(person=person, resource=resource, created_by=author, rev=next_rev(), **fields)


def uuids_in(html: str) -> set[str]:
    return set(re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", html))
