"""The shapes real use has, shared by the sync benchmarks: a 10,030-record caseload (1,000 people, 2,000 goals,
6,000 visits, 1,000 referrals, 30 resources) and a day of phones pushing it: batches of 100 new visits, each
batch's visits on 100 different people, each visit carrying one or two goal ratings (goal_progress)."""

from __future__ import annotations

import datetime as dt
import random
import uuid

from server import db as dbmod
from server.models import Goal, Person, Referral, Resource, Team, User, Visit
from server.passwords import hash_password

PASSWORD = "bench-password-long-enough"
WORDS = ("talked walk park sleep better anxious calmer sister bus appointment food bank garden group coffee "
         "felt tired money worry letter council housing job centre music football cooking plan next week "
         "phone call text mood steady low good quiet busy family friend library volunteer course").split()
RNG = random.Random(7)
_HASH: list[str] = []


def note(n=20) -> str:
    return " ".join(RNG.choice(WORDS) for _ in range(n))


def password_hash() -> str:
    if not _HASH:
        _HASH.append(hash_password(PASSWORD))
    return _HASH[0]


def make_user(team, role="peer_worker", name="Bench Worker") -> User:
    return User.create(email=f"{uuid.uuid4().hex[:10]}@bench.test", name=name, role=role, team=team,
                       password_hash=password_hash())


def _bulk(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), 2000):
        model.insert_many(rows[start:start + 2000]).execute()


def seed_caseload(team, worker, people=1000, goals_each=2, visits=6000, referrals=1000, resources=30):
    """The issue's caseload on one worker; returns ([(person uuid, [goal uuids])], resource uuids)."""
    from server.sync.revisions import next_rev  # noqa: PLC0415 - the module moves in the sync package

    now = dbmod.utcnow()
    with dbmod.write_transaction():
        total = resources + people + people * goals_each + visits + referrals + people
        rev = next_rev(total) - total
        counter = iter(range(rev + 1, rev + total + 1))
        res_rows = [{"uuid": uuid.uuid4(), "rev": next(counter), "name": f"Resource {i}", "category": "food",
                     "description": note(30), "address": "1 High Street, Town", "phone": "01234 567890",
                     "area": "North", "opening_hours": "Mon-Fri 9-5", "created_at": now, "updated_at": now}
                    for i in range(resources)]
        _bulk(Resource, res_rows)
        person_rows = [{"uuid": uuid.uuid4(), "rev": next(counter), "team": team.id,
                        "display_name": f"Person {i}", "preferred_contact": "Text, mornings",
                        "engagement_start": dt.date(2026, 1, 5), "created_at": now, "updated_at": now}
                       for i in range(people)]
        _bulk(Person, person_rows)
        ids = dict(Person.select(Person.uuid, Person.id).where(Person.team == team).tuples())
        pids = [ids[r["uuid"]] for r in person_rows]
        from server.models import CaseloadAssignment  # noqa: PLC0415

        _bulk(CaseloadAssignment, [{"person": pid, "worker": worker.id, "rev": next(counter), "started_at": now}
                                   for pid in pids])
        goal_rows = [{"uuid": uuid.uuid4(), "rev": next(counter), "person": pids[i // goals_each],
                      "created_by": worker.id, "title": note(6), "life_area": "health", "steps": note(15),
                      "created_at": now, "updated_at": now} for i in range(people * goals_each)]
        _bulk(Goal, goal_rows)
        _bulk(Visit, [{"uuid": uuid.uuid4(), "rev": next(counter), "person": pids[i % people], "author": worker.id,
                       "started_at": now - dt.timedelta(days=i % 90), "duration_minutes": 45, "notes": note(30),
                       "wellbeing": 6, "goal_ids": "[]", "created_at": now, "updated_at": now}
                      for i in range(visits)])
        res_ids = [r.id for r in Resource.select(Resource.id).order_by(Resource.id)]
        _bulk(Referral, [{"uuid": uuid.uuid4(), "rev": next(counter), "person": pids[i % people],
                          "resource": res_ids[i % len(res_ids)], "created_by": worker.id, "notes": note(10),
                          "created_at": now, "updated_at": now} for i in range(referrals)])
    people_out = []
    for i, r in enumerate(person_rows):
        people_out.append((r["uuid"], [g["uuid"] for g in goal_rows[i * goals_each:(i + 1) * goals_each]]))
    return people_out, [r["uuid"] for r in res_rows]


def visit_mutation(person_uuid, **fields) -> dict:
    return {"id": str(uuid.uuid4()), "entity": "visit", "record_id": str(uuid.uuid4()), "op": "upsert",
            "base_rev": None, "fields": {"person_id": str(person_uuid), "started_at": "2026-11-20T10:00:00+00:00",
                                         "duration_minutes": 45, "mode": "01", "location_type": "A01",
                                         "attendance": "5", "group_session": False, "wellbeing": 6,
                                         "concern": "none", "concern_notes": "", "notes": note(),
                                         "goal_ids": [], "next_visit_at": "2026-11-27T10:00:00+00:00", **fields}}


def rating_mutation(goal_uuid, visit_id) -> dict:
    return {"id": str(uuid.uuid4()), "entity": "goal_progress", "record_id": str(uuid.uuid4()), "op": "upsert",
            "base_rev": None, "fields": {"goal_id": str(goal_uuid), "visit_id": visit_id,
                                         "rating": RNG.randint(0, 10), "note": ""}}


def spread_batches(people: list, batches=10, size=100) -> list[list[dict]]:
    """`batches` pushes of `size` new visits, each visit on a different person, each with one or two ratings
    (goal_progress) as the field app sends them: the visit, then its ratings."""
    out = []
    for b in range(batches):
        batch = []
        for j in range(size):
            person_uuid, goals = people[(b * size + j) % len(people)]
            visit = visit_mutation(person_uuid, goal_ids=[str(g) for g in goals])
            batch.append(visit)
            for goal in goals[:1 + (j % 2)]:
                batch.append(rating_mutation(goal, visit["record_id"]))
        out.append(batch)
    return out


def single_person_batches(person_uuid, batches=10, size=100) -> list[list[dict]]:
    """The old, flattering shape: every visit on one person, no ratings. Kept as a labelled line."""
    return [[visit_mutation(person_uuid) for _ in range(size)] for _ in range(batches)]


def make_team(name="Bench") -> tuple[Team, User, User]:
    team = Team.create(name=f"{name} {uuid.uuid4().hex[:6]}")
    return team, make_user(team), make_user(team, "coordinator", "Bench Coordinator")
