"""Staff alerts on the coordinator pages: open alerts (newest first), one alert's page (where every push and
email links: it checks the team through the one scope rule and audits the read, as it names the person), the
acknowledgement (action note + outcome) and resolution, and how this coordinator chose to be told: Web Push on
this browser (its own service worker, scope /coordinator/alerts/) and/or email."""

from __future__ import annotations

import json
from pathlib import Path

from flask import abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from .. import notify
from ..codes import CONCERN_OUTCOMES, CONCERN_WORDS
from ..db import utcnow, write_transaction
from ..errors import json_error
from ..models import AppliedMutation, Person, PushSubscription, StaffAlert, StaffAlertChoice, User, Visit
from ..safety import alerts as alert_rules
from ..sync.scope import parse_uuid
from . import bp
from .access import audit, parse_page, scope

STATIC = Path(__file__).resolve().parent.parent / "static" / "coordinator"
PAGE_SIZE = 50
KIND_WORDS = {
    "concern": "Serious concern",
    "concern_rejected": "A visit with a concern could not be saved",
    "lone_overdue": "Lone worker has not checked out",
    "help": "A worker asked for help",
}


def _alerts():
    return scope(StaffAlert.select(), StaffAlert.team)


def _alert_or_404(alert_id) -> StaffAlert:
    parsed = parse_uuid(alert_id)
    alert = _alerts().where(StaffAlert.uuid == parsed).first() if parsed else None
    if alert is None:
        abort(404)
    return alert


def open_alert_count() -> int:
    if not current_user.is_authenticated or not current_user.is_coordinator:
        return 0
    return _alerts().where(StaffAlert.resolved_at.is_null()).count()


def _names(rows) -> dict:
    """Users and people the listed alerts name, one query each."""
    user_ids = {i for a in rows for i in (a.worker_id, a.acknowledged_by_id, a.resolved_by_id) if i}
    person_ids = {a.person_id for a in rows if a.person_id}
    users = {u.id: u.name for u in User.select(User.id, User.name).where(User.id.in_(user_ids))} if user_ids else {}
    people = ({p.id: p for p in Person.select(Person.id, Person.uuid, Person.display_name)
               .where(Person.id.in_(person_ids))} if person_ids else {})
    return {"users": users, "people": people}


@bp.get("/alerts/")
def alert_list():
    show_all = request.args.get("show") == "all"
    page = parse_page(request.args.get("page"))
    query = _alerts() if show_all else _alerts().where(StaffAlert.resolved_at.is_null())
    rows = list(query.order_by(StaffAlert.raised_at.desc(), StaffAlert.id.desc())
                .limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE))
    with write_transaction():  # the list names people: a read of each
        audit("alert.list", "staff_alert", "", detail=f"{'all' if show_all else 'open'}, page {page}, "
                                                      f"{min(len(rows), PAGE_SIZE)} alerts")
    return render_template("coordinator/alerts.html", alerts=rows[:PAGE_SIZE], more=len(rows) > PAGE_SIZE,
                           page=page, show_all=show_all, kinds=KIND_WORDS, levels=CONCERN_WORDS,
                           outcomes=CONCERN_OUTCOMES, **_names(rows))


def _rejection(alert: StaffAlert) -> list[tuple[str, str]]:
    """Why the server refused a visit with a concern: the server's own messages (field, message), never what
    was typed."""
    if alert.kind != "concern_rejected":
        return []
    row = (AppliedMutation.select(AppliedMutation.result)
           .where((AppliedMutation.record_id == alert.subject_uuid) & (AppliedMutation.status == "rejected"))
           .order_by(AppliedMutation.id.desc()).first())
    if row is None:
        return []
    errors = json.loads(row.result or "{}").get("errors", {})
    return [(str(name), str(message)[:300]) for name, messages in errors.items()
            for message in (messages if isinstance(messages, list) else [messages])][:20]


@bp.get("/alerts/<alert_id>")
def alert_detail(alert_id):
    alert = _alert_or_404(alert_id)
    visit = None
    if alert.kind in alert_rules.CONCERN_KINDS:
        visit = Visit.get_or_none((Visit.uuid == alert.subject_uuid) & (Visit.deleted == False))  # noqa: E712
    with write_transaction():
        audit("alert.view", "staff_alert", alert.uuid, team=alert.team_id, detail=alert.kind)
    return render_template("coordinator/alert_detail.html", alert=alert, visit=visit, kinds=KIND_WORDS,
                           levels=CONCERN_WORDS, outcomes=CONCERN_OUTCOMES, reasons=_rejection(alert),
                           **_names([alert]))


def _act(alert_id, action: str):
    alert = _alert_or_404(alert_id)
    outcome = request.form.get("outcome", "")
    note = request.form.get("note", "")
    try:
        with write_transaction():
            if action == "resolve":
                alert_rules.resolve(alert, current_user._get_current_object(), outcome=outcome, note=note)
            else:
                alert_rules.acknowledge(alert, current_user._get_current_object(), outcome=outcome or None,
                                        note=note)
    except alert_rules.AlertError as exc:
        flash(str(exc), "error")
        return redirect(url_for("coordinator.alert_detail", alert_id=alert.uuid) + "#act")
    flash("Alert closed." if action == "resolve" else "Acknowledged: it will not escalate.", "ok")
    return redirect(url_for("coordinator.alert_detail", alert_id=alert.uuid))


@bp.post("/alerts/<alert_id>/acknowledge")
def alert_acknowledge(alert_id):
    return _act(alert_id, "acknowledge")


@bp.post("/alerts/<alert_id>/resolve")
def alert_resolve(alert_id):
    return _act(alert_id, "resolve")


# --- how I am told -------------------------------------------------------------------------------------

def _choice() -> StaffAlertChoice | None:
    return StaffAlertChoice.get_or_none(StaffAlertChoice.user == current_user.id)


@bp.route("/alerts/settings", methods=["GET", "POST"])
def alert_settings():
    choice = _choice()
    if request.method == "POST":
        by_email = request.form.get("by_email") == "on"
        with write_transaction():
            if choice is None:
                StaffAlertChoice.create(user=current_user.id, by_email=by_email)
            else:
                (StaffAlertChoice.update(by_email=by_email, updated_at=utcnow())
                 .where(StaffAlertChoice.id == choice.id).execute())
            audit("alert.settings", "user", current_user.uuid, detail=f"email {'on' if by_email else 'off'}")
        flash("Saved.", "ok")
        return redirect(url_for("coordinator.alert_settings"))
    browsers = PushSubscription.select().where(PushSubscription.user == current_user.id).count()
    channels = notify.current().channels()
    from flask import current_app

    return render_template("coordinator/alert_settings.html", choice=choice, browsers=browsers,
                           push_offered="webpush" in channels, email_offered="email" in channels,
                           vapid_key=current_app.config["ALONGSIDE"].extra.get("VAPID_PUBLIC_KEY", ""))


@bp.post("/alerts/push-subscription")
def alert_push_subscribe():
    """JSON: a browser's push subscription, to be told of alerts on it."""
    data = request.get_json(silent=True)
    try:
        sub = notify.clean_subscription(data.get("subscription") if isinstance(data, dict) else None,
                                        notify.current())
    except notify.SubscriptionError:
        return json_error(422, "bad_subscription", "This browser could not be set up for alerts.")
    with write_transaction():
        notify.save_push_subscription(sub, user=current_user._get_current_object())
        choice = _choice()
        if choice is None:
            StaffAlertChoice.create(user=current_user.id, by_push=True)
        else:
            (StaffAlertChoice.update(by_push=True, updated_at=utcnow())
             .where(StaffAlertChoice.id == choice.id).execute())
        audit("alert.push_on", "user", current_user.uuid)
    return jsonify({"ok": True})


@bp.post("/alerts/push-off")
def alert_push_off():
    """Stop push alerts to every browser of mine."""
    with write_transaction():
        PushSubscription.delete().where(PushSubscription.user == current_user.id).execute()
        (StaffAlertChoice.update(by_push=False, updated_at=utcnow())
         .where(StaffAlertChoice.user == current_user.id).execute())
        audit("alert.push_off", "user", current_user.uuid)
    flash("Alerts on your browsers are off.", "ok")
    return redirect(url_for("coordinator.alert_settings"))


@bp.get("/alerts/sw.js")
def alert_service_worker():
    """The alerts' own service worker, scope /coordinator/alerts/ (apart from the field app's and /r/)."""
    response = send_file(STATIC / "alerts-sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/coordinator/alerts/"
    return response
