"""Concern triage: visits where the worker raised a concern, high first, counted in the navigation;
a coordinator acknowledges one with a note of the action taken."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from peewee import Case

from ..codes import CONCERN_OUTCOMES
from ..db import utcnow, write_transaction
from ..models import Person, StaffAlert, User, Visit
from ..safety import alerts as alert_rules
from ..sync.revisions import stamp_values
from . import bp
from .access import audit, clean_text, get_visit_or_404, parse_page, visits
from .review import safe_back

PAGE_SIZE = 50


def open_concerns():
    return visits().where(Visit.concern.in_(("low", "high")) & Visit.concern_ack_at.is_null())


def open_concern_count() -> int:
    from flask_login import current_user as user

    if not user.is_authenticated or not user.is_coordinator:
        return 0
    return open_concerns().count()


@bp.get("/concerns")
def concern_list():
    show_all = request.args.get("show") == "all"
    page = parse_page(request.args.get("page"))
    query = open_concerns() if not show_all else visits().where(Visit.concern.in_(("low", "high")))
    high_first = Case(None, [(Visit.concern == "high", 0)], 1)
    rows = list(query
                .select(Visit, Person, User)
                .switch(Visit)
                .join(User, on=(Visit.author == User.id))
                .order_by(Visit.concern_ack_at.is_null(False), high_first, Visit.started_at.desc(), Visit.id.desc())
                .limit(PAGE_SIZE + 1)
                .offset((page - 1) * PAGE_SIZE))
    with write_transaction():  # the page shows concern notes: a read of each visit listed
        audit("concern.list", "visit", "", detail=f"{'all' if show_all else 'open'}, page {page}, "
                                                  f"{min(len(rows), PAGE_SIZE)} visits")
    return render_template("coordinator/concerns.html", visits=rows[:PAGE_SIZE], more=len(rows) > PAGE_SIZE,
                           page=page, show_all=show_all)


@bp.post("/visits/<visit_id>/acknowledge")
def acknowledge_concern(visit_id):
    visit = get_visit_or_404(visit_id)
    note = clean_text(request.form.get("note"), "Action note", 1000, required=True)
    outcome = request.form.get("outcome") or ""
    if outcome and outcome not in CONCERN_OUTCOMES:
        flash("Choose what was done from the list.", "error")
    elif visit.concern == "none":
        flash("This visit has no concern to acknowledge.", "error")
    elif visit.concern_ack_at is not None:
        flash("This concern was already acknowledged.", "ok")
    else:
        with write_transaction():
            alert = (StaffAlert.select().where((StaffAlert.subject_uuid == visit.uuid)
                                               & StaffAlert.kind.in_(alert_rules.CONCERN_KINDS)
                                               & StaffAlert.acknowledged_at.is_null()).first())
            if alert is not None:  # the alert stops escalating; the note and outcome reach the visit through it
                alert_rules.acknowledge(alert, current_user._get_current_object(), outcome=outcome or None,
                                        note=note)
            (Visit.update(concern_ack_at=utcnow(), concern_ack_by=current_user.id, concern_ack_note=note,
                          concern_outcome=outcome, **stamp_values(visit, ()))
             .where(Visit.id == visit.id)
             .execute())
            audit("concern.acknowledge", "visit", visit.uuid, team=visit.person.team_id)
        flash("Concern acknowledged.", "ok")
    return redirect(safe_back(url_for("coordinator.concern_list")))
