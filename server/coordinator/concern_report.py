"""The reports page's concerns section (issue 14): concerns raised in the period by level and by what was done
(the outcome a coordinator recorded), how many are still waiting, the median time from the concern reaching the
server to its acknowledgement, and how many alerts escalated. Counts come from GROUP BY; only the acknowledged
concerns' two times are read, to take the median."""

from __future__ import annotations

import statistics

from peewee import fn

from ..codes import CONCERN_OUTCOMES, CONCERN_WORDS
from ..models import StaffAlert, Visit

LEVELS = ("high", "low")


def concern_summary(scope, visits) -> dict:
    """`visits(scope, *columns)` is reports._visits: the period's visits in the report's scope."""
    counts = {(level, outcome): n for level, outcome, n in
              visits(scope, Visit.concern, Visit.concern_outcome, fn.COUNT(Visit.id))
              .where(Visit.concern.in_(LEVELS))
              .group_by(Visit.concern, Visit.concern_outcome).tuples()}
    waiting = dict(visits(scope, Visit.concern, fn.COUNT(Visit.id))
                   .where(Visit.concern.in_(LEVELS) & Visit.concern_ack_at.is_null())
                   .group_by(Visit.concern).tuples())
    minutes: dict[str, list[float]] = {level: [] for level in LEVELS}
    for level, raised, acked in (visits(scope, Visit.concern, Visit.created_at, Visit.concern_ack_at)
                                 .where(Visit.concern.in_(LEVELS) & Visit.concern_ack_at.is_null(False)).tuples()):
        minutes[level].append(max(0.0, (acked - raised).total_seconds() / 60))
    everyone = minutes["high"] + minutes["low"]
    escalated = StaffAlert.select().where((StaffAlert.raised_at >= scope.since) & (StaffAlert.raised_at < scope.until)
                                          & StaffAlert.escalated_at.is_null(False))
    if scope.team_ids is not None:
        escalated = escalated.where(StaffAlert.team.in_(scope.team_ids))
    outcomes = [*CONCERN_OUTCOMES.items(), ("", "Not recorded yet")]
    rows = []
    for level in LEVELS:
        by_outcome = {code: counts.get((level, code), 0) for code, _ in outcomes}
        rows.append({"level": level, "words": CONCERN_WORDS[level], "total": sum(by_outcome.values()),
                     "by_outcome": by_outcome, "waiting": waiting.get(level, 0),
                     "median_minutes": _median(minutes[level])})
    return {"rows": rows, "outcomes": outcomes, "median_minutes": _median(everyone),
            "escalated": escalated.count(), "total": sum(r["total"] for r in rows)}


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def minutes_words(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 90:
        return f"{value:.0f} min"
    return f"{value / 60:.1f} h"
