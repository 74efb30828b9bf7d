"""The outcomes report (issue 16): a team's goal-based outcomes, wellbeing, CHIME spread, referral take-up and
supervision coverage for a period, as a page of server-drawn charts (each with its numbers as a table) and CSV.
The figures come from outcomes.py; supervision coverage from supervision.py."""

from __future__ import annotations

from flask import render_template, request

from ..codes import CHIME
from . import bp
from .access import audit, is_admin, teams_in_scope, to_local
from .charts import bar_chart, line_chart
from .exports import csv_response
from .outcomes import RULE, build_outcomes, person_goal_outcomes, person_wellbeing
from .reports import report_scope
from .supervision import coverage

RESULTS = (("improved", "Improved"), ("unchanged", "Unchanged"), ("worse", "Worse"))


def _charts(out) -> dict:
    goals = [(label, getattr(out.goals, key)) for key, label in RESULTS]
    wellbeing = [(label, getattr(out.wellbeing, key)) for key, label in RESULTS]
    chime_set = [(CHIME[t], n) for t, n in out.chime_set.items()]
    chime_done = [(CHIME[t], n) for t, n in out.chime_achieved.items()]
    taken = [(c, t) for c, _n, t in out.referrals]
    return {
        "goals": ("Goals: change from first to latest rating", "Result", goals,
                  bar_chart("chart-goals", "Goals: change from first to latest rating", goals)),
        "wellbeing": ("People: change in wellbeing", "Result", wellbeing,
                      bar_chart("chart-wellbeing", "People: change in wellbeing", wellbeing)),
        "chime-set": ("Goals set, by CHIME tag", "CHIME tag", chime_set,
                      bar_chart("chart-chime-set", "Goals set, by CHIME tag", chime_set)),
        "chime-achieved": ("Goals achieved, by CHIME tag", "CHIME tag", chime_done,
                           bar_chart("chart-chime-achieved", "Goals achieved, by CHIME tag", chime_done)),
        "take-up": ("Referrals taken up, by category", "Category", taken,
                    bar_chart("chart-take-up", "Referrals taken up, by category", taken)),
    }


@bp.app_template_global()
def person_outcomes(person) -> dict:
    """For the person page: wellbeing over time (a chart and its numbers) and each goal's outcome."""
    points = [(to_local(at).strftime("%d %b %Y"), score) for at, score in person_wellbeing(person)]
    return {"wellbeing": points, "chart": line_chart("chart-person-wellbeing", "Wellbeing over time", points),
            "goals": person_goal_outcomes(person), "rule": RULE}


@bp.get("/outcomes")
def outcomes_report():
    scope = report_scope(request.args)
    out = build_outcomes(scope)
    audit("report.outcomes", "report", "", detail=f"{scope.start}..{scope.end} {scope.label}"[:200])
    return render_template("coordinator/outcomes.html", scope=scope, out=out, charts=_charts(out), rule=RULE,
                           results=RESULTS, chime=CHIME, supervision=coverage(scope),
                           teams=list(teams_in_scope()) if is_admin() else [], team_arg=request.args.get("team", ""))


@bp.get("/exports/outcomes.csv")
def export_outcomes():
    """The report's figures, one a row (section, measure, value), then each goal's outcome."""
    scope = report_scope(request.args)
    out = build_outcomes(scope, per_goal=True)
    audit("export.outcomes", "export", "", detail=f"{scope.start}..{scope.end} {scope.label}"[:200])

    def rows():
        for section, shares in (("goals", out.goals), ("wellbeing", out.wellbeing)):
            yield [section, "counted", shares.counted, "", "", "", "", "", ""]
            yield [section, "people", shares.people, "", "", "", "", "", ""]
            for key, _label in RESULTS:
                yield [section, key, getattr(shares, key), shares.pct(key), "", "", "", "", ""]
        for tag in CHIME:
            yield ["chime_set", tag, out.chime_set.get(tag, 0), "", "", "", "", "", ""]
            yield ["chime_achieved", tag, out.chime_achieved.get(tag, 0), "", "", "", "", "", ""]
        for category, made, taken in out.referrals:
            yield ["referrals_made", category, made, "", "", "", "", "", ""]
            yield ["referrals_taken_up", category, taken, round(100 * taken / made, 1) if made else "", "", "", "",
                   "", ""]
        for goal_id, person_id, tags, first, latest, change, result in out.per_goal:
            yield ["goal", goal_id, change, "", result, first, latest, person_id, " ".join(tags)]

    header = ["section", "measure", "value", "percent", "result", "first_rating", "latest_rating", "person_id",
              "chime_tags"]
    return csv_response(f"alongside-outcomes-{scope.start}-to-{scope.end}.csv", header, rows())
