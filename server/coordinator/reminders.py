"""Reminders on the coordinator pages: the person page's section (status, consent history, stop on the
person's request) and the organisation-wide default timings, which only an admin may change."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..db import write_transaction
from ..reminders import schedule, status
from ..reminders.consent import withdraw
from ..reminders.settings import DEFAULTS, as_dict, organisation_settings, valid_hhmm
from . import bp
from .access import BadInput, audit, get_person_or_404, is_admin


def reminder_section(person) -> dict:
    """What the person page shows: the status, a one-line summary and the consent history."""
    state = status.reminder_status(person)
    return {**state, "summary": status.summary(state), "history": status.consent_history(person),
            "channel_names": status.CHANNEL_NAMES}


@bp.post("/people/<person_id>/reminders/stop")
def person_reminders_stop(person_id):
    person = get_person_or_404(person_id)
    if request.form.get("confirm") != "yes":
        raise BadInput("Tick the box to confirm the person asked for reminders to stop.")
    with write_transaction():
        withdraw(person, actor=current_user._get_current_object(), reason="person_request")
        audit("reminders.stop", "person", person.uuid, team=person.team_id, detail="person_request")
    flash("Reminders stopped, on the person's request.", "ok")
    return redirect(url_for("coordinator.person_detail", person_id=person.uuid) + "#reminders-h")


def _parse_settings(form) -> dict:
    values = {"evening_before": form.get("evening_before") == "on"}
    for name in ("evening_time", "quiet_hours_start", "quiet_hours_end"):
        value = form.get(name, "")
        if not valid_hhmm(value):
            raise BadInput("Times are 24-hour HH:MM, for example 18:00.")
        values[name] = value
    try:
        hours = int(form.get("hours_before", ""))
    except ValueError:
        hours = -1
    if not 0 <= hours <= 24:
        raise BadInput("Hours before a visit: a whole number from 0 to 24.")
    values["hours_before"] = hours
    return values


@bp.route("/reminder-settings", methods=["GET", "POST"])
def reminder_settings():
    """Organisation-wide reminder defaults: admins change them; coordinators may only read them."""
    if request.method == "POST":
        if not is_admin():
            abort(403)
        values = _parse_settings(request.form)
        with write_transaction():
            schedule.update_settings(None, by=current_user._get_current_object(), **values)
            audit("reminders.organisation_settings", detail="changed")
        flash("Saved. Everyone's planned reminders follow the new timings.", "ok")
        return redirect(url_for("coordinator.reminder_settings"))
    return render_template("coordinator/reminder_settings.html", settings=as_dict(organisation_settings()),
                           defaults=as_dict(DEFAULTS), admin=is_admin())
