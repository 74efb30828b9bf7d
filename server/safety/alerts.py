"""Staff alerts: raise (record the alert and queue a message with no names or notes to the team's coordinators,
as each chose), acknowledge, resolve, and escalate what nobody acknowledged in time. Call raise_alert,
acknowledge and resolve inside the caller's write transaction, so the alert and its messages exist exactly when
the change that caused them commits. Free of Flask: the sync engine raises alerts too."""

from __future__ import annotations

import datetime as dt
import re

from peewee import IntegrityError

from .. import db as dbmod
from .. import notify
from ..codes import CONCERN_OUTCOMES
from ..db import database, utcnow, write_transaction
from ..models import ALERT_KINDS, AuditEvent, PushSubscription, StaffAlert, StaffAlertChoice, User, Visit
from . import messages  # noqa: F401 - registers the alert templates
from .settings import escalate_after

CONCERN_KINDS = ("concern", "concern_rejected")
NOTE_MAX = 2000
_CODE = re.compile(r"^[a-z_]{1,20}$")


class AlertError(ValueError):
    """An outcome or note that cannot be recorded; the message is for the person who typed it."""


def _id(value):
    return getattr(value, "id", value)


def _admins() -> list[User]:
    return list(User.select().where(User.active & (User.role == "admin")).order_by(User.id))


def _channels(choice: StaffAlertChoice | None) -> tuple[str, ...]:
    if choice is None:
        return ()
    return tuple(c for c, on in (("webpush", choice.by_push), ("email", choice.by_email)) if on)


def recipients(team_id, *, escalation: bool = False) -> list[tuple[User, tuple[str, ...]]]:
    """(user, channels) for an alert on this team. Raised: the team's coordinators who chose a way to be told;
    when none did, every coordinator of the team by email (email is always possible). Escalated: every
    coordinator of the team and every admin, each as they chose, else by email."""
    return recipients_by_team([team_id], escalation=escalation)[team_id]


def recipients_by_team(team_ids, *, escalation: bool = False) -> dict:
    """recipients() for many teams in three queries (a pass escalating many alerts at once)."""
    staff = list(User.select().where((User.team.in_(list(team_ids))) & User.active
                                     & User.role.in_(("coordinator", "admin"))).order_by(User.id))
    admins = _admins() if escalation else []
    ids = {u.id for u in staff} | {u.id for u in admins}
    choices = ({c.user_id: c for c in StaffAlertChoice.select().where(StaffAlertChoice.user.in_(list(ids)))}
               if ids else {})
    out = {}
    for team_id in team_ids:
        users = {u.id: u for u in staff if u.team_id == team_id}
        users.update({u.id: u for u in admins})
        chosen = [(u, _channels(choices.get(u.id))) for u in users.values()]
        if escalation:
            out[team_id] = [(u, channels or ("email",)) for u, channels in chosen]
        else:
            opted = [(u, channels) for u, channels in chosen if channels]
            out[team_id] = opted or [(u, ("email",)) for u in users.values()]
    return out


def _send(alert: StaffAlert, template: str, values: dict, people, key: str, now: dt.datetime) -> int:
    queued = 0
    for user, channels in people:
        queued += notify.enqueue_to_staff(user, template, values, channels=channels, due_at=now, urgency="high",
                                          source="safety", dedupe_key=f"{key}:{alert.uuid}:{user.id}")
    return queued


def raise_alert(kind: str, team, *, subject_uuid: str, worker=None, person=None, level: str = "",
                now: dt.datetime | None = None) -> StaffAlert:
    """Record an alert and queue its message to the team's coordinators (see recipients). Idempotent per
    (kind, subject_uuid) while the alert is open: raising again returns the open alert and queues nothing."""
    if kind not in ALERT_KINDS:
        raise ValueError(f"alert kind must be one of {ALERT_KINDS}")
    now = now or utcnow()
    subject = str(subject_uuid)
    open_alert = (StaffAlert.select()
                  .where((StaffAlert.kind == kind) & (StaffAlert.subject_uuid == subject)
                         & StaffAlert.resolved_at.is_null())
                  .first())
    if open_alert is not None:
        return open_alert
    try:
        with database.atomic():  # a savepoint: a racing raiser's open alert wins, this one returns it
            alert = StaffAlert.create(team=_id(team), kind=kind, subject_uuid=subject, worker=_id(worker),
                                      person=_id(person), level=level[:4], raised_at=now,
                                      escalate_at=now + escalate_after(kind))
    except IntegrityError:
        return (StaffAlert.select()
                .where((StaffAlert.kind == kind) & (StaffAlert.subject_uuid == subject)
                       & StaffAlert.resolved_at.is_null())
                .get())
    _send(alert, "staff_alert", {"alert_id": alert.uuid, "kind": kind}, recipients(alert.team_id), "alert", now)
    return alert


def _clean(alert: StaffAlert, outcome: str | None, note: str, *, outcome_required: bool) -> tuple[str, str]:
    outcome = (outcome or "").strip()
    if alert.kind in CONCERN_KINDS:
        if outcome and outcome not in CONCERN_OUTCOMES:
            raise AlertError("Choose what was done from the list.")
    elif outcome and not _CODE.match(outcome):
        raise AlertError("Choose what happened from the list.")
    if outcome_required and not outcome:
        raise AlertError("Choose what was done before you close the alert.")
    if not isinstance(note, str):
        raise AlertError("The note must be text.")
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise AlertError(f"The note is {len(note)} characters: the most is {NOTE_MAX}.")
    return outcome, note


def _close_visit_loop(alert: StaffAlert, user, outcome: str, note: str, now: dt.datetime) -> None:
    """A concern's acknowledgement, action note and outcome go onto the visit, so they sync to the worker."""
    if alert.kind not in CONCERN_KINDS:
        return
    from ..sync.revisions import stamp_values

    visit = Visit.get_or_none(Visit.uuid == alert.subject_uuid)
    if visit is None or visit.concern == "none":
        return
    changes = {}
    if visit.concern_ack_at is None:
        changes.update(concern_ack_at=now, concern_ack_by=_id(user))
    if note and note != visit.concern_ack_note:
        changes["concern_ack_note"] = note
    if outcome and outcome != visit.concern_outcome:
        changes["concern_outcome"] = outcome
    if changes:
        Visit.update(**changes, **stamp_values(visit, ())).where(Visit.id == visit.id).execute()


def acknowledge(alert: StaffAlert, user, *, outcome: str | None = None, note: str = "",
                now: dt.datetime | None = None) -> None:
    """Someone is dealing with it: stops escalation. A concern's note and outcome reach the worker's phone."""
    outcome, note = _clean(alert, outcome, note, outcome_required=False)
    now = now or utcnow()
    changes = {}
    if alert.acknowledged_at is None:
        changes.update(acknowledged_at=now, acknowledged_by=_id(user))
    if outcome:
        changes["outcome"] = outcome
    if note:
        changes["note"] = note
    if changes:
        StaffAlert.update(**changes).where(StaffAlert.id == alert.id).execute()
        for name, value in changes.items():
            setattr(alert, name, value)
    _close_visit_loop(alert, user, outcome, note, now)
    AuditEvent.record(user, "alert.acknowledge", "staff_alert", alert.uuid, team=alert.team_id,
                      detail=f"{alert.kind}; outcome {outcome or '-'}")


def resolve(alert: StaffAlert, user, *, outcome: str, note: str = "", now: dt.datetime | None = None) -> None:
    """Closed, with what was done (acknowledged too, if nobody had)."""
    outcome, note = _clean(alert, outcome, note, outcome_required=True)
    now = now or utcnow()
    acknowledge(alert, user, outcome=outcome, note=note, now=now)
    if alert.resolved_at is None:
        StaffAlert.update(resolved_at=now, resolved_by=_id(user)).where(StaffAlert.id == alert.id).execute()
        alert.resolved_at, alert.resolved_by = now, _id(user)
        AuditEvent.record(user, "alert.resolve", "staff_alert", alert.uuid, team=alert.team_id,
                          detail=f"{alert.kind}; outcome {outcome}")


def escalate_due(now: dt.datetime | None = None, batch: int = 500) -> int:
    """Called once per dispatcher pass: alerts nobody acknowledged by their escalate_at go to every coordinator
    of the team and every admin, once (claimed with SKIP LOCKED on PostgreSQL, the write lock on SQLite, and
    marked escalated_at in the same transaction). A batch costs a handful of queries whatever its size:
    recipients once per team, subscriptions once, one insert. Returns how many escalated."""
    now = now or utcnow()
    total = 0
    while True:
        # Most passes find nothing due: a read says so without the write lock (on SQLite the one writer, which a
        # push would otherwise wait behind every few seconds). Anything due a moment later waits for the next pass.
        if not StaffAlert.select().where(_due(now)).exists():
            return total
        with write_transaction():
            query = (StaffAlert.select(StaffAlert.id, StaffAlert.uuid, StaffAlert.team, StaffAlert.kind,
                                       StaffAlert.raised_at)
                     .where(_due(now))
                     .order_by(StaffAlert.escalate_at, StaffAlert.id)
                     .limit(batch))
            if dbmod.is_postgres():
                query = query.for_update("FOR UPDATE SKIP LOCKED")
            due = list(query.namedtuples())
            if due:
                (StaffAlert.update(escalated_at=now)
                 .where(StaffAlert.id.in_([a.id for a in due]) & StaffAlert.escalated_at.is_null()).execute())
                _queue_escalations(due, now)
            total += len(due)
        if len(due) < batch:
            return total


def _due(now: dt.datetime):
    """Alerts nobody acknowledged or resolved by their escalate_at, not yet escalated."""
    return (StaffAlert.escalated_at.is_null() & (StaffAlert.escalate_at <= now)
            & StaffAlert.acknowledged_at.is_null() & StaffAlert.resolved_at.is_null())


def _queue_escalations(due, now: dt.datetime) -> None:
    from ..notify.outbox import insert, staff_rows

    people = recipients_by_team({a.team for a in due}, escalation=True)
    user_ids = {u.id for found in people.values() for u, _ in found}
    subs: dict[int, list[int]] = {}
    if user_ids:
        for sub_id, user_id in (PushSubscription.select(PushSubscription.id, PushSubscription.user)
                                .where(PushSubscription.user.in_(list(user_ids))).tuples()):
            subs.setdefault(user_id, []).append(sub_id)
    rows = []
    for alert in due:
        waited = max(0, min(100_000, int((now - alert.raised_at).total_seconds() // 60)))
        values = {"alert_id": alert.uuid, "kind": alert.kind, "minutes": waited}
        for user, channels in people[alert.team]:
            rows += staff_rows(user.id, subs.get(user.id, ()), "staff_alert_escalated", values, channels=channels,
                               due_at=now, urgency="high", source="safety",
                               dedupe_key=f"alert-esc:{alert.uuid}:{user.id}", now=now)
    insert(rows)
