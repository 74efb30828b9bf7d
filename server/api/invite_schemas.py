"""Schemas of the reminders API (server/api/invites.py): what comes in is loaded through these, what goes
out is written by them; every time is written with its UTC offset."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..reminders import goals

HHMM = validate.Regexp(r"^([01]\d|2[0-3]):([0-5]\d)$", error="Use HH:MM, 24-hour.")


# --- schemas ---------------------------------------------------------------------------------

class InviteCreateSchema(Schema):
    person_id = fields.UUID(required=True)


class InviteSchema(Schema):
    url = fields.String(metadata={"description": "The single-use link to give the person (valid 72 hours)"})
    expires_at = fields.DateTime(format="iso")
    qr_svg = fields.String(metadata={"description": "The link as a QR code, an SVG element"})


class ReminderSchema(Schema):
    id = fields.String()
    kind = fields.String(metadata={"description": "visit_evening | visit_soon | goal_step"})
    body = fields.String()
    send_at = fields.DateTime(format="iso", metadata={"description": "UTC"})
    status = fields.String()
    goal_id = fields.String(allow_none=True)


class ConsentHistorySchema(Schema):
    channel = fields.String(metadata={"description": "webpush | sms | email"})
    given_at = fields.DateTime(format="iso")
    text_version = fields.String()
    recorded_by = fields.String(allow_none=True, metadata={"description": "The worker who recorded it in person"})
    withdrawn_at = fields.DateTime(format="iso", allow_none=True)
    withdrawn_by = fields.String(allow_none=True)
    withdrawn_reason = fields.String(metadata={"description": "person_page | person_request | replaced | ''"})


class ReminderStatusSchema(Schema):
    person_id = fields.String()
    reminders_on = fields.Boolean()
    devices = fields.Integer(metadata={"description": "Phones with an active subscription"})
    channels = fields.List(fields.String(), metadata={"description": "Channels with consent: webpush, sms, email"})
    channels_available = fields.List(fields.String(), metadata={"description": "Channels this server can send"})
    consents = fields.List(fields.Nested(ConsentHistorySchema))
    consent_text_current = fields.String(metadata={"description": "The consent text version to offer now"})
    consent_given_at = fields.DateTime(format="iso", allow_none=True)
    consent_text_version = fields.String(allow_none=True)
    consent_withdrawn_at = fields.DateTime(format="iso", allow_none=True)
    pending_reminders = fields.Integer()
    last_sent_at = fields.DateTime(format="iso", allow_none=True)
    upcoming = fields.List(fields.Nested(ReminderSchema))


class ContactConsentSchema(Schema):
    channel = fields.String(required=True, validate=validate.OneOf(["sms", "email"]))
    address = fields.String(required=True, validate=validate.Length(max=254),
                            metadata={"description": "A mobile number, or an email address"})
    text_version = fields.String(required=True, metadata={
        "description": "The consent text the person agreed to (the status's consent_text_version to offer)"})


class GoalReminderCreateSchema(Schema):
    template = fields.String(required=True, validate=validate.OneOf(list(goals.GOAL_TEMPLATES)))
    text = fields.String(load_default="", validate=validate.Length(max=goals.CUSTOM_TEXT_MAX),
                         metadata={"description": goals.CUSTOM_TEXT_WARNING})
    send_at = fields.DateTime(required=True, metadata={
        "description": "ISO 8601; with an offset, or local wall-clock time in the organisation's zone"})
    goal_id = fields.UUID(load_default=None, allow_none=True)


class TemplateSchema(Schema):
    id = fields.String()
    text = fields.String()


class TemplatesSchema(Schema):
    templates = fields.List(fields.Nested(TemplateSchema))
    custom_text_max = fields.Integer()
    warning = fields.String()


class SettingsSchema(Schema):
    evening_before = fields.Boolean()
    evening_time = fields.String(validate=HHMM)
    hours_before = fields.Integer(validate=validate.Range(min=0, max=24))
    quiet_hours_start = fields.String(validate=HHMM)
    quiet_hours_end = fields.String(validate=HHMM)

    @validates_schema
    def _pairs(self, data, **kwargs):
        if ("quiet_hours_start" in data) != ("quiet_hours_end" in data):
            raise ValidationError("Give both ends of the quiet hours.", "quiet_hours_end")


class VapidKeySchema(Schema):
    public_key = fields.String(metadata={"description": "base64url uncompressed P-256 point"})
