"""The demo organisation: one team, a coordinator, an admin, two peer workers, twelve people with three
months of visits, goals, progress and referrals, and thirty local resources. Idempotent."""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid

from .db import utcnow, write_transaction
from .models import (
    CaseloadAssignment,
    Goal,
    GoalProgress,
    Person,
    Referral,
    Resource,
    Team,
    User,
    Visit,
)
from .passwords import hash_password
from .sync.revisions import next_rev

TEAM_NAME = "Northside Peer Support (demo)"
DEMO_USERS = [
    ("coordinator@demo.alongside.test", "Sam Okafor", "coordinator", "demo-coordinator-1"),
    ("admin@demo.alongside.test", "Alex Rivera", "admin", "demo-admin-pass-1"),
    ("jo@demo.alongside.test", "Jo Bennett", "peer_worker", "demo-worker-jo-1"),
    ("priya@demo.alongside.test", "Priya Shah", "peer_worker", "demo-worker-priya-1"),
]
PEOPLE = [
    "Dee M.", "Ray T.", "Kim L.", "Morgan P.", "Chris A.", "Lou B.",
    "Terry S.", "Ash K.", "Robin F.", "Jamie W.", "Sky N.", "Pat O.",
]
GOALS = [
    ("Get out for a walk three times a week", "Physical health"),
    ("Join the Thursday gardening group", "Social connection"),
    ("Sort out my bills so I stop worrying", "Money"),
    ("Cook a proper meal twice a week", "Daily living"),
    ("Get back in touch with my sister", "Relationships"),
    ("Look into volunteering at the library", "Work and learning"),
]
RESOURCE_CATEGORIES = {
    "Social connection": ["Community Cafe", "Men's Shed", "Knit and Natter", "Walking Group", "Allotment Club"],
    "Money": ["Citizens Advice Drop-in", "Food Bank", "Debt Advice Line", "Warm Space", "Credit Union"],
    "Work and learning": ["Library Job Club", "Adult Learning Centre", "Volunteer Centre", "Digital Skills", "College"],
    "Physical health": ["Leisure Centre", "Park Run", "Healthy Eating Group", "Swimming Sessions", "Yoga for All"],
    "Wellbeing": ["Recovery College", "Hearing Voices Group", "Art Studio", "Singing Group", "Mindful Walk"],
    "Housing": ["Housing Advice", "Tenancy Support", "Furniture Project", "Homeless Outreach", "Home Repairs"],
}


def demo_logins() -> list[tuple[str, str, str]]:
    return [(email, password, role) for email, _name, role, password in DEMO_USERS]


def seed_demo(rng_seed: int = 7) -> bool:
    """Create the demo organisation; returns False (and changes nothing) if it already exists."""
    if Team.get_or_none(Team.name == TEAM_NAME) is not None:
        return False
    rng = random.Random(rng_seed)  # noqa: S311 - demo data, not security
    now = utcnow()
    with write_transaction():
        team = Team.create(name=TEAM_NAME)
        users = {
            role_key: User.create(email=email, name=name, role=role, team=team, password_hash=hash_password(pw))
            for (email, name, role, pw), role_key in zip(DEMO_USERS, ["coord", "admin", "jo", "priya"], strict=True)
        }
        coordinator = users["coord"]
        workers = [users["jo"], users["priya"]]
        resources = []
        for category, names in RESOURCE_CATEGORIES.items():
            for name in names:
                resources.append(Resource.create(
                    uuid=uuid.uuid4(), rev=next_rev(), name=name, category=category,
                    description=f"{name}: free and open to all. Ask at reception.",
                    address=f"{rng.randint(1, 120)} High Street, Northside",
                    phone=f"0161 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                    website="", opening_hours="Mon-Fri 10:00-16:00", area="Northside",
                ))
        for i, display_name in enumerate(PEOPLE):
            worker = workers[i % 2]
            start = (now - dt.timedelta(days=rng.randint(60, 120))).date()
            person = Person.create(
                rev=next_rev(), team=team, display_name=display_name, preferred_contact="Phone, afternoons",
                engagement_start=start, planned_end=start + dt.timedelta(days=rng.choice([90, 120, 180])),
                status="active" if i < 10 else "paused", created_by=coordinator,
            )
            CaseloadAssignment.create(person=person, worker=worker, assigned_by=coordinator,
                                      started_at=now - dt.timedelta(days=100), rev=next_rev())
            goals = []
            for title, area in rng.sample(GOALS, 2):
                goals.append(Goal.create(
                    rev=next_rev(), person=person, created_by=worker, title=title, life_area=area,
                    steps="Small steps agreed together.", status="active",
                    target_date=(now + dt.timedelta(days=rng.randint(14, 90))).date(),
                ))
            for week in range(12, 0, -1):
                started = (now - dt.timedelta(days=7 * week + rng.randint(0, 2))).replace(
                    hour=rng.choice([10, 11, 14, 15]), minute=0, second=0, microsecond=0)
                attended = rng.random() > 0.12
                concern = "high" if rng.random() < 0.03 else ("low" if rng.random() < 0.1 else "none")
                visit = Visit.create(
                    rev=next_rev(), person=person, author=worker, started_at=started,
                    duration_minutes=rng.choice([30, 45, 60, 90]), mode=rng.choice(["01", "01", "01", "02", "11"]),
                    location_type=rng.choice(["A01", "A01", "N02", "N03", "J01"]), attendance="5" if attended else "3",
                    notes="Talked about the week and next steps." if attended else "",
                    goal_ids=json.dumps([str(g.uuid) for g in goals]) if attended else "[]",
                    wellbeing=rng.randint(3, 9) if attended else None,
                    concern=concern if attended else "none",
                    concern_notes="Follow up with the coordinator." if attended and concern != "none" else "",
                    next_visit_at=(started + dt.timedelta(days=7) if week > 1 else
                                   (now + dt.timedelta(days=1 + i % 6)).replace(hour=10 + i % 5, minute=0,
                                                                                second=0, microsecond=0)),
                    reviewed_at=started + dt.timedelta(days=2) if week > 2 else None,
                    reviewed_by=coordinator if week > 2 else None,
                )
                if attended:
                    for goal in goals:
                        GoalProgress.create(rev=next_rev(), goal=goal, visit=visit, author=worker,
                                            rating=min(10, max(0, 3 + (12 - week) // 2 + rng.randint(-1, 1))))
            for resource in rng.sample(resources, 2):
                Referral.create(
                    rev=next_rev(), person=person, resource=resource, created_by=worker,
                    status=rng.choice(["suggested", "made", "attended", "not_taken_up"]),
                    notes="", follow_up_at=now + dt.timedelta(days=rng.randint(3, 21)),
                )
    return True
