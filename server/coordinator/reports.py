"""Team reports for a date range: a per-worker table and charts, all from aggregate SQL (GROUP BY),
never a Python loop over visits. Definitions are shown on the page so commissioners read them alike."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import render_template, request
from peewee import SQL, Case, Window, fn

from .. import db as dbmod
from ..codes import ATTENDED
from ..models import VISIT_ATTENDANCE, VISIT_MODES, Goal, GoalProgress, Person, Referral, Resource, User, Visit
from ..visit_state import counted
from . import bp
from .access import (
    BadInput,
    audit,
    day_after,
    day_start,
    get_team_or_404,
    is_admin,
    parse_range,
    team_ids_in_scope,
    teams_in_scope,
)
from .charts import bar_chart
from .concern_report import concern_summary, minutes_words

DEFAULT_DAYS = 90
DID_NOT_ATTEND = "3"  # attended: codes.ATTENDED (5, and 6 arrived late but seen)


@dataclass
class WorkerRow:
    worker_id: int | None
    name: str
    contacts: int = 0
    by_mode: dict = field(default_factory=dict)
    by_attendance: dict = field(default_factory=dict)
    minutes: int = 0
    concerns: int = 0
    people: int = 0
    new_people: int = 0
    goals_set: int = 0
    goals_achieved: int = 0
    progress_change: float | None = None
    progress_goals: int = 0
    referrals: int = 0
    referrals_taken_up: int = 0
    referrals_by_category: dict = field(default_factory=dict)

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)

    @property
    def dna_rate(self) -> float | None:
        attended = sum(self.by_attendance.get(code, 0) for code in ATTENDED)
        dna = self.by_attendance.get(DID_NOT_ATTEND, 0)
        return round(100 * dna / (attended + dna), 1) if attended + dna else None

    @property
    def take_up_rate(self) -> float | None:
        return round(100 * self.referrals_taken_up / self.referrals, 1) if self.referrals else None


@dataclass
class Scope:
    team_ids: list[int] | None  # None: every team (admin)
    start: dt.date
    end: dt.date
    label: str

    @property
    def since(self) -> dt.datetime:
        return day_start(self.start)

    @property
    def until(self) -> dt.datetime:
        return day_after(self.end)

    def people(self, query):
        return query if self.team_ids is None else query.where(Person.team.in_(self.team_ids))


def report_scope(args) -> Scope:
    start, end = parse_range(args, default_days=DEFAULT_DAYS)
    if not start or not end:
        raise BadInput("Please give both a “from” and a “to” date.")
    team_arg = args.get("team", "")
    teams = team_ids_in_scope()  # sync/scope.py: every team for an admin, else the coordinator's own
    if teams is None:
        if team_arg:
            team = get_team_or_404(team_arg)
            return Scope([team.id], start, end, team.name)
        return Scope(None, start, end, "All teams")
    if team_arg:
        get_team_or_404(team_arg)  # a coordinator may name only their own team
    if not teams:
        raise BadInput("You are not in a team, so there is nothing to report.")
    return Scope(teams, start, end, "Your team")


# COUNT(*), not COUNT(id): the visit's id is not in the covering index, so PostgreSQL could not read a team's year
# from the index alone and scanned the whole table instead (SQLite keeps the row id in every index).
ROWS = fn.COUNT(SQL("*"))


def _visits(scope: Scope, *columns):
    """Visits in the period and scope. The team filter is a subquery on the team's people (not a join), so
    both engines read visits through the covering (person, started_at, ...) index: a team's year, not
    everyone's, and never a table lookup."""
    query = (Visit.select(*columns)
             .where((Visit.started_at >= scope.since) & (Visit.started_at < scope.until) & counted()))
    # Every team (admin) goes through the people too: the covering index then serves every report query.
    query = query.where(Visit.person.in_(scope.people(Person.select(Person.id))))
    return query


def _int(value) -> int:
    return int(value or 0)


def build_report(scope: Scope) -> dict:
    rows: dict[int | None, WorkerRow] = {}

    def row(worker_id) -> WorkerRow:
        if worker_id not in rows:
            rows[worker_id] = WorkerRow(worker_id, "")
        return rows[worker_id]

    # Contacts by worker, mode and attendance; minutes of attended contact; concerns raised.
    concern = fn.SUM(Case(None, [(Visit.concern != "none", 1)], 0))
    attended_minutes = fn.SUM(Case(None, [(Visit.attendance.in_(ATTENDED), Visit.duration_minutes)], 0))
    contacts = (_visits(scope, Visit.author, Visit.mode, Visit.attendance, ROWS.alias("n"),
                        attended_minutes.alias("minutes"), concern.alias("concerns"))
                .group_by(Visit.author, Visit.mode, Visit.attendance)
                .tuples())
    totals = WorkerRow(None, "Whole team" if scope.team_ids else "All teams")
    for author_id, mode, attendance, n, minutes, concerns in contacts:
        for target in (row(author_id), totals):
            target.contacts += n
            target.by_mode[mode] = target.by_mode.get(mode, 0) + n
            target.by_attendance[attendance] = target.by_attendance.get(attendance, 0) + n
            target.minutes += _int(minutes)
            target.concerns += _int(concerns)

    # People supported (at least one attended contact) and those among them whose engagement began in range:
    # one row per (worker, person) pair, a few hundred for a team's year.
    pairs = (_visits(scope, Visit.author, Visit.person)
             .where(Visit.attendance.in_(ATTENDED))
             .group_by(Visit.author, Visit.person)
             .tuples())
    supported: dict[int, set[int]] = {}
    for author_id, person_id in pairs:
        supported.setdefault(author_id, set()).add(person_id)
    everyone = set().union(*supported.values()) if supported else set()
    new_ids = set(scope.people(Person.select(Person.id)
                               .where((Person.engagement_start >= scope.start)
                                      & (Person.engagement_start <= scope.end))).tuples()) if everyone else set()
    new_ids = {pid for (pid,) in new_ids}
    for author_id, person_ids in supported.items():
        row(author_id).people, row(author_id).new_people = len(person_ids), len(person_ids & new_ids)
    totals.people, totals.new_people = len(everyone), len(everyone & new_ids)

    # Goals set and achieved in range, by the worker who set them.
    achieved_on = fn.COALESCE(Goal.achieved_at, Goal.updated_at)
    is_set = (Goal.created_at >= scope.since) & (Goal.created_at < scope.until)
    is_achieved = (Goal.status == "achieved") & (achieved_on >= scope.since) & (achieved_on < scope.until)
    goals = (scope.people(Goal.select(Goal.created_by, fn.SUM(Case(None, [(is_set, 1)], 0)),
                                      fn.SUM(Case(None, [(is_achieved, 1)], 0)))
                          .join(Person, on=(Goal.person == Person.id))
                          .where(~Goal.deleted & (is_set | is_achieved)))
             .group_by(Goal.created_by)
             .tuples())
    for worker_id, set_, achieved in goals:
        for target in (row(worker_id), totals):
            target.goals_set += _int(set_)
            target.goals_achieved += _int(achieved)

    # Average progress change: per goal, its last rating in range minus its first (goals rated twice or more).
    for worker_id, change_sum, goal_count in _progress_changes(scope):
        target = row(worker_id)
        target.progress_change = round(float(change_sum) / goal_count, 2) if goal_count else None
        target.progress_goals = goal_count
    summed = [(r.progress_change * r.progress_goals, r.progress_goals) for r in rows.values() if r.progress_goals]
    if summed:
        totals.progress_goals = sum(n for _, n in summed)
        totals.progress_change = round(sum(s for s, _ in summed) / totals.progress_goals, 2)

    # Referrals made in range by category and outcome; "taken up" means the person attended.
    referrals = (scope.people(Referral.select(Referral.created_by, Resource.category, Referral.status,
                                              fn.COUNT(Referral.id))
                              .join(Resource, on=(Referral.resource == Resource.id))
                              .switch(Referral)
                              .join(Person, on=(Referral.person == Person.id))
                              .where((Referral.created_at >= scope.since) & (Referral.created_at < scope.until)
                                     & ~Referral.deleted & (Referral.status != "suggested")))
                 .group_by(Referral.created_by, Resource.category, Referral.status)
                 .tuples())
    for worker_id, category, status, n in referrals:
        category = category or "Uncategorised"
        for target in (row(worker_id), totals):
            target.referrals += n
            target.referrals_by_category[category] = target.referrals_by_category.get(category, 0) + n
            if status == "attended":
                target.referrals_taken_up += n

    names = dict(User.select(User.id, User.name).where(User.id.in_([k for k in rows if k is not None])).tuples()) \
        if rows else {}
    for worker_id, r in rows.items():
        r.name = names.get(worker_id, "Former or unknown worker")
    workers = sorted(rows.values(), key=lambda r: r.name.lower())
    return {"workers": workers, "totals": totals, "months": _contacts_by_month(scope)}


def _progress_changes(scope: Scope):
    """(worker id, sum of per-goal change, goals counted), computed in SQL: one window over each goal's
    ratings in the period (oldest to newest) gives its first and last rating in a single sort."""
    window = Window(partition_by=[GoalProgress.goal], order_by=[GoalProgress.created_at, GoalProgress.id],
                    start=Window.preceding(), end=Window.following())
    team_goals = scope.people(Goal.select(Goal.id).join(Person, on=(Goal.person == Person.id))
                              .where(~Goal.deleted))
    ranked = (GoalProgress
              .select(GoalProgress.goal.alias("goal_id"),
                      fn.FIRST_VALUE(GoalProgress.rating).over(window).alias("first"),
                      fn.LAST_VALUE(GoalProgress.rating).over(window).alias("last"),
                      fn.COUNT(GoalProgress.id).over(window).alias("n"))
              .where((GoalProgress.created_at >= scope.since) & (GoalProgress.created_at < scope.until)
                     & ~GoalProgress.deleted)
              .window(window))
    if scope.team_ids is not None:
        ranked = ranked.where(GoalProgress.goal.in_(team_goals))
    ranked = ranked.alias("ranked")
    per_goal = (Goal.select(Goal.created_by.alias("worker_id"), (fn.MAX(ranked.c.last) - fn.MAX(ranked.c.first))
                            .alias("change"))
                .join(ranked, on=(Goal.id == ranked.c.goal_id))
                .group_by(Goal.id, Goal.created_by)
                .having(fn.MAX(ranked.c.n) >= 2)
                .alias("per_goal"))
    return (Goal.select(per_goal.c.worker_id, fn.SUM(per_goal.c.change), fn.COUNT(per_goal.c.worker_id))
            .from_(per_goal)
            .group_by(per_goal.c.worker_id)
            .tuples())


def _contacts_by_month(scope: Scope) -> list[tuple[str, int]]:
    if dbmod.is_postgres():
        month = fn.to_char(Visit.started_at, "YYYY-MM")
    else:
        month = fn.strftime("%Y-%m", Visit.started_at)
    query = (_visits(scope, month.alias("month"), ROWS)
             .group_by(month)
             .order_by(month)
             .tuples())
    return [(m, n) for m, n in query]


def report_charts(report: dict) -> dict:
    totals: WorkerRow = report["totals"]
    by_mode = [(VISIT_MODES.get(code, code), totals.by_mode.get(code, 0)) for code in VISIT_MODES
               if totals.by_mode.get(code)]
    by_attendance = [(VISIT_ATTENDANCE.get(code, code), totals.by_attendance.get(code, 0)) for code in VISIT_ATTENDANCE
                     if totals.by_attendance.get(code)]
    by_category = sorted(totals.referrals_by_category.items(), key=lambda kv: (-kv[1], kv[0]))
    hours = [(r.name, r.hours) for r in report["workers"]]
    return {
        "mode": (by_mode, bar_chart("chart-mode", "Contacts by how they happened", by_mode)),
        "attendance": (by_attendance, bar_chart("chart-attendance", "Contacts by attendance", by_attendance)),
        "month": (report["months"], bar_chart("chart-month", "Contacts by month", report["months"])),
        "hours": (hours, bar_chart("chart-hours", "Hours of direct support by worker", hours, " h")),
        "referrals": (by_category, bar_chart("chart-referrals", "Referrals by category", by_category)),
    }


@bp.get("/reports")
def report():
    scope = report_scope(request.args)
    data = build_report(scope)
    audit("report.view", "report", "", detail=f"{scope.start}..{scope.end} {scope.label}"[:200])

    return render_template(
        "coordinator/report.html", scope=scope, report=data, charts=report_charts(data),
        modes=VISIT_MODES, attendance=VISIT_ATTENDANCE, teams=list(teams_in_scope()) if is_admin() else [],
        team_arg=request.args.get("team", ""),
        concerns=concern_summary(scope, _visits), minutes_words=minutes_words,  # issue 14
    )
