"""Putting messages in the outbox. Call inside the caller's write transaction, so a message exists exactly
when the change that caused it commits. A recipient is a person supported (each push subscription and
each consented phone/email of theirs gets one message) or a staff user (their browsers' push
subscriptions and/or their account email). Values are checked against the template here: a value that is
not of its declared kind (there is no text kind) raises TemplateError before anything is stored."""

from __future__ import annotations

import datetime as dt
import json

from peewee import IntegrityError

from ..db import database, utcnow
from ..models import ContactPoint, OutboxMessage, PushSubscription, User
from . import settings as settings_module
from .templates import check_values, get

URGENCIES = ("very-low", "low", "normal", "high")


def _base(template: str, values: dict, *, due_at, expires_at, urgency, source, now) -> dict:
    if urgency not in URGENCIES:
        raise ValueError(f"urgency must be one of {URGENCIES}")
    return {"template": template, "template_values": json.dumps(check_values(template, values), sort_keys=True),
            "source": source[:20], "urgency": urgency, "due_at": due_at or now, "expires_at": expires_at,
            "state": "pending", "created_at": now}


def person_rows(person_id: int, template: str, values: dict, *, subscriptions, contacts, due_at=None,
                expires_at=None, urgency="normal", source="", reminder_id=None, dedupe_key=None,
                now: dt.datetime | None = None) -> list[dict]:
    """Rows (not yet inserted) for one person: a message per push subscription and per contact point
    whose channel is configured. `subscriptions` and `contacts` are that person's rows, already loaded."""
    cfg = settings_module.current()
    base = _base(template, values, due_at=due_at, expires_at=expires_at, urgency=urgency, source=source,
                 now=now or utcnow())
    rows = []
    if cfg.transport_for("webpush"):
        for sub in subscriptions:
            rows.append({**base, "channel": "webpush", "transport": "webpush", "person": person_id,
                         "subscription": sub.id, "reminder": reminder_id,
                         "dedupe_key": f"{dedupe_key}:p{sub.id}" if dedupe_key else None})
    for contact in contacts:
        transport = cfg.transport_for(contact.channel)
        if transport:
            rows.append({**base, "channel": contact.channel, "transport": transport, "person": person_id,
                         "contact": contact.id, "reminder": reminder_id,
                         "dedupe_key": f"{dedupe_key}:c{contact.id}" if dedupe_key else None})
    return rows


def bulk_insert(model, fields: tuple[str, ...], rows: list[tuple], chunk: int = 200) -> None:
    """INSERT many rows, a multi-row VALUES statement per chunk: peewee builds such SQL value by value (slower
    than sending the messages), and psycopg2's executemany makes a round trip per row. Values go through each
    field's db_value, exactly as peewee would store them. Fields not named take their Python default."""
    meta = model._meta
    defaults = [(name, f.default) for name, f in meta.fields.items()
                if name not in fields and f.default is not None and name != meta.primary_key.name]
    names = list(fields) + [name for name, _ in defaults]
    convert = [meta.fields[name].db_value for name in names]
    columns = ", ".join(f'"{meta.fields[name].column_name}"' for name in names)
    one = "(" + ", ".join([database.obj.param] * len(names)) + ")"
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        params = []
        for row in part:
            extra = [d() if callable(d) else d for _, d in defaults]
            params.extend(c(v) for c, v in zip(convert, (*row, *extra), strict=True))
        # only the model's own table and column names go into the text; every value is a parameter
        sql = f'INSERT INTO "{meta.table_name}" ({columns}) VALUES ' + ", ".join([one] * len(part))  # noqa: S608
        database.execute_sql(sql, params)


def _to_id(value):
    return getattr(value, "id", value)


def insert(rows: list[dict]) -> int:
    """Insert prepared rows; rows whose dedupe key is already in the outbox are skipped."""
    keys = [r["dedupe_key"] for r in rows if r.get("dedupe_key")]
    if keys:
        seen = {m.dedupe_key for m in OutboxMessage.select(OutboxMessage.dedupe_key)
                .where(OutboxMessage.dedupe_key.in_(keys))}
        rows = [r for r in rows if r.get("dedupe_key") not in seen]
    fields = ("channel", "transport", "template", "template_values", "source", "dedupe_key", "person", "user",
              "subscription", "contact", "reminder", "urgency", "due_at", "expires_at", "state", "created_at")
    rows = [tuple(_to_id(r.get(f)) for f in fields) for r in rows]
    inserted = 0
    for start in range(0, len(rows), 500):
        chunk = rows[start:start + 500]
        try:
            with database.atomic():  # a savepoint: a racing enqueuer's duplicate key fails only this chunk
                bulk_insert(OutboxMessage, fields, chunk)
            inserted += len(chunk)
        except IntegrityError:
            for row in chunk:
                try:
                    with database.atomic():
                        bulk_insert(OutboxMessage, fields, [row])
                    inserted += 1
                except IntegrityError:
                    pass
    return inserted


def enqueue_to_person(person, template: str, values: dict, *, due_at=None, expires_at=None, urgency="normal",
                      source="", reminder=None, dedupe_key=None) -> int:
    """One message per consented channel of this person (each phone subscribed to push, their SMS number,
    their email). Returns how many were queued (0: no consented channel that is configured)."""
    if get(template).audience != "person":
        raise ValueError(f"{template} is a staff template")
    subs = list(PushSubscription.select().where(PushSubscription.person == person.id))
    contacts = list(ContactPoint.select().where(ContactPoint.person == person.id))
    return insert(person_rows(person.id, template, values, subscriptions=subs, contacts=contacts, due_at=due_at,
                              expires_at=expires_at, urgency=urgency, source=source,
                              reminder_id=getattr(reminder, "id", reminder), dedupe_key=dedupe_key))


def enqueue_to_staff(user: User, template: str, values: dict, *, channels=("webpush", "email"), due_at=None,
                     expires_at=None, urgency="high", source="", dedupe_key=None) -> int:
    """A staff alert to one user: each of their browsers subscribed to push (PushSubscription.user) and/or
    their account email, as `channels` says and as configured. Returns how many were queued."""
    if get(template).audience != "staff":
        raise ValueError(f"{template} is not a staff template")
    if not user.active:
        return 0
    cfg = settings_module.current()
    base = _base(template, values, due_at=due_at, expires_at=expires_at, urgency=urgency, source=source,
                 now=utcnow())
    rows = []
    if "webpush" in channels and cfg.transport_for("webpush"):
        for sub in PushSubscription.select().where(PushSubscription.user == user.id):
            rows.append({**base, "channel": "webpush", "transport": "webpush", "user": user.id,
                         "subscription": sub.id, "dedupe_key": f"{dedupe_key}:p{sub.id}" if dedupe_key else None})
    if "email" in channels and cfg.transport_for("email"):
        rows.append({**base, "channel": "email", "transport": cfg.transport_for("email"), "user": user.id,
                     "dedupe_key": f"{dedupe_key}:e" if dedupe_key else None})
    return insert(rows)


def cancel_for_person(person_id: int, channel: str | None = None) -> int:
    """Messages not yet sent to this person (on one channel, or all) are cancelled: consent withdrawn."""
    query = (OutboxMessage.update(state="cancelled", last_error="consent withdrawn")
             .where((OutboxMessage.person == person_id) & (OutboxMessage.state == "pending")))
    if channel:
        query = query.where(OutboxMessage.channel == channel)
    return query.execute()


def staff_rows(user_id: int, subscription_ids, template: str, values: dict, *, channels=("webpush", "email"),
               due_at=None, expires_at=None, urgency="high", source="", dedupe_key=None,
               now: dt.datetime | None = None) -> list[dict]:
    """Rows (not yet inserted, for `insert`) of a staff message to one active user whose push subscription ids
    are already loaded: many alerts at once (issue 14's escalations) in one insert, as enqueue_to_staff does
    one at a time."""
    if get(template).audience != "staff":
        raise ValueError(f"{template} is not a staff template")
    cfg = settings_module.current()
    base = _base(template, values, due_at=due_at, expires_at=expires_at, urgency=urgency, source=source,
                 now=now or utcnow())
    rows = []
    if "webpush" in channels and cfg.transport_for("webpush"):
        rows += [{**base, "channel": "webpush", "transport": "webpush", "user": user_id, "subscription": sub_id,
                  "dedupe_key": f"{dedupe_key}:p{sub_id}" if dedupe_key else None} for sub_id in subscription_ids]
    if "email" in channels and cfg.transport_for("email"):
        rows.append({**base, "channel": "email", "transport": cfg.transport_for("email"), "user": user_id,
                     "dedupe_key": f"{dedupe_key}:e" if dedupe_key else None})
    return rows
