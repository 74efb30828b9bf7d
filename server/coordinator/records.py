"""A person's right to their record (UK GDPR article 15) and how long we keep it (issue 16).

Subject access: everything held about one person (details, visits with notes and their feedback, goals with
ratings, referrals, reminders, consent history, kept edit conflicts, and the audit of who viewed their record),
as a printable page and a JSON file; supervision is excluded; the export is itself audited. `subject_record`
gathers it by the person's own keys only, so nothing of anyone else can come with it.

Retention: ALONGSIDE_RETENTION_YEARS (default 20, the NHS Records Management Code of Practice for mental
health records) after an engagement closed. `due_people` lists who is due; `apply_retention` erases (every
record becomes a tombstone with its content blanked) or anonymises (text blanked, figures kept), ends their
caseload assignments (phones purge them), deletes reminder and contact data, and registers each in ErasedRecord
with an audit entry. The command is `flask records retention` (server/records_cli.py)."""

from __future__ import annotations

import datetime as dt
import json

from flask import Response, render_template

from ..codes import CHIME, CLOSED_REASONS, RATED_BY, VISIT_ATTENDANCE, VISIT_LOCATIONS, VISIT_MODES
from ..db import utcnow, write_transaction
from ..models import (
    AuditEvent,
    CaseloadAssignment,
    Conflict,
    Consent,
    ContactPoint,
    ErasedRecord,
    Goal,
    GoalProgress,
    Invite,
    Person,
    PushSubscription,
    Referral,
    Reminder,
    ReminderDevice,
    Resource,
    Review,
    User,
    Visit,
)
from ..sync.revisions import next_rev, stamp_change
from ..sync.wire import jsonable
from . import bp
from .access import audit, get_person_or_404, to_local

# --- subject access ----------------------------------------------------------------------------------


def _when(value):
    local = to_local(value) if isinstance(value, dt.datetime) else None
    return local.isoformat(timespec="minutes") if local else jsonable(value)


def subject_record(person: Person) -> dict:
    """Every record held about `person`, read through their own keys (never a search that could match another
    person). Staff appear by name only where they acted on this person's record."""
    names = dict(User.select(User.id, User.name).tuples())
    visits = list(Visit.select().where(Visit.person == person).order_by(Visit.started_at))
    feedback: dict[int, list] = {}
    for r in Review.select().where(Review.visit.in_([v.id for v in visits])).order_by(Review.created_at):
        feedback.setdefault(r.visit_id, []).append({"by": names.get(r.reviewer_id, ""), "at": _when(r.created_at),
                                                    "comment": r.comment})
    goals = list(Goal.select().where(Goal.person == person).order_by(Goal.created_at))
    ratings: dict[int, list] = {}
    for g in GoalProgress.select().where(GoalProgress.goal.in_([g.id for g in goals])).order_by(
            GoalProgress.created_at):
        ratings.setdefault(g.goal_id, []).append({"id": str(g.uuid), "at": _when(g.created_at), "rating": g.rating,
                                                  "note": g.note,
                                                  "rated_by": RATED_BY.get(g.rated_by, "Not recorded"),
                                                  "recorded_by": names.get(g.author_id, "")})
    resources = dict(Resource.select(Resource.id, Resource.name).tuples())
    visit_ids = [str(v.uuid) for v in visits]
    viewed = (AuditEvent.select().where(((AuditEvent.entity == "person") & (AuditEvent.record_id == str(person.uuid)))
                                        | ((AuditEvent.entity == "visit") & AuditEvent.record_id.in_(visit_ids)))
              .order_by(AuditEvent.at))
    return {
        "person": {"id": str(person.uuid), "name": person.display_name, "preferred_contact": person.preferred_contact,
                   "engagement_start": jsonable(person.engagement_start), "planned_end": jsonable(person.planned_end),
                   "status": person.status, "reminders_opt_in": person.reminders_opt_in,
                   "added": _when(person.created_at),
                   # issue 15: how the engagement ended, and the handover note a coordinator wrote
                   "closed_at": jsonable(person.closed_at),
                   "closed_reason": CLOSED_REASONS.get(person.closed_reason, ""),
                   "ending_summary": person.ending_summary, "handover_note": person.handover_note,
                   "workers": [names.get(a.worker_id, "") for a in person.assignments.order_by(
                       CaseloadAssignment.started_at)]},
        "visits": [{"id": str(v.uuid), "when": _when(v.started_at), "minutes": v.duration_minutes,
                    "how": VISIT_MODES.get(v.mode, v.mode), "where": VISIT_LOCATIONS.get(v.location_type,
                                                                                         v.location_type),
                    "attendance": VISIT_ATTENDANCE.get(v.attendance, v.attendance), "group": v.group_session,
                    "wellbeing": v.wellbeing, "concern": v.concern, "concern_notes": v.concern_notes,
                    "notes": v.notes, "next_visit": _when(v.next_visit_at), "by": names.get(v.author_id, ""),
                    "removed": v.deleted, "voided": _when(v.voided_at), "voided_reason": v.voided_reason,
                    "feedback": feedback.get(v.id, [])} for v in visits],
        "goals": [{"id": str(g.uuid), "title": g.title, "life_area": g.life_area, "steps": g.steps,
                   "status": g.status, "target_date": jsonable(g.target_date), "set": _when(g.created_at),
                   "achieved": _when(g.achieved_at), "removed": g.deleted,
                   "chime": [CHIME[t] for t in json.loads(g.chime_tags or "[]") if t in CHIME],
                   "ratings": ratings.get(g.id, [])} for g in goals],
        "referrals": [{"id": str(r.uuid), "resource": resources.get(r.resource_id, ""), "status": r.status,
                       "notes": r.notes, "made": _when(r.created_at), "follow_up": _when(r.follow_up_at),
                       "removed": r.deleted}
                      for r in Referral.select().where(Referral.person == person).order_by(Referral.created_at)],
        "reminders": [{"kind": r.kind, "text": r.body, "due": _when(r.send_at), "status": r.status}
                      for r in Reminder.select().where(Reminder.person == person).order_by(Reminder.send_at)],
        "consents": [{"channel": c.channel, "text_version": c.text_version, "given": _when(c.given_at),
                      "withdrawn": _when(c.withdrawn_at), "why_withdrawn": c.withdrawn_reason,
                      "recorded_by": names.get(c.recorded_by_id, "")}
                     for c in Consent.select().where(Consent.person == person).order_by(Consent.given_at)],
        "contact_details_for_reminders": [{"channel": c.channel, "address": c.address} for c in
                                          ContactPoint.select().where(ContactPoint.person == person)],
        "kept_edits": [{"field": c.field, "kept": c.kept_value, "overwritten": c.lost_value,
                        "at": _when(c.created_at)} for c in Conflict.select().where(Conflict.person == person)],
        "viewed_by": [{"at": _when(e.at), "who": names.get(e.actor_id, "Former staff"), "what": e.action}
                      for e in viewed],
    }


@bp.get("/people/<person_id>/record")
def subject_access_page(person_id):
    person = get_person_or_404(person_id)
    record = subject_record(person)
    audit("person.subject_access", "person", person.uuid, team=person.team, detail="html")
    return render_template("coordinator/subject_access.html", record=record, made=_when(utcnow()))


@bp.get("/people/<person_id>/record.json")
def subject_access_json(person_id):
    person = get_person_or_404(person_id)
    record = subject_record(person)
    audit("person.subject_access", "person", person.uuid, team=person.team, detail="json")
    body = json.dumps({"made": _when(utcnow()), **record}, ensure_ascii=False, indent=1, default=jsonable)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="record-{person.uuid}.json"'
    return response


# --- retention ------------------------------------------------------------------------------------

def closed_on(person: Person) -> dt.date:
    """When the engagement closed, as the latest of: its planned end, its last visit, the record's last change
    (status set to closed). The latest is the safe choice: a record is never kept for less than the period."""
    last_visit = (Visit.select(Visit.started_at).where(Visit.person == person)
                  .order_by(Visit.started_at.desc()).scalar())
    days = [d for d in (person.planned_end, _date(last_visit), _date(person.updated_at), person.closed_at) if d]
    return max(days)


def _date(value) -> dt.date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, dt.datetime) else dt.date.fromisoformat(str(value)[:10])


def due_people(years: int, today: dt.date) -> list[tuple[Person, dt.date]]:
    """Closed engagements whose retention period has passed, oldest first."""
    due = []
    for person in Person.select().where((Person.status == "closed") & ~Person.deleted).order_by(Person.id):
        ended = closed_on(person)
        try:
            keep_until = ended.replace(year=ended.year + years)
        except ValueError:  # 29 February
            keep_until = ended.replace(year=ended.year + years, day=28)
        if keep_until <= today:
            due.append((person, ended))
    return sorted(due, key=lambda item: item[1])


BLANK = {Visit: ("notes", "concern_notes", "concern_ack_note"), Goal: ("title", "steps"),
         GoalProgress: ("note",), Referral: ("notes",), Review: ("comment",)}


def apply_retention(person: Person, action: str, by: User | None = None) -> int:
    """Erase or anonymise one person's records; returns how many synced records changed. One transaction."""
    if action not in ("erase", "anonymise"):
        raise ValueError(action)
    ended = closed_on(person)
    with write_transaction():
        rev = next_rev()
        visits = list(Visit.select().where(Visit.person == person))
        goals = list(Goal.select().where(Goal.person == person))
        records = [*visits, *goals,
                   *GoalProgress.select().where(GoalProgress.goal.in_([g.id for g in goals])),
                   *Referral.select().where(Referral.person == person),
                   *Review.select().where(Review.visit.in_([v.id for v in visits])),
                   *Conflict.select().where(Conflict.person == person)]
        for record in records:
            for name in BLANK.get(type(record), ()):
                setattr(record, name, "")
            if isinstance(record, Conflict):
                record.kept_value = record.lost_value = None
            if action == "erase":
                record.deleted = True
            stamp_change(record, rev=rev)
            record.save()
        person.display_name = "Erased" if action == "erase" else "Anonymised"
        person.preferred_contact = ""
        person.deleted = action == "erase"
        stamp_change(person, rev=rev)
        person.save()
        for worker in list(person.current_workers()):
            person.unassign(worker)  # the person leaves every phone (purge)
        for model in (ContactPoint, PushSubscription, Reminder, Invite, Consent, ReminderDevice):
            model.delete().where(model.person == person).execute()
        ErasedRecord.create(person_uuid=person.uuid, action=action, closed_on=ended, records=len(records) + 1, by=by)
        AuditEvent.record(by, f"retention.{action}", "person", person.uuid, team=person.team,
                          detail=f"closed {ended}; {len(records) + 1} records")
    return len(records) + 1
