"""Outcomes for a team and period (issue 16): goal-based outcomes (each goal's first and latest rating in the
period and the change), wellbeing (each person's first and latest 0-10 score), the CHIME spread of goals set
and achieved, and referrals taken up by category. One rule decides improved / unchanged / worse (RULE), and
the page states it. Every figure is one aggregate SQL statement: each goal's or person's first and latest
score by two seeks on a covering index, counted and classified in SQL, never a pass over a year's visits and no
row per goal or person in Python (bench/outcomes_bench.py: 1,000,000 visits, 200,000 ratings)."""

from __future__ import annotations

import json
import uuid as uuidlib
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


# One seek returns a score and its row's id packed in one integer (id * PACK + score + SHIFT), so each owner
# costs two index seeks (its first and its latest score) and "two or more scores" is "first and latest are
# different rows". Scores are 0-10 (schemas.py); SHIFT keeps any stored value from -SHIFT to SHIFT-1 exact.
PACK = 1024
SHIFT = 512


def _scores(model, owner_col, time_col, value_col, owners, scope: Scope, extra=None, columns=()):
    """A subquery: per owner (a goal, a person) its `oid`, `pid` (its person), `columns` of `owners`, and the
    packed `first` and `latest` of its scores in the period (NULL when none), each one correlated seek on a
    covering index (migration 0093). GROUP BY: SQLite would otherwise flatten this into the aggregate around
    it and run every seek once for each time the outer query names it."""
    def seek(descending: bool):
        inner = model.alias()
        at = getattr(inner, time_col.name)
        cond = ((getattr(inner, owner_col.name) == owners.c.oid) & (at >= scope.since) & (at < scope.until)
                & ~inner.deleted)
        if extra is not None:
            cond &= extra(inner)
        order = [at.desc(), inner.id.desc()] if descending else [at, inner.id]
        packed = inner.id.cast("BIGINT") * PACK + getattr(inner, value_col.name) + SHIFT  # 4-byte ids overflow
        return inner.select(packed).where(cond).order_by(*order).limit(1)

    keys = [owners.c.oid, owners.c.pid, *(getattr(owners.c, name) for name in columns)]
    return (model.select(*keys, seek(False).alias("first"), seek(True).alias("latest"))
            .from_(owners).group_by(*keys).alias("scores"))


def _value(packed):
    return packed - packed / PACK * PACK - SHIFT  # integer division on both engines (integer operands)


def _shares(model, scores, shares: Shares) -> None:
    """Fills `shares` from the owners with two or more scores: one aggregate row, no row reaches Python. The
    "two or more" test is inside each aggregate, not a WHERE: PostgreSQL would push a WHERE into the grouped
    subquery and run every seek twice."""
    counted = scores.c.first != scores.c.latest
    change = _value(scores.c.latest) - _value(scores.c.first)

    def count(condition):
        return fn.SUM(Case(None, [(condition, 1)], 0))

    row = (model.select(count(counted), fn.COUNT(fn.DISTINCT(Case(None, [(counted, scores.c.pid)], None))),
                        count(counted & (change >= IMPROVED_BY)), count(counted & (change <= -IMPROVED_BY)))
           .from_(scores).tuples().first())
    counted, people, improved, worse = (int(v or 0) for v in row)
    shares.counted, shares.people, shares.improved, shares.worse = counted, people, improved, worse
    shares.unchanged = counted - improved - worse


def _team_goals(scope: Scope, *columns):
    return scope.people(Goal.select(Goal.id.alias("oid"), Goal.person.alias("pid"), *columns)
                        .join(Person, on=(Goal.person == Person.id))
                        .where(~Goal.deleted)).alias("owners")


def goal_outcomes(scope: Scope, out: Outcomes, per_goal: bool = False) -> None:
    """Goals with two or more ratings in the period; with `per_goal`, each one's ids, tags and scores too."""
    _shares(GoalProgress, _scores(GoalProgress, GoalProgress.goal, GoalProgress.created_at, GoalProgress.rating,
                                  _team_goals(scope), scope), out.goals)
    if not per_goal or not out.goals.counted:
        return
    owners = _team_goals(scope, Goal.uuid.alias("guuid"), Person.uuid.alias("puuid"), Goal.chime_tags.alias("tags"))
    scores = _scores(GoalProgress, GoalProgress.goal, GoalProgress.created_at, GoalProgress.rating, owners, scope,
                     columns=("guuid", "puuid", "tags"))
    query = (GoalProgress.select(scores.c.guuid, scores.c.puuid, scores.c.tags, _value(scores.c.first),
                                 _value(scores.c.latest), Case(None, [(scores.c.first != scores.c.latest, 1)], 0))
             .from_(scores))  # "two or more" as a column, not a WHERE: see _shares
    sql, params = query.sql()  # raw rows: the CSV's rows are per goal anyway, peewee's conversion is not needed
    tag_lists: dict = {}
    for guuid, puuid, tags, first, latest, counted in GoalProgress._meta.database.execute_sql(sql, params):
        if not counted:
            continue
        if tags not in tag_lists:  # a few distinct lists (sorted, unique since 0091): parse each once
            tag_lists[tags] = _tags(tags)
        out.per_goal.append((_uuid(guuid), _uuid(puuid), tag_lists[tags], first, latest, latest - first,
                             classify(first, latest)))
    out.per_goal.sort()


def _uuid(raw) -> str:
    """A raw uuid column as text: psycopg2 gives a UUID, SQLite peewee's 32 hex digits (cut, not parsed)."""
    if isinstance(raw, uuidlib.UUID):
        return str(raw)
    if len(raw) == 32:
        return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}".lower()
    return str(uuidlib.UUID(raw))


def wellbeing_outcomes(scope: Scope, out: Outcomes) -> None:
    """People with two or more wellbeing scores in the period (the partial index of 0093 holds only those)."""
    team_people = scope.people(Person.select(Person.id.alias("oid"), Person.id.alias("pid"))
                               .where(~Person.deleted)).alias("owners")
    _shares(Visit, _scores(Visit, Visit.person, Visit.started_at, Visit.wellbeing, team_people, scope,
                           lambda v: v.wellbeing.is_null(False)), out.wellbeing)


def _tags(text) -> list[str]:
    try:
        tags = json.loads(text or "[]")
    except ValueError:
        return []
    return [t for t in tags if t in CHIME]


def chime_spread(scope: Scope, out: Outcomes) -> None:
    """Goals set and achieved in the period per CHIME tag. Grouped in SQL by the stored tag list (sorted and
    unique since 0091, so at most 32 groups), each group's tags then counted once: no row per goal in Python
    and no text search per goal and tag."""
    achieved_on = fn.COALESCE(Goal.achieved_at, Goal.updated_at)
    is_set = (Goal.created_at >= scope.since) & (Goal.created_at < scope.until)
    is_achieved = (Goal.status == "achieved") & (achieved_on >= scope.since) & (achieved_on < scope.until)
    rows = (scope.people(Goal.select(Goal.chime_tags, fn.SUM(Case(None, [(is_set, 1)], 0)),
                                     fn.SUM(Case(None, [(is_achieved, 1)], 0)))
                         .join(Person, on=(Goal.person == Person.id))
                         .where(~Goal.deleted & (is_set | is_achieved)))
            .group_by(Goal.chime_tags).tuples())
    out.chime_set = dict.fromkeys(CHIME, 0)
    out.chime_achieved = dict.fromkeys(CHIME, 0)
    for text, set_count, achieved_count in rows:
        for tag in set(_tags(text)):
            out.chime_set[tag] += int(set_count or 0)
            out.chime_achieved[tag] += int(achieved_count or 0)


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

