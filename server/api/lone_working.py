"""The field app's lone-working API (issue 14): the worker's coordinators' numbers (cached on the phone for
offline), the worker's own work phone, this browser's push subscription (for "Are you OK? Tap to check out")
and "I need help". Check-ins themselves sync like any record (entity check_in)."""

from __future__ import annotations

from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from .. import notify
from ..db import write_transaction
from ..errors import ApiError
from ..extensions import ErrorSchema
from ..models import AuditEvent, CheckIn
from ..safety.lone_working import ask_for_help, team_coordinators
from ..schemas import Text
from ..work_phone import PhoneError, clean_work_phone, dial_string

blp = Blueprint("lone_working_api", __name__, url_prefix="/api/v1", description="Lone working")
EMERGENCY = "999"


@blp.record_once
def _configure(state) -> None:
    from ..safety.lone_working import configure

    configure(state.app.config["ALONGSIDE"])


class StrictSchema(Schema):
    class Meta:
        unknown = "raise"


class ContactSchema(Schema):
    name = fields.String()
    work_phone = fields.String(metadata={"description": "As typed; empty when not given"})
    tel = fields.String(metadata={"description": "For a tel: link"})


class ContactsSchema(Schema):
    coordinators = fields.List(fields.Nested(ContactSchema))
    emergency = fields.String()
    my_work_phone = fields.String()
    vapid_public_key = fields.String()


class WorkPhoneSchema(StrictSchema):
    work_phone = Text(required=True, metadata={"description": "UK (0...) or international (+...), ≤30 characters"})


class SubscriptionBodySchema(StrictSchema):
    subscription = fields.Dict(required=True, metadata={"description": "The browser's PushSubscription JSON"})


class HelpSchema(StrictSchema):
    check_in_id = fields.UUID(allow_none=True, load_default=None)


class HelpAnswerSchema(Schema):
    alert_id = fields.String()
    coordinators = fields.List(fields.Nested(ContactSchema))
    emergency = fields.String()


def _contacts(user) -> list[dict]:
    return [{"name": c.name, "work_phone": c.work_phone, "tel": dial_string(c.work_phone) if c.work_phone else ""}
            for c in team_coordinators(user.team_id) if c.id != user.id]


@blp.route("/me/contacts", methods=["GET"])
@blp.response(200, ContactsSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
def contacts():
    """Who to call: the worker's team coordinators with their work phones, and the emergency number."""
    user = current_user._get_current_object()
    from flask import current_app

    return {"coordinators": _contacts(user), "emergency": EMERGENCY, "my_work_phone": user.work_phone,
            "vapid_public_key": current_app.config["ALONGSIDE"].extra.get("VAPID_PUBLIC_KEY", "")}


@blp.route("/me/work-phone", methods=["PUT"])
@blp.arguments(WorkPhoneSchema)
@blp.response(200, WorkPhoneSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(422, schema=ErrorSchema, description="Not a phone number's shape")
def set_work_phone(args):
    """The worker's own work phone number (their coordinators see it to follow up a lone-working visit)."""
    try:
        phone = clean_work_phone(args["work_phone"])
    except PhoneError as exc:
        raise ApiError(422, "invalid", str(exc), errors={"work_phone": [str(exc)]}) from exc
    user = current_user._get_current_object()
    with write_transaction():
        type(user).update(work_phone=phone).where(type(user).id == user.id).execute()
        AuditEvent.record(user, "user.work_phone", "user", user.uuid)
    return {"work_phone": phone}


@blp.route("/me/push-subscription", methods=["POST"])
@blp.arguments(SubscriptionBodySchema)
@blp.response(201, Schema.from_dict({"ok": fields.Boolean()}, name="SubscribedSchema"))
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(422, schema=ErrorSchema, description="Not a usable push subscription")
def push_subscription(args):
    """This browser's Web Push subscription, so the worker's own phone can be asked "Are you OK?"."""
    try:
        sub = notify.clean_subscription(args["subscription"], notify.current())
    except notify.SubscriptionError as exc:
        raise ApiError(422, "invalid", "This browser's push subscription cannot be used.",
                       errors={"subscription": [str(exc)]}) from exc
    user = current_user._get_current_object()
    with write_transaction():
        notify.save_push_subscription(sub, user=user)
        AuditEvent.record(user, "user.push_subscription", "user", user.uuid)
    return {"ok": True}


@blp.route("/safety/help", methods=["POST"])
@blp.arguments(HelpSchema)
@blp.response(201, HelpAnswerSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(404, schema=ErrorSchema, description="No such check-in of yours")
@blp.alt_response(422, schema=ErrorSchema, description="check_in_id is not an id")
def help_(args):
    """"I need help": an urgent alert to the worker's team coordinators (push and email, no names or places)."""
    user = current_user._get_current_object()
    check_in = None
    if args.get("check_in_id") is not None:
        check_in = CheckIn.get_or_none((CheckIn.uuid == args["check_in_id"]) & (CheckIn.worker == user.id))
        if check_in is None:
            raise ApiError(404, "not_found", "No such check-in of yours.")
    if check_in is None and user.team_id is None:
        raise ApiError(409, "no_team", "You are not in a team, so there is no coordinator to alert. Call 999 "
                                       "in an emergency.")
    with write_transaction():
        alert = ask_for_help(user, check_in)
    return {"alert_id": str(alert.uuid), "coordinators": _contacts(user), "emergency": EMERGENCY}
