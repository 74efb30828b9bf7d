""""Out on visits" (issue 14, lone working): who of the coordinator's team is out on a visit now, overdue,
escalated or safe today, with each worker's work phone and the place they typed (kept only until the check-in
is closed); a coordinator records what happened to an overdue or escalated check-in. Alerts link here
(?focus=<check-in id>): the push and email say nothing of who or where."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from peewee import JOIN

from .. import local_time
from ..db import utcnow, write_transaction
from ..models import CheckIn, Person, User
from ..safety.lone_working import LONE_OUTCOMES, grace, resolve_check_in
from ..sync.scope import parse_uuid
from ..work_phone import dial_string
from . import bp
from .access import BadInput, audit, clean_text, scope

ACTIVE = ("open", "prompted", "escalated")
NEEDS_ACTION = ("prompted", "escalated")


def _today_start_utc() -> dt.datetime:
    """Since local midnight, and at least the last 12 hours (a visit just after midnight stays in view)."""
    start = local_time.to_utc(dt.datetime.combine(local_time.today(), dt.time()))
    return min(start, utcnow() - dt.timedelta(hours=12))


def _rows():
    worker = User.alias("ci_worker")
    query = (CheckIn.select(CheckIn, worker.name.alias("worker_name"), worker.work_phone.alias("worker_phone"),
                            worker.uuid.alias("worker_uuid"), Person.display_name.alias("person_name"),
                            Person.uuid.alias("person_uuid"))
             .join(worker, on=(CheckIn.worker == worker.id))
             .join_from(CheckIn, Person, JOIN.LEFT_OUTER, on=(CheckIn.person == Person.id))
             .where(~CheckIn.deleted & (CheckIn.status.in_(ACTIVE) | (CheckIn.started_at >= _today_start_utc())))
             .order_by(CheckIn.expected_end_at))
    return list(scope(query, CheckIn.team).objects())


def describe(c: CheckIn, now: dt.datetime) -> dict:
    """What the page says of one check-in: its group, its status in words and whether it needs action."""
    late_checkout = c.checked_out_at is not None and c.escalated_at is not None
    if c.status == "escalated":
        group, words = "action", "Escalated: coordinators alerted"
    elif c.status == "prompted":
        group, words = "action", "Overdue: asked “Are you OK?”"
    elif c.status == "open" and c.expected_end_at <= now:
        group, words = "action" if c.expected_end_at <= now - grace() else "out", "Past expected end"
    elif c.status == "open":
        group, words = "out", "Out on a visit"
    elif c.status == "resolved":
        group, words = "safe", f"Resolved: {LONE_OUTCOMES.get(c.outcome, c.outcome)}"
    else:
        group, words = "safe", "Checked out"
    return {"c": c, "group": group, "words": words, "late_checkout": late_checkout,
            "tel": dial_string(c.worker_phone) if c.worker_phone else "",
            "can_resolve": c.status in ACTIVE and group == "action"}


@bp.get("/lone-working")
def lone_working():
    now = utcnow()
    rows = [describe(c, now) for c in _rows()]
    focus = parse_uuid(request.args.get("focus"))
    for row in rows:
        if focus is not None and row["c"].uuid == focus:
            row["focus"] = True
            audit("checkin.view", "check_in", row["c"].uuid, team=row["c"].team_id)
    groups = {name: [r for r in rows if r["group"] == name] for name in ("action", "out", "safe")}
    return render_template("coordinator/lone_working.html", groups=groups, outcomes=LONE_OUTCOMES,
                           grace_minutes=int(grace().total_seconds() // 60))


@bp.post("/lone-working/<checkin_id>/resolve")
def lone_working_resolve(checkin_id):
    key = parse_uuid(checkin_id)
    check_in = None if key is None else scope(CheckIn.select(), CheckIn.team).where(CheckIn.uuid == key).first()
    if check_in is None:
        from flask import abort

        abort(404)
    outcome = request.form.get("outcome", "")
    if outcome not in LONE_OUTCOMES:
        raise BadInput("What happened: choose one of the options.")
    note = clean_text(request.form.get("note"), "Note", 2000)
    if check_in.status not in ACTIVE:
        raise BadInput("This check-in is already closed: the worker checked out or someone resolved it.")
    with write_transaction():
        resolve_check_in(check_in, current_user._get_current_object(), outcome, note)
    flash(f"Recorded: {LONE_OUTCOMES[outcome]}.", "ok")
    return redirect(url_for("coordinator.lone_working"))


@bp.app_template_global("lone_check_in_for")
def lone_check_in_for(alert):
    """The check-in a lone_overdue or help alert is about, with its worker's name and work phone (for the alert
    page: the message itself says nothing of who or where), or None."""
    if alert.kind not in ("lone_overdue", "help"):
        return None
    row = [r for r in _rows_for(CheckIn.uuid == alert.subject_uuid)]
    if not row and alert.kind == "help" and alert.worker_id:  # help: the worker's latest check-in, if any
        row = _rows_for((CheckIn.worker == alert.worker_id) & (CheckIn.started_at <= alert.raised_at))[-1:]
    return describe(row[-1], utcnow()) if row else None


def _rows_for(condition):
    worker = User.alias("ci_worker")
    return list(CheckIn.select(CheckIn, worker.name.alias("worker_name"), worker.work_phone.alias("worker_phone"))
                .join(worker, on=(CheckIn.worker == worker.id)).where(condition).order_by(CheckIn.started_at)
                .objects())
