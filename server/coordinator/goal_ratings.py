"""A person's goals with their ratings over time (issue 15), for the coordinator's person page: every rating,
in a visit (dated by the visit) or outside one (a phone call: dated when rated), oldest first, leaving out
ratings of voided or deleted visits. One query for all of a person's goals; each goal gets a small SVG line
and its numbers as a list."""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup
from peewee import JOIN, fn

from ..local_time import to_local
from ..models import Goal, GoalProgress, Visit
from .access import as_datetime
from .charts import sparkline

SHOWN = 24  # the latest ratings drawn per goal; the list says how many there are in all


@dataclass
class GoalRatings:
    goal: Goal
    ratings: list[tuple[str, int]] = field(default_factory=list)  # (day, rating), oldest first
    total: int = 0
    chart: Markup | None = None


def goals_with_ratings(person, goals: list[Goal]) -> list[GoalRatings]:
    by_goal = {g.id: GoalRatings(g) for g in goals}
    if not by_goal:
        return []
    when = fn.COALESCE(Visit.started_at, GoalProgress.created_at)
    rows = (GoalProgress.select(GoalProgress.goal, GoalProgress.rating, when)
            .join(Visit, JOIN.LEFT_OUTER, on=(GoalProgress.visit == Visit.id))
            .where(GoalProgress.goal.in_(list(by_goal)) & ~GoalProgress.deleted
                   & (GoalProgress.visit.is_null() | (~Visit.deleted & Visit.voided_at.is_null())))
            .order_by(when, GoalProgress.id)
            .tuples())
    for goal_id, rating, rated_at in rows:
        local = to_local(as_datetime(rated_at))
        by_goal[goal_id].ratings.append((f"{local.day} {local:%b %Y}" if local else "", rating))
    for entry in by_goal.values():
        entry.total = len(entry.ratings)
        entry.ratings = entry.ratings[-SHOWN:]
        if entry.ratings:
            entry.chart = sparkline(f"goal-{entry.goal.uuid}", f"Ratings of “{entry.goal.title}” over time, 0 to 10",
                                    entry.ratings)
    return list(by_goal.values())
