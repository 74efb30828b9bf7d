"""Outcomes for a team and period (issue 16): goal-based outcomes (each goal's first and latest rating in the
period and the change), wellbeing (each person's first and latest 0-10 score), the CHIME spread of goals set
and achieved, and referrals taken up by category. One rule decides improved / unchanged / worse (RULE), and
the page states it. Every figure is SQL that reads each goal's or person's first and latest value by index
seeks, never a pass over a year's visits (bench/outcomes_bench.py: 1,000,000 visits, 200,000 ratings)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from peewee import Case, fn

from ..codes import CHIME
from ..models import Goal, GoalProgress, Person, Referral, Resource, Visit
from .reports import Scope

IMPROVED_BY = 3  # points on the 0-10 scale
RULE = (f"A goal or a person's wellbeing counts as improved when the latest score in the period is at least "
        f"{IMPROVED_BY} points above the first, worse when at least {IMPROVED_BY} points below, otherwise "
        f"unchanged. Only goals and people with at least two scores in the period are counted.")


def classify(first: int, latest: int) -> str:
    change = latest - first
    return "improved" if change >= IMPROVED_BY else "worse" if change <= -IMPROVED_BY else "unchanged"


@dataclass
class Shares:
    counted: int = 0
    people: int = 0
    improved: int = 0
    unchanged: int = 0
    worse: int = 0

    def add(self, result: str) -> None:
        self.counted += 1
        setattr(self, result, getattr(self, result) + 1)

    def pct(self, result: str) -> float | None:
        return round(100 * getattr(self, result) / self.counted, 1) if self.counted else None


@dataclass
class Outcomes:
    goals: Shares = field(default_factory=Shares)
    wellbeing: Shares = field(default_factory=Shares)
    per_goal: list = field(default_factory=list)  # (goal uuid, person uuid, tags, first, latest, change, result)
    chime_set: dict = field(default_factory=dict)
    chime_achieved: dict = field(default_factory=dict)
    referrals: list = field(default_factory=list)  # (category, made, taken up)


def _first_and_latest(model, owner_col, time_col, value_col, owners, scope: Scope, extra=None) -> list[tuple]:
    """Per owner (a goal, a person): (owner id, person id, first value, latest value, first id, latest id) of its
    scores in the period, each by one correlated index seek (no join back: a planner may turn that into a scan).
    Raw rows: peewee's per-value conversion would cost more than the query on a team's year."""
    def seek(column, descending: bool):
        inner = model.alias()
        at = getattr(inner, time_col.name)
        cond = ((getattr(inner, owner_col.name) == owners.c.oid) & (at >= scope.since) & (at < scope.until)
                & ~inner.deleted)
        if extra is not None:
            cond &= extra(inner)
        order = [at.desc(), inner.id.desc()] if descending else [at, inner.id]
        return inner.select(getattr(inner, column)).where(cond).order_by(*order).limit(1)

    value = value_col.name
    sql, params = (model.select(owners.c.oid, owners.c.pid, seek(value, False), seek(value, True), seek("id", False),
                                seek("id", True))
                   .from_(owners)).sql()
    return model._meta.database.execute_sql(sql, params).fetchall()


def goal_outcomes(scope: Scope, out: Outcomes, per_goal: bool = False) -> None:
    """Goals with two or more ratings in the period; with `per_goal`, each one's ids, tags and scores too."""
    team_goals = scope.people(Goal.select(Goal.id.alias("oid"), Goal.person.alias("pid"))
                              .join(Person, on=(Goal.person == Person.id))
                              .where(~Goal.deleted)).alias("owners")
    scored = {}
    people = set()
    for gid, pid, first, latest, first_id, last_id in _first_and_latest(
            GoalProgress, GoalProgress.goal, GoalProgress.created_at, GoalProgress.rating, team_goals, scope):
        if first_id is not None and first_id != last_id:
            scored[gid] = (first, latest)
            out.goals.add(classify(first, latest))
            people.add(pid)
    out.goals.people = len(people)
    if not per_goal or not scored:
        return
    # The team's goals again, filtered here: a list of thousands of ids in SQL (IN ...) is far slower on SQLite.
    details = scope.people(Goal.select(Goal.id, Goal.uuid, Goal.chime_tags, Person.uuid)
                           .join(Person, on=(Goal.person == Person.id))
                           .where(~Goal.deleted)).tuples()
    for gid, guuid, tags, puuid in details:
        if gid in scored:
            first, latest = scored[gid]
            out.per_goal.append((str(guuid), str(puuid), _tags(tags), first, latest, latest - first,
                                 classify(first, latest)))
    out.per_goal.sort()


def wellbeing_outcomes(scope: Scope, out: Outcomes) -> None:
    team_people = scope.people(Person.select(Person.id.alias("oid"), Person.id.alias("pid"))
                               .where(~Person.deleted)).alias("owners")
    for _pid, _same, first, latest, first_id, last_id in _first_and_latest(
            Visit, Visit.person, Visit.started_at, Visit.wellbeing, team_people, scope,
            lambda v: v.wellbeing.is_null(False)):
        if first_id is not None and first_id != last_id:
            out.wellbeing.add(classify(first, latest))
    out.wellbeing.people = out.wellbeing.counted


def _tags(text) -> list[str]:
    try:
        tags = json.loads(text or "[]")
    except ValueError:
        return []
    return [t for t in tags if t in CHIME]


def chime_spread(scope: Scope, out: Outcomes) -> None:
    achieved_on = fn.COALESCE(Goal.achieved_at, Goal.updated_at)
    is_set = (Goal.created_at >= scope.since) & (Goal.created_at < scope.until)
    is_achieved = (Goal.status == "achieved") & (achieved_on >= scope.since) & (achieved_on < scope.until)
    columns = []
    for tag in CHIME:
        has = Goal.chime_tags.contains(f'"{tag}"')
        columns += [fn.SUM(Case(None, [(is_set & has, 1)], 0)), fn.SUM(Case(None, [(is_achieved & has, 1)], 0))]
    row = (scope.people(Goal.select(*columns).join(Person, on=(Goal.person == Person.id))
                        .where(~Goal.deleted & (is_set | is_achieved))).tuples().first()) or ()
    for i, tag in enumerate(CHIME):
        out.chime_set[tag] = int(row[2 * i] or 0) if row else 0
        out.chime_achieved[tag] = int(row[2 * i + 1] or 0) if row else 0


def referral_take_up(scope: Scope, out: Outcomes) -> None:
    taken = fn.SUM(Case(None, [(Referral.status == "attended", 1)], 0))
    rows = (scope.people(Referral.select(Resource.category, fn.COUNT(Referral.id), taken)
                         .join(Resource, on=(Referral.resource == Resource.id))
                         .switch(Referral).join(Person, on=(Referral.person == Person.id))
                         .where((Referral.created_at >= scope.since) & (Referral.created_at < scope.until)
                                & ~Referral.deleted & (Referral.status != "suggested")))
            .group_by(Resource.category).tuples())
    out.referrals = sorted(((c or "Uncategorised", n, int(t or 0)) for c, n, t in rows), key=lambda r: (-r[1], r[0]))


def build_outcomes(scope: Scope, per_goal: bool = False) -> Outcomes:
    out = Outcomes()
    goal_outcomes(scope, out, per_goal)
    wellbeing_outcomes(scope, out)
    chime_spread(scope, out)
    referral_take_up(scope, out)
    return out


def person_wellbeing(person: Person) -> list[tuple]:
    """A person's wellbeing scores over time (visit time, score), oldest first."""
    return list(Visit.select(Visit.started_at, Visit.wellbeing)
                .where((Visit.person == person) & ~Visit.deleted & Visit.wellbeing.is_null(False))
                .order_by(Visit.started_at).tuples())


def person_goal_outcomes(person: Person) -> list[tuple]:
    """Per goal of the person, over all time: (goal, first, latest, change, result or None, rated_by counts)."""
    rows = []
    goals = list(Goal.select().where((Goal.person == person) & ~Goal.deleted).order_by(Goal.created_at))
    ratings: dict[int, list] = {}
    for gid, rating in (GoalProgress.select(GoalProgress.goal, GoalProgress.rating)
                        .where(GoalProgress.goal.in_([g.id for g in goals]) & ~GoalProgress.deleted)
                        .order_by(GoalProgress.created_at, GoalProgress.id).tuples()):
        ratings.setdefault(gid, []).append(rating)
    for g in goals:
        scores = ratings.get(g.id, [])
        if len(scores) >= 2:
            rows.append((g, scores[0], scores[-1], scores[-1] - scores[0], classify(scores[0], scores[-1])))
        else:
            rows.append((g, scores[0] if scores else None, None, None, None))
    return rows

