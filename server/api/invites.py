"""Reminders for people supported, from the worker's side: invite a person on your caseload (single-use
link + QR code), record consent to text messages or email given in person, see their consent state and
history, agree goal-step reminders, set their timings, stop them on the person's request. Who may see a
person is server/access.py's rule (404 otherwise, exactly like an id that does not exist); changing
anything but "stop" needs the person on your own caseload. Every time carries its UTC offset."""

from __future__ import annotations

import datetime as dt
import io

import segno
from flask import current_app, request, url_for
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from .. import notify
from ..access import find_person_for
from ..audit_reads import record_person_read
from ..db import write_transaction
from ..errors import ApiError
from ..extensions import ErrorSchema
from ..models import AuditEvent, CaseloadAssignment, Goal, Person, Reminder
from ..reminders import goals, schedule, status
from ..reminders.consent import CONSENT_TEXT_VERSION, add_contact, clean_address, create_invite, withdraw
from ..reminders.settings import as_dict, organisation_settings, settings_for
from .invite_schemas import (
    ContactConsentSchema,
    GoalReminderCreateSchema,
    InviteCreateSchema,
    InviteSchema,
    ReminderSchema,
    ReminderStatusSchema,
    SettingsSchema,
    TemplatesSchema,
    VapidKeySchema,
)

blp = Blueprint("invites_api", __name__, url_prefix="/api/v1/invites",
                description="Reminders for people supported: invites, consent state, goal-step reminders")

ERRORS = {
    401: "Not signed in",
    403: "CSRF token missing, or not allowed (organisation settings are for admins)",
    404: "No such person on your caseload (or, to read, in your team)",
    409: "The person's support has ended",
    422: "Some fields need attention; `errors` says which and why",
}


def documented(*codes):
    """Document these error answers, in the API's one error shape."""

    def wrap(view):
        for code in codes:
            view = blp.alt_response(code, schema=ErrorSchema, description=ERRORS[code])(view)
        return view

    return wrap


# --- access --------------------------------------------------------------------------------

def get_person(person_id, for_write: bool = True) -> Person:
    """The person if the signed-in user may see them (access.py's rule); to change anything but "stop",
    they must also be on the user's own open caseload. Otherwise 404, as if they did not exist."""
    user = current_user._get_current_object()
    person = find_person_for(user, person_id)
    if person is None:
        raise ApiError(404)
    if for_write and not (CaseloadAssignment.select()
                          .where((CaseloadAssignment.person == person.id) & (CaseloadAssignment.worker == user.id)
                                 & CaseloadAssignment.ended_at.is_null())
                          .exists()):
        raise ApiError(404)
    return person


def _utc(value):
    """A stored naive UTC time as an aware one, so it is written with its offset (+00:00)."""
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


def _reminder_out(reminder: Reminder) -> dict:
    return {"id": str(reminder.uuid), "kind": reminder.kind, "body": reminder.body,
            "send_at": _utc(reminder.send_at), "status": reminder.status,
            "goal_id": str(reminder.goal.uuid) if reminder.goal_id else None}


def _status_out(person: Person) -> dict:
    state = status.reminder_status(person)
    for key in ("consent_given_at", "consent_withdrawn_at", "last_sent_at"):
        state[key] = _utc(state[key])
    consents = [{**c, "given_at": _utc(c["given_at"]), "withdrawn_at": _utc(c["withdrawn_at"])}
                for c in status.consent_history(person)]
    return {"person_id": str(person.uuid), **state, "consents": consents, "consent_text_current": CONSENT_TEXT_VERSION,
            "upcoming": [_reminder_out(r) for r in status.upcoming(person)]}


def _settings_out(settings) -> dict:
    return as_dict(settings)


# --- endpoints -----------------------------------------------------------------------------

@blp.route("")
class Invites(MethodView):
    @blp.arguments(InviteCreateSchema)
    @blp.response(201, InviteSchema)
    @documented(401, 403, 404, 409, 422)
    def post(self, args):
        """Invite a person on your caseload to turn on reminders: a single-use link for 72 hours, also as QR."""
        person = get_person(args["person_id"])
        if person.status == "closed":
            raise ApiError(409, "person_closed", "This person's support has ended.")
        with write_transaction():
            token, invite = create_invite(person, current_user._get_current_object())
        link = request.host_url.rstrip("/") + url_for("person_pages.invite", token=token)
        buffer = io.BytesIO()  # with the SVG namespace, so the phone can parse it as SVG (never as HTML)
        segno.make(link, error="m").save(buffer, kind="svg", xmldecl=False, svgns=True, nl=False, scale=4,
                                         title="Reminders link", svgclass="qr")
        qr = buffer.getvalue().decode().replace("<svg ", '<svg role="img" ', 1)
        return {"url": link, "expires_at": _utc(invite.expires_at), "qr_svg": qr}


@blp.route("/vapid-public-key")
class VapidKey(MethodView):
    @blp.response(200, VapidKeySchema)
    @documented(401)
    def get(self):
        """The application server key browsers subscribe with (also public at /r/vapid-public-key)."""
        return {"public_key": current_app.config["ALONGSIDE"].extra["VAPID_PUBLIC_KEY"]}


@blp.route("/goal-templates")
class GoalTemplates(MethodView):
    @blp.response(200, TemplatesSchema)
    @documented(401)
    def get(self):
        """Safe goal-step reminder texts, the custom-text limit and the warning to show beside it."""
        return {"templates": [{"id": k, "text": v} for k, v in goals.GOAL_TEMPLATES.items()],
                "custom_text_max": goals.CUSTOM_TEXT_MAX, "warning": goals.CUSTOM_TEXT_WARNING}


@blp.route("/people/<uuid:person_id>")
class PersonReminders(MethodView):
    @blp.response(200, ReminderStatusSchema)
    @documented(401, 404)
    def get(self, person_id):
        """Consent state and upcoming reminders: on or off, how many phones, when consent was given."""
        person = get_person(person_id, for_write=False)
        record_person_read(current_user._get_current_object(), person, "person.reminders.view")
        return _status_out(person)

    @blp.response(200, ReminderStatusSchema)
    @documented(401, 403, 404)
    def delete(self, person_id):
        """Stop all reminders for this person on their request (recorded as such, with who stopped them):
        every channel, subscriptions, numbers and addresses removed."""
        person = get_person(person_id, for_write=False)
        with write_transaction():
            withdraw(person, actor=current_user._get_current_object(), reason="person_request")
        return _status_out(Person.get_by_id(person.id))


@blp.route("/people/<uuid:person_id>/contacts")
class PersonContacts(MethodView):
    @blp.arguments(ContactConsentSchema)
    @blp.response(201, ReminderStatusSchema)
    @documented(401, 403, 404, 409, 422)
    def post(self, args, person_id):
        """Record the person's consent, given to you in person, to reminders by text message or email at this
        number or address (for a phone that cannot open the invite link). Kept only while consent stands."""
        person = get_person(person_id)
        if person.status == "closed":
            raise ApiError(409, "person_closed", "This person's support has ended.")
        if args["text_version"] != CONSENT_TEXT_VERSION:
            raise ApiError(409, "consent_text_changed", "The consent text has changed: read the new one with them.")
        if args["channel"] not in notify.current().channels():
            raise ApiError(422, "validation_failed", errors={"channel": ["Not offered by this service."]})
        try:
            clean_address(args["channel"], args["address"])
        except ValueError as exc:
            raise ApiError(422, "validation_failed", str(exc), {"address": [str(exc)]}) from exc
        with write_transaction():
            add_contact(person, args["channel"], args["address"], recorded_by=current_user._get_current_object())
        return _status_out(Person.get_by_id(person.id))


@blp.route("/people/<uuid:person_id>/goal-reminders")
class GoalReminders(MethodView):
    @blp.arguments(GoalReminderCreateSchema)
    @blp.response(201, ReminderSchema)
    @documented(401, 403, 404, 422)
    def post(self, args, person_id):
        """Add a goal-step reminder agreed with the person: a safe template, or `custom` with `text`
        (at most 60 characters; no names and no health details — it may show on a locked screen)."""
        person = get_person(person_id)
        goal = None
        if args["goal_id"] is not None:
            goal = Goal.get_or_none((Goal.uuid == args["goal_id"]) & (Goal.person == person.id)
                                    & (Goal.deleted == False))  # noqa: E712
            if goal is None:
                raise ApiError(422, "validation_failed", errors={"goal_id": ["No such goal for this person."]})
        try:
            with write_transaction():
                reminder = goals.add_goal_reminder(person, args["send_at"], args["template"], args["text"],
                                                      goal=goal, by=current_user._get_current_object())
                AuditEvent.record(current_user._get_current_object(), "reminders.goal_step", "person",
                                  person.uuid)
        except goals.ReminderError as exc:
            raise ApiError(422, "validation_failed", goals.CUSTOM_TEXT_WARNING, exc.errors) from exc
        return _reminder_out(reminder)


@blp.route("/people/<uuid:person_id>/goal-reminders/<uuid:reminder_id>")
class GoalReminder(MethodView):
    @blp.response(204)
    @documented(401, 403, 404)
    def delete(self, person_id, reminder_id):
        """Cancel a pending goal-step reminder."""
        person = get_person(person_id)
        with write_transaction():
            done = (Reminder.update(status="cancelled")
                    .where((Reminder.uuid == reminder_id) & (Reminder.person == person.id)
                           & (Reminder.kind == schedule.GOAL_KIND) & (Reminder.status == "pending"))
                    .execute())
            if not done:
                raise ApiError(404)
            AuditEvent.record(current_user._get_current_object(), "reminders.goal_step_cancel", "person",
                              person.uuid)


@blp.route("/people/<uuid:person_id>/settings")
class PersonSettings(MethodView):
    @blp.response(200, SettingsSchema)
    @documented(401, 404)
    def get(self, person_id):
        """This person's reminder timings (organisation defaults where they have none of their own)."""
        return _settings_out(settings_for(get_person(person_id, for_write=False)))

    @blp.arguments(SettingsSchema)
    @blp.response(200, SettingsSchema)
    @documented(401, 403, 404, 422)
    def put(self, args, person_id):
        """Change this person's timings (agreed with them); pending visit reminders move at once."""
        person = get_person(person_id)
        with write_transaction():
            settings = schedule.update_settings(person, by=current_user._get_current_object(), **args)
            AuditEvent.record(current_user._get_current_object(), "reminders.settings", "person", person.uuid)
        return _settings_out(settings)


@blp.route("/organisation-settings")
class OrganisationSettings(MethodView):
    @blp.response(200, SettingsSchema)
    @documented(401)
    def get(self):
        """The organisation's default reminder timings."""
        return _settings_out(organisation_settings())

    @blp.arguments(SettingsSchema)
    @blp.response(200, SettingsSchema)
    @documented(401, 403, 422)
    def put(self, args):
        """Change the organisation's defaults (admins only); everyone's pending visit reminders follow."""
        if current_user.role != "admin":
            raise ApiError(403, "forbidden", "Only an admin can change organisation-wide settings.")
        with write_transaction():
            settings = schedule.update_settings(None, by=current_user._get_current_object(), **args)
            AuditEvent.record(current_user._get_current_object(), "reminders.organisation_settings")
        return _settings_out(settings)
