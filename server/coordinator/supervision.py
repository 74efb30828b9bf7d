"""Supervision of peer workers (issue 16; ImROC's guidance on supervision for peer workers): a coordinator records
a session with a worker of their team (date, kind, topics, agreed actions, and the worker's own wellbeing only if
they choose to share it). The worker sees their own sessions on their phone (pulled, read-only, like feedback);
their team's coordinators see them here. Every read and write is audited; no export holds them. "Supervision
due" (ALONGSIDE_SUPERVISION_DUE_DAYS, default 28) shows on the start page, coverage on the outcomes report."""

from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from peewee import fn

from ..db import write_transaction
from ..models import SUPERVISION_KINDS, SupervisionSession, User
from ..sync.revisions import stamp_new
from ..sync.scope import parse_uuid
from . import bp
from .access import BadInput, audit, clean_text, get_worker_or_none, parse_date, today_local, workers

NOTE = 4000


def due_days() -> int:
    return current_app.config["ALONGSIDE"].SUPERVISION_DUE_DAYS


def _last_sessions(worker_ids) -> dict[int, dt.date]:
    return dict(SupervisionSession.select(SupervisionSession.worker, fn.MAX(SupervisionSession.held_on))
                .where(SupervisionSession.worker.in_(worker_ids) & ~SupervisionSession.deleted)
                .group_by(SupervisionSession.worker).tuples())


def status_rows() -> list[dict]:
    """Each active peer worker in scope: last session, next due date, and whether it is due now."""
    people = list(workers())
    last = _last_sessions([w.id for w in people])
    today = today_local()
    rows = []
    for w in people:
        held = last.get(w.id)
        held = dt.date.fromisoformat(str(held)[:10]) if held else None
        next_due = held + dt.timedelta(days=due_days()) if held else None
        rows.append({"worker": w, "last": held, "next_due": next_due, "due": next_due is None or next_due <= today})
    return rows


@bp.app_template_global()
def supervision_due_count() -> int:
    return sum(1 for row in status_rows() if row["due"])


def coverage(scope) -> list[dict]:
    """Per peer worker of the report's teams: sessions held in the period and the last one before its end."""
    query = User.select().where((User.role == "peer_worker") & User.active).order_by(User.name)
    if scope.team_ids is not None:
        query = query.where(User.team.in_(scope.team_ids))
    people = list(query)
    held = dict(SupervisionSession.select(SupervisionSession.worker, fn.COUNT(SupervisionSession.id))
                .where(SupervisionSession.worker.in_([w.id for w in people]) & ~SupervisionSession.deleted
                       & (SupervisionSession.held_on >= scope.start) & (SupervisionSession.held_on <= scope.end))
                .group_by(SupervisionSession.worker).tuples())
    weeks = max(1, ((scope.end - scope.start).days + 1)) / due_days()
    return [{"name": w.name, "sessions": held.get(w.id, 0),
             "expected": max(1, int(weeks)), "covered": held.get(w.id, 0) >= max(1, int(weeks))} for w in people]


@bp.get("/supervision")
def supervision_list():
    audit("supervision.list", "supervision")
    return render_template("coordinator/supervision.html", rows=status_rows(), due_days=due_days())


def _worker_or_404(worker_id) -> User:
    worker = get_worker_or_none(worker_id)
    if worker is None:
        abort(404)
    return worker


@bp.get("/supervision/worker/<user_id>")
def supervision_worker(user_id):
    worker = _worker_or_404(user_id)
    sessions = list(SupervisionSession.select()
                    .where((SupervisionSession.worker == worker) & ~SupervisionSession.deleted)
                    .order_by(SupervisionSession.held_on.desc()))
    audit("supervision.view", "user", worker.uuid, team=worker.team)
    return render_template("coordinator/supervision_worker.html", worker=worker, sessions=sessions,
                           kinds=SUPERVISION_KINDS, today=today_local())


def session_fields(form) -> dict:
    held_on = parse_date(form.get("held_on"), "Date", required=True)
    if held_on > today_local():
        raise BadInput("Date: a session cannot be in the future.")
    kind = form.get("kind", "")
    if kind not in SUPERVISION_KINDS:
        raise BadInput("Kind: choose one of the options.")
    wellbeing = None
    if form.get("share_wellbeing") == "yes":
        raw = (form.get("wellbeing") or "").strip()
        if not raw.isdigit() or not 0 <= int(raw) <= 10:
            raise BadInput("Wellbeing: a whole number from 0 to 10, or leave sharing off.")
        wellbeing = int(raw)
    return {"held_on": held_on, "kind": kind, "topics": clean_text(form.get("topics"), "Topics", NOTE),
            "actions": clean_text(form.get("actions"), "Agreed actions", NOTE), "wellbeing": wellbeing}


@bp.post("/supervision/worker/<user_id>")
def supervision_create(user_id):
    from flask_login import current_user

    worker = _worker_or_404(user_id)
    fields = session_fields(request.form)
    with write_transaction():
        session = SupervisionSession.create(worker=worker, team=worker.team_id, recorded_by=current_user.id,
                                            **fields, **stamp_new(SupervisionSession))
    audit("supervision.create", "supervision", session.uuid, team=worker.team)
    flash("Supervision session saved. It will show on the worker's phone after their next sync.")
    return redirect(url_for("coordinator.supervision_worker", user_id=worker.uuid))


def get_session_or_404(session_id) -> SupervisionSession:
    parsed = parse_uuid(session_id)
    session = SupervisionSession.get_or_none(SupervisionSession.uuid == parsed) if parsed else None
    if session is None or session.deleted or get_worker_or_none(str(session.worker.uuid)) is None:
        abort(404)
    return session


from . import supervision_edit  # noqa: E402,F401 - correcting and deleting a session (its routes)
