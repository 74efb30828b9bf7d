"""Lone working (issue 14): the dispatcher's overdue pass, a check-out that arrives after the alert, a
coordinator's resolution and the worker's "I need help".

The pass (registered in passes.PASSES, run once per dispatcher pass): a check-in still open at its expected end
plus LONE_GRACE_MINUTES (default 15) prompts the worker's own browsers ("Are you OK? Tap to check out");
LONE_ESCALATE_AFTER_MINUTES (default 15) after the prompt with no check-out, raise_alert("lone_overdue") tells
the team's coordinators (push and email, no names or places: the details are on the coordinator page behind the
link). Each step selects its rows inside the write transaction (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's
write lock keeps other writers out) and moves them on in one UPDATE, so two dispatchers never prompt or escalate
one check-in twice, and a check-out being pushed (which locks its row) is never half-overtaken. Every prompt,
escalation, late check-out and resolution is stamped on the check-in (the phone pulls its status) and written to
the audit trail (ids only)."""

from __future__ import annotations

import datetime as dt
import uuid as uuidlib

from .. import notify
from ..db import utcnow, write_transaction
from ..models import AuditEvent, CheckIn, Person, User
from ..notify.templates import Template
from ..sync.revisions import next_rev

GRACE_DEFAULT = 15
LONE_OUTCOMES = {
    "safe": "Reached the worker: they are safe",
    "help_sent": "Someone went to help",
    "emergency_services": "Emergency services called",
    "other": "Other",
}
HELP_WINDOW_MINUTES = 10  # "I need help" pressed again within this window raises no second alert

notify.register(Template(
    id="lone_check_out_prompt",
    values={"checkin_id": "uuid"},
    text=lambda v: "Are you OK? Tap to check out.",
    path=lambda v: f"/app/check-in/{v['checkin_id']}",
    subject="Are you OK?",
    footer="You get this because you started a visit on Alongside.",
    audience="staff",
))
notify.register(Template(
    id="lone_checked_out_late",
    values={"checkin_id": "uuid"},
    text=lambda v: "The lone worker you were alerted about has now checked out.",
    path=lambda v: f"/coordinator/lone-working?focus={v['checkin_id']}",
    subject="A lone worker has checked out",
    footer="You get this because you are a coordinator on Alongside.",
    audience="staff",
))


_grace = {"minutes": GRACE_DEFAULT}


def configure(cfg) -> None:
    """LONE_GRACE_MINUTES from the app's config (the field app API's blueprint calls this at registration)."""
    minutes = int(getattr(cfg, "LONE_GRACE_MINUTES", GRACE_DEFAULT))
    if minutes < 0:
        raise ValueError("LONE_GRACE_MINUTES must not be negative")
    _grace["minutes"] = minutes


def grace() -> dt.timedelta:
    return dt.timedelta(minutes=_grace["minutes"])


def escalate_after() -> dt.timedelta:
    from .settings import escalate_after as alert_delay

    return alert_delay("lone_overdue")  # LONE_ESCALATE_AFTER_MINUTES, read by safety.settings


def _claim(check_in_id: int, expected: str, now: dt.datetime, rev: int, **values) -> bool:
    """Move one check-in on from `expected`; False when another dispatcher (or a check-out) got there first."""
    return bool(CheckIn.update(status=values.pop("status"), rev=rev, updated_at=now, **values)
                .where((CheckIn.id == check_in_id) & (CheckIn.status == expected)).execute())


def due_prompts(now: dt.datetime):
    return (CheckIn.select(CheckIn.id, CheckIn.uuid, CheckIn.worker)
            .where((CheckIn.status == "open") & (CheckIn.expected_end_at <= now - grace())
                   & (CheckIn.deleted == False))  # noqa: E712 - SQL
            .order_by(CheckIn.expected_end_at))


def due_escalations(now: dt.datetime):
    # The (status, expected_end_at) index narrows to prompted check-ins, few at any time.
    return (CheckIn.select(CheckIn.id, CheckIn.uuid, CheckIn.worker, CheckIn.team, CheckIn.person)
            .where((CheckIn.status == "prompted") & (CheckIn.expected_end_at <= now - grace())
                   & (CheckIn.prompted_at <= now - escalate_after()))
            .order_by(CheckIn.expected_end_at))


def _locked(query):
    """Inside the write transaction: on PostgreSQL the rows are locked (another dispatcher skips them); SQLite's
    write lock already keeps every other writer out."""
    from .. import db as dbmod

    return query.for_update("FOR UPDATE SKIP LOCKED") if dbmod.is_postgres() else query


def _audit(rows: list[dict]) -> None:
    if rows:
        AuditEvent.insert_many([{"at": utcnow(), "entity": "check_in", "detail": "", **r} for r in rows]).execute()


def _queue_prompts(prompts: list, workers: dict, now: dt.datetime) -> int:
    """"Are you OK? Tap to check out" to each of these workers' browsers: what notify.enqueue_to_staff does for
    one user, for all of them with one query for their subscriptions and one insert (a busy pass stays short)."""
    from ..models import PushSubscription
    from ..notify import outbox

    subs: dict[int, list[int]] = {}
    for sub_id, user_id in PushSubscription.select(PushSubscription.id, PushSubscription.user).where(
            PushSubscription.user.in_([w for w, u in workers.items() if u.active])).tuples():
        subs.setdefault(user_id, []).append(sub_id)
    rows = []
    for _, cuuid, worker_id in prompts:
        rows += outbox.staff_rows(worker_id, subs.get(worker_id, ()), "lone_check_out_prompt", {"checkin_id": cuuid},
                                  channels=("webpush",), due_at=now, expires_at=now + dt.timedelta(hours=12),
                                  urgency="high", source="lone_working", dedupe_key=f"lone_prompt:{cuuid}", now=now)
    return outbox.insert(rows)


def overdue_pass(now: dt.datetime | None = None) -> int:
    """One dispatcher pass: prompts and escalations due at `now`. Returns how many check-ins moved on. A quick
    look without the write lock first: most passes find nothing and take no lock."""
    now = now or utcnow()
    moved = 0
    if due_prompts(now).exists():
        with write_transaction():
            prompts = list(_locked(due_prompts(now)).tuples())
            if prompts:
                ids = [cid for cid, _, _ in prompts]
                CheckIn.update(status="prompted", prompted_at=now, rev=next_rev(), updated_at=now).where(
                    CheckIn.id.in_(ids)).execute()
                workers = {u.id: u for u in User.select().where(User.id.in_({w for _, _, w in prompts}))}
                _queue_prompts(prompts, workers, now)
                _audit([{"actor": w, "action": "checkin.prompt", "record_id": str(u), "team": workers[w].team_id}
                        for _, u, w in prompts])
                moved += len(prompts)
    if due_escalations(now).exists():
        from .alerts import raise_alert

        with write_transaction():
            escalations = list(_locked(due_escalations(now)).tuples())
            if escalations:
                CheckIn.update(status="escalated", escalated_at=now, rev=next_rev(), updated_at=now).where(
                    CheckIn.id.in_([row[0] for row in escalations])).execute()
                teams = dict(User.select(User.id, User.team).where(
                    User.id.in_({row[2] for row in escalations})).tuples())
                for _, cuuid, worker_id, team_id, person_id in escalations:
                    raise_alert("lone_overdue", team_id or teams[worker_id], subject_uuid=str(cuuid),
                                worker=worker_id, person=person_id, now=now)
                _audit([{"actor": None, "action": "checkin.escalate", "record_id": str(u), "team": t or teams[w]}
                        for _, u, w, t, _ in escalations])
                moved += len(escalations)
    return moved + closed_on_alert_page(now)


def closed_on_alert_page(now: dt.datetime) -> int:
    """An escalated check-in whose alert a coordinator closed on the alert page is resolved with the alert's
    outcome and note. Two seeks: the few escalated check-ins (status index), then their alerts (kind, subject)."""
    from ..models import StaffAlert

    escalated = {u: (cid, team) for cid, u, team in CheckIn.select(CheckIn.id, CheckIn.uuid, CheckIn.team)
                 .where(CheckIn.status == "escalated").tuples()}
    if not escalated:
        return 0
    closed = list(StaffAlert.select(StaffAlert.subject_uuid, StaffAlert.resolved_at, StaffAlert.resolved_by,
                                    StaffAlert.outcome, StaffAlert.note)
                  .where((StaffAlert.kind == "lone_overdue") & StaffAlert.subject_uuid.in_(list(escalated))
                         & StaffAlert.resolved_at.is_null(False)).tuples())
    if not closed:
        return 0
    moved = 0
    with write_transaction():
        rev = next_rev()
        for subject, at, by, outcome, note in closed:
            cid, team = escalated[subject]
            if _claim(cid, "escalated", now, rev, status="resolved", resolved_at=at, resolved_by=by,
                      outcome=outcome or "other", resolution_note=note or "", place=None):
                AuditEvent.record(None, "checkin.resolve", "check_in", subject, team=team,
                                  detail="closed on the alert page")
                moved += 1
    return moved


def _open_alerts(subject_uuid):
    from ..models import StaffAlert

    return list(StaffAlert.select().where((StaffAlert.subject_uuid == str(subject_uuid))
                                          & (StaffAlert.kind == "lone_overdue")
                                          & StaffAlert.resolved_at.is_null()))


def checked_out_late(check_in: CheckIn, was: str) -> None:
    """A check-out that reached the server after the worker was prompted (or the team alerted): recorded; when
    the coordinators were alerted, their alert is closed and they are told the worker has checked out. Runs in
    the sync push's write transaction."""
    from .alerts import resolve

    worker = User.get_by_id(check_in.worker_id)
    AuditEvent.record(worker, "checkin.late_checkout", "check_in", check_in.uuid, team=check_in.team_id,
                      detail=f"after {was}")
    if was == "prompted":
        return
    for alert in _open_alerts(check_in.uuid):
        resolve(alert, worker, outcome="checked_out", note="The worker checked out after the alert.")
    for coordinator in team_coordinators(check_in.team_id):
        notify.enqueue_to_staff(coordinator, "lone_checked_out_late", {"checkin_id": check_in.uuid},
                                urgency="high", source="lone_working", due_at=check_in.checked_out_received_at,
                                dedupe_key=f"lone_late:{check_in.uuid}:{coordinator.id}")


def team_coordinators(team_id):
    return list(User.select().where((User.team == team_id) & (User.role == "coordinator") & User.active)
                .order_by(User.name))


def resolve_check_in(check_in: CheckIn, by: User, outcome: str, note: str, now: dt.datetime | None = None) -> None:
    """A coordinator records what happened to an overdue or escalated check-in; its place is erased and its
    alert resolved. Call inside a write transaction."""
    now = now or utcnow()
    from .alerts import resolve

    for alert in _open_alerts(check_in.uuid):
        resolve(alert, by, outcome=outcome, note=note, now=now)
    (CheckIn.update(status="resolved" if check_in.checked_out_at is None else check_in.status, resolved_at=now,
                    resolved_by=by.id, outcome=outcome, resolution_note=note, place=None, rev=next_rev(),
                    updated_at=now)
     .where(CheckIn.id == check_in.id).execute())
    AuditEvent.record(by, "checkin.resolve", "check_in", check_in.uuid, team=check_in.team_id, detail=outcome)


def ask_for_help(worker: User, check_in: CheckIn | None, now: dt.datetime | None = None):
    """The worker pressed "I need help": an urgent `help` alert to their team's coordinators (raise_alert is
    idempotent per subject, so pressing again within HELP_WINDOW_MINUTES for the same check-in raises no
    second one). Call inside a write transaction."""
    from .alerts import raise_alert

    now = now or utcnow()
    window = int(now.timestamp() // (HELP_WINDOW_MINUTES * 60))
    subject = uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"help:{worker.uuid}:{check_in.uuid if check_in else ''}:{window}")
    person = Person.get_by_id(check_in.person_id) if check_in is not None else None
    team = check_in.team_id if check_in is not None and check_in.team_id else worker.team_id
    alert = raise_alert("help", team, subject_uuid=str(subject), worker=worker, person=person, now=now)
    AuditEvent.record(worker, "safety.help", "check_in", check_in.uuid if check_in else "", team=team)
    return alert


def _register() -> None:
    from .passes import PASSES

    if overdue_pass not in PASSES:
        PASSES.append(overdue_pass)


_register()
