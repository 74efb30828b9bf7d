"""Correcting and deleting a supervision session (issue 16): only the coordinator who recorded it may (or an
admin, for sessions whose recorder has left); the team's other coordinators see it but cannot change it. An edit
reaches the worker's phone with their next sync; a deletion is a tombstone (the phone removes its copy) that keeps
the date and kind but blanks the topics, actions and shared wellbeing. Both are audited. Routes name the worker
(user_id, like every coordinator route) and the session by `id` (query) or `session_id` (form)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..db import write_transaction
from ..models import SUPERVISION_KINDS, SupervisionSession
from ..sync.revisions import stamp_values
from . import bp
from .access import audit, is_admin, today_local
from .supervision import get_session_or_404, session_fields


@bp.app_template_global()
def may_change_supervision(session) -> bool:
    return session.recorded_by_id == current_user.id or is_admin()


def _changeable_or_403(user_id, session_id) -> SupervisionSession:
    session = get_session_or_404(session_id)  # out of scope or deleted: 404, as an unknown id
    if str(session.worker.uuid) != str(user_id):
        abort(404)
    if not may_change_supervision(session):
        abort(403)
    return session


@bp.get("/supervision/worker/<user_id>/session")
def supervision_edit_form(user_id):
    session = _changeable_or_403(user_id, request.args.get("id"))
    audit("supervision.view", "supervision", session.uuid, team=session.worker.team)
    return render_template("coordinator/supervision_session.html", s=session, worker=session.worker,
                           kinds=SUPERVISION_KINDS, today=today_local())


@bp.post("/supervision/worker/<user_id>/session")
def supervision_update(user_id):
    session = _changeable_or_403(user_id, request.form.get("session_id"))
    fields = session_fields(request.form)
    with write_transaction():
        (SupervisionSession.update(**fields, **stamp_values(session, ()))
         .where(SupervisionSession.id == session.id).execute())
    audit("supervision.update", "supervision", session.uuid, team=session.worker.team)
    flash("Supervision session updated. The worker's phone will show the change after their next sync.")
    return redirect(url_for("coordinator.supervision_worker", user_id=session.worker.uuid))


@bp.post("/supervision/worker/<user_id>/session/delete")
def supervision_delete(user_id):
    session = _changeable_or_403(user_id, request.form.get("session_id"))
    with write_transaction():
        (SupervisionSession.update(deleted=True, topics="", actions="", wellbeing=None, **stamp_values(session, ()))
         .where(SupervisionSession.id == session.id).execute())
    audit("supervision.delete", "supervision", session.uuid, team=session.worker.team)
    flash("Supervision session deleted. It will leave the worker's phone at their next sync.")
    return redirect(url_for("coordinator.supervision_worker", user_id=session.worker.uuid))
