"""Handing due reminders to the channel layer. A reminder that is due is claimed (FOR UPDATE SKIP LOCKED /
the immediate SQLite lock) and, in the same transaction, becomes one outbox message per consented channel
of its person and is marked `queued`, so it is released exactly once however many dispatchers run. One
pass (`flask notify send` or `flask reminders send`) = release what is due, then the outbox dispatcher."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

from .. import db as dbmod
from .. import notify
from ..db import database, utcnow, write_transaction
from ..models import ContactPoint, Person, PushSubscription, Reminder
from ..notify.outbox import insert, person_rows
from .messages import expiry_and_urgency, template_for

log = logging.getLogger("alongside.reminders")
MAX_LATE = dt.timedelta(minutes=60)  # later than this after its time, a reminder is missed, not sent
BATCH = 500


class Due(NamedTuple):
    id: int
    person_id: int
    kind: str
    template: str
    visit_at: dt.datetime | None
    send_at: dt.datetime


class Who(NamedTuple):
    id: int
    reminders_opt_in: bool
    deleted: bool
    status: str


@dataclass
class ReleaseResult:
    queued: int = 0
    messages: int = 0
    missed: int = 0
    cancelled: int = 0
    no_channel: int = 0


def release_batch(now: dt.datetime, batch: int = BATCH) -> ReleaseResult:
    result = ReleaseResult()
    due = (Reminder.status == "pending") & (Reminder.send_at <= now)
    if not Reminder.select().where(due).exists():
        return result  # most passes: nothing due, and no write lock taken (a push may be waiting for it)
    with write_transaction():
        # plain tuples, not model instances: a batch is read in a fraction of the time
        query = (Reminder.select(Reminder.id, Reminder.person, Reminder.kind, Reminder.template, Reminder.visit_at,
                                 Reminder.send_at)
                 .where(due)
                 .order_by(Reminder.send_at, Reminder.id)
                 .limit(batch))
        if dbmod.is_postgres():
            query = query.for_update("FOR UPDATE SKIP LOCKED")
        reminders = [Due(*row) for row in query.tuples()]
        if not reminders:
            return result
        person_ids = {r.person_id for r in reminders}
        people = {row[0]: Who(*row) for row in
                  Person.select(Person.id, Person.reminders_opt_in, Person.deleted, Person.status)
                  .where(Person.id.in_(person_ids)).tuples()}
        subs, contacts = defaultdict(list), defaultdict(list)
        for sub in (PushSubscription.select(PushSubscription.id, PushSubscription.person)
                    .where(PushSubscription.person.in_(person_ids)).namedtuples()):
            subs[sub.person].append(sub)
        for contact in (ContactPoint.select(ContactPoint.id, ContactPoint.person, ContactPoint.channel)
                        .where(ContactPoint.person.in_(person_ids)).namedtuples()):
            contacts[contact.person].append(contact)
        rows, status = [], defaultdict(list)
        for reminder in reminders:
            person = people[reminder.person_id]
            if not person.reminders_opt_in or person.deleted or person.status == "closed":
                status[("cancelled", "reminders turned off")].append(reminder.id)
                result.cancelled += 1
                continue
            if reminder.kind != "goal_step" and reminder.visit_at is None:
                status[("cancelled", "no visit time")].append(reminder.id)
                result.cancelled += 1
                continue
            if now - reminder.send_at > MAX_LATE:
                status[("missed", "too late to send")].append(reminder.id)
                result.missed += 1
                continue
            template, values = template_for(reminder)
            expires_at, urgency = expiry_and_urgency(reminder, now)
            mine = person_rows(person.id, template, values, subscriptions=subs[person.id],
                               contacts=contacts[person.id], due_at=reminder.send_at, expires_at=expires_at,
                               urgency=urgency, source="reminder", reminder_id=reminder.id,
                               dedupe_key=f"reminder:{reminder.id}", now=now)
            if not mine:
                status[("failed", "no consented channel to send to")].append(reminder.id)
                result.no_channel += 1
                continue
            rows.extend(mine)
            status[("queued", "")].append(reminder.id)
            result.queued += 1
        result.messages = insert(rows)
        for (state, error), ids in status.items():
            (Reminder.update(status=state, last_error=error, claimed_at=now)
             .where(Reminder.id.in_(ids) & (Reminder.status == "pending"))
             .execute())
    return result


def release_due(now: dt.datetime | None = None) -> ReleaseResult:
    """Every due reminder, batch by batch."""
    now = now or utcnow()
    total = ReleaseResult()
    while True:
        part = release_batch(now)
        for name in total.__dataclass_fields__:
            setattr(total, name, getattr(total, name) + getattr(part, name))
        if part.queued + part.missed + part.cancelled + part.no_channel < BATCH:
            return total


def run_pass(dispatcher: notify.Dispatcher, now: dt.datetime | None = None) -> dict:
    """One pass: due reminders into the outbox, then everything due in the outbox (staff alerts too)."""
    from ..safety.passes import run_passes

    with database.connection_context():
        released = release_due(now)
        checks = run_passes(now or utcnow())  # escalations (and lone working's checks) queue before sending
    sent = dispatcher.send_due(now)
    summary = {"reminders_queued": released.queued, "reminders_missed": released.missed, **checks, **sent.as_dict()}
    if released.queued or released.missed or sent.claimed or any(checks.values()):
        log.info("reminders pass: %s", summary)
    return summary
