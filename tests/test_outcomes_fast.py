"""The outcomes report's fast path (one aggregate SQL statement per measure, covering partial indexes of migration
0093) gives the same numbers as a straightforward computation: every row read into Python, grouped per goal and
per person, sorted by time then id, the period and the rules applied by hand; likewise the CHIME spread and the
referral take-up. A seeded random data set with the
awkward cases on purpose: ties in time (the id decides), deleted rows, visits without a wellbeing score, scores
before and after the period, changes of exactly 2 and 3 points, deleted goals, another team. Both engines."""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid

import pytest
from pg_empty import truncate_postgres

from server import db as dbmod
from server.codes import CHIME
from server.coordinator.outcomes import IMPROVED_BY, build_outcomes, classify
from server.coordinator.reports import Scope
from server.db import database, utcnow, write_transaction
from server.models import Goal, GoalProgress, Person, Referral, Resource, Visit
from server.sync.revisions import next_rev


def seed(team, other_team, worker, stranger, rng: random.Random) -> dt.datetime:
    now = utcnow().replace(microsecond=0)
    moments = [now - dt.timedelta(days=d, hours=h) for d in range(0, 70, 3) for h in (0, 5)]  # ties are likely
    with write_transaction():
        rev = next_rev()
        people = []
        for i in range(24):
            mine = i % 6 != 5
            people.append(Person.create(team=team if mine else other_team, display_name=f"P{i}", rev=rev,
                                        deleted=i == 7))
        for person in people:
            author = worker if person.team_id == team.id else stranger
            Visit.insert_many([{"uuid": uuid.uuid4(), "person": person.id, "author": author.id,
                                "started_at": rng.choice(moments),
                                "wellbeing": rng.choice([None, 0, 2, 4, 5, 7, 10]),
                                "deleted": rng.random() < 0.1, "rev": rev}
                               for _ in range(rng.randrange(0, 9))]).execute()
            for g in range(rng.randrange(0, 4)):
                achieved = rng.random() < 0.4
                goal = Goal.create(person=person, created_by=author, title=f"G{g}", rev=rev, deleted=rng.random() < 0.1,
                                   chime_tags=rng.choice(['[]', '["hope"]', '["hope", "meaning"]',
                                                          '["connectedness", "empowerment", "identity"]']),
                                   created_at=rng.choice(moments), status="achieved" if achieved else "active",
                                   achieved_at=rng.choice([None, *moments]) if achieved else None,
                                   updated_at=rng.choice(moments))
                GoalProgress.insert_many([{"uuid": uuid.uuid4(), "goal": goal.id, "author": author.id,
                                           "rating": rng.choice([0, 1, 3, 4, 6, 7, 10]),
                                           "created_at": rng.choice(moments), "deleted": rng.random() < 0.1,
                                           "rev": rev}
                                          for _ in range(rng.randrange(0, 7))]).execute()
        resources = [Resource.create(name=f"R{i}", category=c, rev=rev) for i, c in enumerate(["Money", "Social", ""])]
        Referral.insert_many([{"uuid": uuid.uuid4(), "person": p.id, "resource": rng.choice(resources).id,
                               "created_by": worker.id, "created_at": rng.choice(moments), "rev": rev,
                               "status": rng.choice(["suggested", "made", "attended", "not_taken_up"]),
                               "deleted": rng.random() < 0.1}
                              for p in people for _ in range(rng.randrange(0, 4))]).execute()
    return now


def by_hand(scope: Scope) -> dict:
    """The straightforward computation, every row in Python."""
    def in_scope(person):
        return scope.team_ids is None or person.team_id in scope.team_ids

    def shares(series: dict, person_of: dict) -> tuple:
        results, people = [], set()
        for owner, rows in series.items():
            rows = sorted(r for r in rows if scope.since <= r[0] < scope.until)
            if len(rows) >= 2:
                results.append((owner, rows[0][2], rows[-1][2], classify(rows[0][2], rows[-1][2])))
                people.add(person_of[owner])
        counts = [sum(1 for *_, r in results if r == key) for key in ("improved", "unchanged", "worse")]
        return (len(results), len(people), *counts), results

    people = {p.id: p for p in Person.select()}
    wellbeing: dict = {}
    for v in Visit.select():
        if not v.deleted and v.wellbeing is not None and in_scope(people[v.person_id]) \
                and not people[v.person_id].deleted:
            wellbeing.setdefault(v.person_id, []).append((v.started_at, v.id, v.wellbeing))
    goals = {g.id: g for g in Goal.select() if not g.deleted and in_scope(people[g.person_id])}
    ratings: dict = {}
    for r in GoalProgress.select():
        if not r.deleted and r.goal_id in goals:
            ratings.setdefault(r.goal_id, []).append((r.created_at, r.id, r.rating))
    goal_shares, goal_rows = shares(ratings, {gid: g.person_id for gid, g in goals.items()})
    well_shares, _ = shares(wellbeing, {pid: pid for pid in people})
    per_goal = sorted((str(goals[gid].uuid), str(people[goals[gid].person_id].uuid), first, latest, result)
                      for gid, first, latest, result in goal_rows)
    chime_set, chime_achieved = dict.fromkeys(CHIME, 0), dict.fromkeys(CHIME, 0)
    for g in goals.values():
        for tag in json.loads(g.chime_tags):
            chime_set[tag] += scope.since <= g.created_at < scope.until
            achieved_on = g.achieved_at or g.updated_at
            chime_achieved[tag] += g.status == "achieved" and scope.since <= achieved_on < scope.until
    referrals: dict = {}
    for r in Referral.select():
        if not r.deleted and r.status != "suggested" and in_scope(people[r.person_id]) \
                and scope.since <= r.created_at < scope.until:
            made_taken = referrals.setdefault(r.resource.category or "Uncategorised", [0, 0])
            made_taken[0] += 1
            made_taken[1] += r.status == "attended"
    return {"goals": goal_shares, "wellbeing": well_shares, "per_goal": per_goal, "chime_set": chime_set,
            "chime_achieved": chime_achieved,
            "referrals": sorted(((c, m, t) for c, (m, t) in referrals.items()), key=lambda r: (-r[1], r[0]))}


def figures(shares) -> tuple:
    return shares.counted, shares.people, shares.improved, shares.unchanged, shares.worse


@pytest.mark.parametrize("seed_value", [16, 1603])
def test_fast_path_matches_a_straightforward_computation(app, team, other_team, worker, make_user, seed_value):
    stranger = make_user("peer_worker", team=other_team)
    rng = random.Random(seed_value)
    with app.app_context(), database.connection_context():
        now = seed(team, other_team, worker, stranger, rng)
        today = now.date()
        scopes = [Scope([team.id], today - dt.timedelta(days=30), today, "Team"),
                  Scope([team.id], today - dt.timedelta(days=90), today, "Team"),
                  Scope([other_team.id, team.id], today - dt.timedelta(days=45), today - dt.timedelta(days=6), "Two"),
                  Scope(None, today - dt.timedelta(days=60), today, "All teams")]
        checked = 0
        for scope in scopes:
            out = build_outcomes(scope, per_goal=True)
            expected = by_hand(scope)
            assert figures(out.goals) == expected["goals"], scope
            assert figures(out.wellbeing) == expected["wellbeing"], scope
            assert sorted((g, p, first, latest, result) for g, p, _tags, first, latest, _change, result
                          in out.per_goal) == expected["per_goal"]
            assert all(change == latest - first for *_, first, latest, change, _r in out.per_goal)
            assert (out.chime_set, out.chime_achieved) == (expected["chime_set"], expected["chime_achieved"])
            assert out.referrals == expected["referrals"]
            checked += expected["goals"][0] + expected["wellbeing"][0]
            assert sum(expected["chime_set"].values()) and expected["referrals"]
        assert checked > 20  # the data set really exercises the rule, not only empty periods


def test_scores_at_the_edges_of_the_scale_and_of_the_rule(app, team, worker):
    """0 to 10, changes of exactly +-3 (counted) and +-2 (unchanged), two scores at the same moment (the later
    row is the latest), a deleted last score (ignored)."""
    with app.app_context(), database.connection_context():
        now = utcnow().replace(microsecond=0)
        at = [now - dt.timedelta(days=d) for d in (5, 4, 3)]
        cases = [([(at[0], 0), (at[1], 10)], "improved"), ([(at[0], 10), (at[1], 0)], "worse"),
                 ([(at[0], 4), (at[1], 7)], "improved"), ([(at[0], 7), (at[1], 4)], "worse"),
                 ([(at[0], 4), (at[1], 6)], "unchanged"), ([(at[0], 6), (at[1], 4)], "unchanged"),
                 ([(at[1], 9), (at[1], 2)], "worse"), ([(at[1], 2), (at[1], 9)], "improved")]
        with write_transaction():
            rev = next_rev()
            person = Person.create(team=team, display_name="Edge", rev=rev)
            for ratings, _expected in cases:
                goal = Goal.create(person=person, created_by=worker, title="g", rev=rev)
                for when, rating in ratings:
                    GoalProgress.create(goal=goal, author=worker, rating=rating, created_at=when, rev=rev)
                GoalProgress.create(goal=goal, author=worker, rating=5, created_at=at[2], rev=rev, deleted=True)
        out = build_outcomes(Scope([team.id], now.date() - dt.timedelta(days=10), now.date(), "Team"), True)
        assert sorted(result for *_, result in out.per_goal) == sorted(expected for _r, expected in cases)
        assert (out.goals.improved, out.goals.unchanged, out.goals.worse) == (3, 2, 3)
        assert IMPROVED_BY == 3


def test_the_partial_indexes_exist(app):
    """They are not in models.py's Meta (peewee cannot say WHERE there), so this checks migration 0093 made them."""
    with app.app_context(), database.connection_context():
        names = {i.name for table in ("visit", "goal_progress") for i in database.get_indexes(table)}
    assert {"visit_person_wellbeing", "goal_progress_goal_rating", "visit_open_concern"} <= names


def _plan(sql: str, params) -> str:
    if database.obj.__class__.__name__.lower().find("postgres") >= 0:
        database.execute_sql("SET LOCAL enable_seqscan = off")  # a tiny table: ask whether the index CAN serve
        return "\n".join(r[0] for r in database.execute_sql("EXPLAIN " + sql, params))
    return "\n".join(str(r) for r in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params))


def statements_of(build, *args) -> list[tuple[str, list]]:
    """The SQL statements (and their values) `build(*args)` runs."""
    captured = []
    real = type(database.obj).execute_sql

    def spy(self, sql, params=None, *more, **kwargs):
        captured.append((sql, params))
        return real(self, sql, params, *more, **kwargs)

    type(database.obj).execute_sql = spy
    try:
        build(*args)
    finally:
        type(database.obj).execute_sql = real
    return captured


@pytest.fixture
def fresh_statistics(db_url):
    """Before the app and its users: tables as on a new database, planner statistics included (see pg_empty)."""
    if db_url.startswith("postgres"):
        database = dbmod.make_database(db_url, None)
        dbmod.bind(database)
        with database.connection_context():
            truncate_postgres(database)
        dbmod.dispose()


def test_the_queries_can_read_the_partial_indexes(fresh_statistics, app, coordinator, login):
    """The open-concern count (every coordinator page) and the outcomes seeks can read 0093's partial indexes: a
    change to how the queries name their conditions (a bound parameter instead of the literal, say) would lose
    them. The benchmark (ANALYZEd, 1,000,000 visits) shows the planners choosing them."""
    import flask_login

    from server.coordinator.concerns import open_concerns

    with app.test_request_context(), database.atomic():
        flask_login.login_user(coordinator)
        plan = _plan(*open_concerns().select(Visit.id).sql())
        # either index holding raised concerns (SQLite without statistics takes the older one); never all the
        # visits of the team's people
        assert "visit_open_concern" in plan or "visit_concern_concern_ack_at" in plan, plan
        today = utcnow().date()
        scope = Scope([coordinator.team_id], today - dt.timedelta(days=30), today, "Team")
        plans = "\n".join(_plan(sql, params) for sql, params in statements_of(build_outcomes, scope))
        assert "visit_person_wellbeing" in plans and "goal_progress_goal_rating" in plans


def test_the_team_report_reads_counted_visits_from_the_covering_index(fresh_statistics, app, coordinator, login):
    """A year's team report counts only visits neither deleted nor voided, from 0095's covering index: with
    voided_at outside it (0020's index), every visit of the team's year was looked up in the table too, and the
    report at 1,000,000 visits went past its 500 ms (bench/coordinator_bench.py). SQLite reads it alone, even
    without planner statistics."""
    import flask_login

    from server.coordinator.reports import build_report

    with app.test_request_context(), database.atomic():
        flask_login.login_user(coordinator)
        today = utcnow().date()
        year = Scope([coordinator.team_id], today - dt.timedelta(days=365), today, "Team")
        on_visits = [(sql, params) for sql, params in statements_of(build_report, year) if 'FROM "visit"' in sql]
        assert len(on_visits) == 3, on_visits  # contacts, people supported, contacts by month
        for sql, params in on_visits:
            plan = _plan(sql, params)
            if dbmod.is_sqlite():
                assert "COVERING INDEX visit_counted_by_person" in plan, plan
            else:  # with a few rows PostgreSQL picks any index on visit; the benchmark shows its choice at scale
                assert "Seq Scan on visit" not in plan and "visit" in plan, plan


def test_the_start_page_counts_visits_to_review_from_their_own_index(fresh_statistics, app, coordinator, login):
    """The start page's count of visits needing review reads 0096's partial index (only visits waiting for
    review), not every visit the team ever had: needs_review() must keep naming its condition as the index does."""
    import flask_login

    from server.coordinator.access import visits
    from server.visit_state import needs_review

    with app.test_request_context(), database.atomic():
        flask_login.login_user(coordinator)
        plan = _plan(*visits().select(Visit.id).where(needs_review()).sql())
        assert "visit_needs_review" in plan, plan


def test_row_ids_beyond_two_million_pack_without_overflow(app, team, worker):
    """A score and its row id are packed as id * 1024 + score + 512: with PostgreSQL's 4-byte ids that product
    passes 2**31 once ids pass 2,097,151 (a few years of a busy service's visits), so it is done in 8 bytes."""
    with app.app_context(), database.connection_context():
        now = utcnow().replace(microsecond=0)
        with write_transaction():
            rev = next_rev()
            person = Person.create(team=team, display_name="Big ids", rev=rev)
            goal = Goal.create(person=person, created_by=worker, title="g", rev=rev)
            for i, (rating, wellbeing) in enumerate(((1, 2), (5, 9))):
                when = now - dt.timedelta(days=3 - i)
                Visit.create(id=2_100_000_000 + i, person=person, author=worker, started_at=when,
                             wellbeing=wellbeing, rev=rev)
                GoalProgress.create(id=2_100_000_000 + i, goal=goal, author=worker, rating=rating,
                                    created_at=when, rev=rev)
        out = build_outcomes(Scope([team.id], now.date() - dt.timedelta(days=10), now.date(), "Team"), True)
    assert (out.goals.counted, out.goals.improved, out.wellbeing.counted, out.wellbeing.improved) == (1, 1, 1, 1)
    assert [(first, latest) for *_, first, latest, _change, _result in out.per_goal] == [(1, 5)]
