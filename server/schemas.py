"""marshmallow schemas: every byte that comes into the JSON API is loaded through one of these.
Entity schemas describe the `fields` of a sync mutation (what a device may write) and of a pulled
change; envelope schemas describe push and pull bodies. Sizes are bounded everywhere."""

from __future__ import annotations

import copy
import datetime as dt

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from .codes import CHIME, CLOSED_REASONS, CONCERN_OUTCOMES, RATED_BY
from .models import (
    CONCERN_LEVELS,
    GOAL_STATUSES,
    PERSON_STATUSES,
    REFERRAL_STATUSES,
    VISIT_ATTENDANCE,
    VISIT_LOCATIONS,
    VISIT_MODES,
)

SHORT = 120
NOTE = 10_000
MAX_GOAL_IDS = 50
ENTITIES = ("person", "visit", "goal", "goal_progress", "referral", "conflict", "check_in")
PULL_ONLY_ENTITIES = ("resource", "review", "supervision")


class UtcDateTime(fields.AwareDateTime):
    """ISO 8601 with an offset in, naive UTC out (every stored time is UTC)."""

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if not dt.datetime(1900, 1, 2, tzinfo=dt.UTC) <= result <= dt.datetime(2200, 1, 1, tzinfo=dt.UTC):
            raise ValidationError("Must be between the years 1900 and 2200.")
        return result.astimezone(dt.UTC).replace(tzinfo=None)


class NearDateTime(UtcDateTime):
    """A time at most `max_ahead` from now (issue 15 guards): a visit logged for 2031 is a typing slip. The rules
    document publishes the bound as maxAheadSeconds, so the phone refuses it before saving."""

    def __init__(self, *, max_ahead: dt.timedelta, message: str, **kwargs):
        super().__init__(**kwargs)
        self.max_ahead = max_ahead
        self.ahead_message = message

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if result > dt.datetime.now(dt.UTC).replace(tzinfo=None) + self.max_ahead:
            raise ValidationError(self.ahead_message)
        return result


VISIT_AHEAD = dt.timedelta(hours=24)
NEXT_VISIT_AHEAD = dt.timedelta(days=731)


class BoundedDate(fields.Date):
    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if not dt.date(1900, 1, 1) <= result <= dt.date(2200, 1, 1):
            raise ValidationError("Must be between the years 1900 and 2200.")
        return result


class Text(fields.String):
    """A string a database can store: PostgreSQL refuses NUL characters, and no database can store half of a
    character (a lone UTF-16 surrogate, which JSON can spell as "\\ud800"), so both are refused here by name."""

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in result:
            raise ValidationError("Must not contain NUL characters.")
        if not result.isascii():
            try:
                result.encode("utf-8")
            except UnicodeEncodeError:
                raise ValidationError("Contains a broken character (half of an emoji?). Please type it again.") \
                    from None
        return result


def _text(max_length: int, **kwargs):
    return Text(validate=validate.Length(max=max_length), **kwargs)


def _choice(choices, **kwargs):
    return fields.String(validate=validate.OneOf(list(choices)), **kwargs)


# --- what a device may write: the `fields` of a mutation, per entity --------------------------------

class EntityFieldsSchema(Schema):
    class Meta:
        unknown = RAISE


class PersonFieldsSchema(EntityFieldsSchema):
    display_name = Text(validate=validate.Length(min=1, max=SHORT), required=True)
    preferred_contact = _text(200)
    engagement_start = BoundedDate(allow_none=True)
    planned_end = BoundedDate(allow_none=True)
    status = _choice(PERSON_STATUSES)
    closed_at = BoundedDate(allow_none=True)  # an engagement's end (issue 15), with its reason and summary
    closed_reason = _choice(("", *CLOSED_REASONS))
    ending_summary = _text(2000)


class VisitFieldsSchema(EntityFieldsSchema):
    person_id = fields.UUID(required=True)
    started_at = NearDateTime(required=True, max_ahead=VISIT_AHEAD,
                              message="A visit cannot be logged more than a day ahead. Check the date.")
    duration_minutes = fields.Integer(strict=True, validate=validate.Range(min=0, max=24 * 60))
    mode = _choice(VISIT_MODES)
    location_type = _choice(VISIT_LOCATIONS)
    attendance = _choice(VISIT_ATTENDANCE)
    group_session = fields.Boolean()
    notes = _text(NOTE)
    goal_ids = fields.List(fields.UUID(), validate=validate.Length(max=MAX_GOAL_IDS))
    wellbeing = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=10))
    concern = _choice(CONCERN_LEVELS)
    concern_notes = _text(NOTE)
    next_visit_at = NearDateTime(allow_none=True, max_ahead=NEXT_VISIT_AHEAD,
                                 message="The next visit must be within two years.")
    voided_reason = _text(500)  # set by the author to void the visit (the server stamps voided_at)


class GoalFieldsSchema(EntityFieldsSchema):
    person_id = fields.UUID(required=True)
    title = Text(validate=validate.Length(min=1, max=300), required=True)
    life_area = _text(60)
    steps = _text(NOTE)
    status = _choice(GOAL_STATUSES)
    target_date = BoundedDate(allow_none=True)
    chime_tags = fields.List(_choice(CHIME), validate=validate.Length(max=len(CHIME)))


class GoalProgressFieldsSchema(EntityFieldsSchema):
    goal_id = fields.UUID(required=True)
    visit_id = fields.UUID(allow_none=True)
    rating = fields.Integer(strict=True, required=True, validate=validate.Range(min=0, max=10))
    note = _text(NOTE)
    rated_by = _choice(RATED_BY, allow_none=True)  # None: not recorded (ratings before 0091)


class ReferralFieldsSchema(EntityFieldsSchema):
    person_id = fields.UUID(required=True)
    resource_id = fields.UUID(required=True)
    status = _choice(REFERRAL_STATUSES)
    notes = _text(NOTE)
    follow_up_at = UtcDateTime(allow_none=True)


class ConflictFieldsSchema(EntityFieldsSchema):
    """Resolve a kept conflict: `restore` puts the overwritten value back (a new change), `dismiss` keeps
    the current value. Either way the conflict is marked resolved for everyone."""

    action = _choice(("restore", "dismiss"), required=True)


class CheckInFieldsSchema(EntityFieldsSchema):
    """A lone-working check-in (issue 14). expected_end_at must be after started_at and within 12 hours of it:
    a rule across two fields, checked by the sync handler (sync/check_ins.py) and by the phone alike."""

    person_id = fields.UUID(required=True)
    visit_id = fields.UUID(allow_none=True)
    started_at = UtcDateTime(required=True)
    expected_end_at = UtcDateTime(required=True)
    place = _text(200, allow_none=True)
    checked_out_at = UtcDateTime(allow_none=True)


FIELD_SCHEMAS: dict[str, type[EntityFieldsSchema]] = {
    "person": PersonFieldsSchema,
    "visit": VisitFieldsSchema,
    "goal": GoalFieldsSchema,
    "goal_progress": GoalProgressFieldsSchema,
    "referral": ReferralFieldsSchema,
    "conflict": ConflictFieldsSchema,
}
FIELD_SCHEMAS["check_in"] = CheckInFieldsSchema  # issue 14, lone working

# Fields a pull shows but a device may not change. Sending the value it already has is harmless
# (a device may echo a whole record); sending a different value is refused with these reasons.
READ_ONLY_FIELDS: dict[str, dict[str, str]] = {
    "person": {
        "reminders_opt_in": "Only the person can opt in to reminders, on their own phone; a coordinator can see it.",
        "added_in_field": "Set by the server when a worker adds a person.",
        "confirmed": "Only a coordinator can confirm a person added in the field.",
    },
    "visit": {
        "author_id": "The author is whoever signed in on the device that logged the visit.",
        "reviewed": "Only a coordinator can sign off a visit.",
        "concern_acknowledged": "Only a coordinator can acknowledge a concern.",
    },
    "goal": {"achieved_at": "Set by the server when a goal is marked achieved."},
    "goal_progress": {"author_id": "The author is whoever signed in on the device.", "person_id": "Follows the goal."},
    "referral": {},
    "conflict": {},
}
READ_ONLY_FIELDS["check_in"] = {"status": "Set by the server: open, prompted, escalated, resolved or closed."}


# What a pull sends: each entity's whole record (a change's `fields`), documented in the OpenAPI document as
# <Entity>Record. Writable fields are the entity's fields schema (above); the rest are shown, never written.
_PULLED_EXTRA: dict[str, dict] = {
    "person": {"reminders_opt_in": fields.Boolean(), "added_in_field": fields.Boolean(),
               "confirmed": fields.Boolean()},
    "visit": {"author_id": fields.UUID(), "reviewed": fields.Boolean(), "concern_acknowledged": fields.Boolean()},
    "goal": {"achieved_at": fields.AwareDateTime(allow_none=True)},
    "goal_progress": {"person_id": fields.UUID(), "author_id": fields.UUID(allow_none=True)},
    "referral": {},
    "resource": {"name": fields.String(), "category": fields.String(), "description": fields.String(),
                 "address": fields.String(), "phone": fields.String(), "website": fields.String(),
                 "opening_hours": fields.String(), "area": fields.String(), "archived": fields.Boolean()},
    "review": {"visit_id": fields.UUID(), "person_id": fields.UUID(), "reviewer_name": fields.String(allow_none=True),
               "comment": fields.String(), "created_at": fields.AwareDateTime()},
    "conflict": {"person_id": fields.UUID(), "target_entity": fields.String(), "target_id": fields.UUID(),
                 "field": fields.String(), "kept_value": fields.Raw(allow_none=True),
                 "lost_value": fields.Raw(allow_none=True), "lost_by": fields.String(allow_none=True),
                 "won_by": fields.String(allow_none=True), "created_at": fields.AwareDateTime(),
                 "resolution": fields.String(allow_none=True)},
}
_PULLED_EXTRA["check_in"] = {"status": fields.String(validate=validate.OneOf(
    ("open", "prompted", "escalated", "resolved", "closed")))}
# issue 14: a concern's acknowledgement comes back to the worker's phone: when, the action note, the outcome
READ_ONLY_FIELDS["visit"].update({
    "concern_ack_at": "Only a coordinator can acknowledge a concern.",
    "concern_ack_note": "Only a coordinator writes the action note on a concern.",
    "concern_outcome": "Only a coordinator records what was done about a concern.",
})
_PULLED_EXTRA["visit"].update({
    "concern_ack_at": fields.AwareDateTime(allow_none=True), "concern_ack_note": fields.String(),
    "concern_outcome": fields.String(validate=validate.OneOf(("", *CONCERN_OUTCOMES))),
})
# Issue 15 (contract C): shown, never written by a device.
READ_ONLY_FIELDS["person"].update({
    "handover_note": "A coordinator writes the handover note when they reassign someone.",
    "missed_in_a_row": "Counted by the server from the visits.",
})
READ_ONLY_FIELDS["visit"].update({
    "voided_at": "Set by the server when the visit is voided (send voided_reason).",
    "changed_since_review": "Worked out by the server.",
})
READ_ONLY_FIELDS["goal_progress"]["created_at"] = "Set by the server when the rating arrives."
_PULLED_EXTRA["goal_progress"]["created_at"] = fields.AwareDateTime()
_PULLED_EXTRA["person"].update({"handover_note": fields.String(), "missed_in_a_row": fields.Integer()})
_PULLED_EXTRA["visit"].update({"voided_at": fields.AwareDateTime(allow_none=True),
                               "changed_since_review": fields.Boolean()})
WRITE_ONLY_ENTITIES = ("conflict",)  # a conflict is resolved with {"action"}; what it pulls is another shape


def _pulled_schema(entity: str) -> type[Schema]:
    declared = {}
    if entity in FIELD_SCHEMAS and entity not in WRITE_ONLY_ENTITIES:
        for name, f in FIELD_SCHEMAS[entity]._declared_fields.items():
            f = copy.deepcopy(f)
            f.required = False
            declared[name] = f
    declared.update(_PULLED_EXTRA[entity])
    return Schema.from_dict(declared, name="".join(part.title() for part in entity.split("_")) + "Record")


PULLED_SCHEMAS: dict[str, type[Schema]] = {entity: _pulled_schema(entity) for entity in _PULLED_EXTRA}


# --- push and pull bodies --------------------------------------------------------------------------

class MutationSchema(Schema):
    """One change typed on a device. `fields` holds the changed fields only, loaded by the entity's schema."""

    class Meta:
        unknown = RAISE

    id = fields.UUID(required=True, metadata={"description": "The mutation id, made on the device, unique forever."})
    entity = fields.String(required=True, validate=validate.OneOf(ENTITIES))
    record_id = fields.UUID(required=True)
    op = fields.String(required=True, validate=validate.OneOf(("upsert", "delete")))
    base_rev = fields.Integer(strict=True, allow_none=True, load_default=None, validate=validate.Range(min=0),
                              metadata={"description": "The rev the device last saw; null for a new record."})
    fields_ = fields.Dict(keys=fields.String(validate=validate.Length(max=60)), load_default=dict, data_key="fields",
                          metadata={"description": "Changed fields only; per entity see the components "
                                                   "PersonFields, VisitFields, GoalFields, GoalProgressFields, "
                                                   "ReferralFields and ConflictFields."})


class LenientMutationItem(fields.Nested):
    """Documented as a Mutation, but loaded as a plain object: each mutation is validated on its own inside
    sync.apply_batch, so one bad mutation is rejected with its own errors and never blocks the batch."""

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError("Each mutation must be an object.")
        return value


class MutationList(fields.List):
    """Documented as a list of Mutations; loaded as the list of plain objects it is (each mutation is checked on
    its own by the sync engine), without marshmallow's per-item work, which cost more than applying them."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise self.make_error("invalid")
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise ValidationError({i: ["Each mutation must be an object."]})
        return value


class PushSchema(Schema):
    class Meta:
        unknown = RAISE

    device_id = fields.UUID(required=True, metadata={"description": "From POST /api/v1/devices."})
    mutations = MutationList(
        LenientMutationItem(MutationSchema),
        required=True,
        metadata={"description": "Applied in order. At most MAX_BATCH_MUTATIONS (default 500) per batch and "
                                 "MAX_REQUEST_BYTES (default 2 MB) per request, else 413: halve the batch."},
    )


class ConflictRefSchema(Schema):
    id = fields.String(metadata={"description": "The conflict's record_id (entity `conflict` in pull)."})
    field = fields.String()


class MutationResultSchema(Schema):
    id = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "applied | duplicate | conflict | rejected"})
    outcome = fields.String(metadata={"description": "For a duplicate: the original status."})
    rev = fields.Integer(allow_none=True)
    code = fields.String(metadata={"description": "For a rejection: invalid | forbidden | not_found"})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    conflicts = fields.List(fields.Nested(ConflictRefSchema))


class PushResultSchema(Schema):
    results = fields.List(fields.Nested(MutationResultSchema))


class PullArgsSchema(Schema):
    class Meta:
        unknown = RAISE

    cursor = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**62),
                            metadata={"description": "The cursor of the last page applied; 0 for everything."})
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=5000),
                           metadata={"description": "Target page size; a page ends on a rev boundary, so one "
                                                    "rev shared by many records (a person's whole history on "
                                                    "joining a caseload) may make it longer."})


class DeviceHeaderSchema(Schema):
    class Meta:
        unknown = "exclude"

    device_id = fields.UUID(required=True, data_key="X-Device-Id")


class ChangeSchema(Schema):
    entity = fields.String(metadata={"description": "person | visit | goal | goal_progress | referral | resource "
                                                    "| review | conflict"})
    record_id = fields.String()
    rev = fields.Integer()
    deleted = fields.Boolean()
    fields_ = fields.Dict(data_key="fields", metadata={"description": "The whole record (empty for a tombstone): "
                                                                  "per entity see the components PersonRecord, "
                                                                  "VisitRecord, GoalRecord, GoalProgressRecord, "
                                                                  "ReferralRecord, ResourceRecord, ReviewRecord "
                                                                  "and ConflictRecord."})


class PurgeSchema(Schema):
    entity = fields.String()
    record_id = fields.String()


class PullSchema(Schema):
    changes = fields.List(fields.Nested(ChangeSchema))
    purge = fields.List(fields.Nested(PurgeSchema))
    cursor = fields.Integer()
    more = fields.Boolean()


class DeviceCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    name = Text(required=True, validate=validate.Length(min=1, max=80))


class DeviceCreatedSchema(Schema):
    device_id = fields.String()

