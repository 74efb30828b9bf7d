"""A person's right to their record (UK GDPR article 15; issue 16): a subject access export of everything held
about one person (details, visits with notes and their feedback, goals with ratings, referrals, reminders,
consent history, the contact details kept for reminders, kept edit conflicts, and the audit of who viewed the
record), as a printable page and a JSON file. Supervision of staff is not part of it. Each export is audited.

Every section is read by the person's own keys only (never a search that could match another person), in one
query per section: a visit's feedback and a goal's ratings come from one query for all of the person's visits
and goals, never a query per row. Both forms are streamed section by section as the rows arrive, so a record of
thousands of visits never sits whole in memory; both end with an explicit end mark ("complete": true, and "End
of the record." on the page), so a copy cut short by a failure shows that it is incomplete."""

from __future__ import annotations

import datetime as dt
import json

from flask import Response, stream_template, stream_with_context

from ..codes import CHIME, CLOSED_REASONS, RATED_BY, VISIT_ATTENDANCE, VISIT_LOCATIONS, VISIT_MODES
from ..db import utcnow
from ..models import (
    AuditEvent,
    CaseloadAssignment,
    Conflict,
    Consent,
    ContactPoint,
    Goal,
    GoalProgress,
    Person,
    Referral,
    Reminder,
    Resource,
    Review,
    User,
    Visit,
)
from ..sync.wire import jsonable
from . import bp
from .access import audit, get_person_or_404, to_local

SECTIONS = ("visits", "goals", "referrals", "reminders", "consents", "contact_details_for_reminders", "kept_edits",
            "viewed_by")
AUDIT_CHUNK = 500  # visit ids per audit query: far below either engine's limit on bound values


def when(value):
    local = to_local(value) if isinstance(value, dt.datetime) else None
    return local.isoformat(timespec="minutes") if local else jsonable(value)


class SubjectRecord:
    """One person's record, each section a generator of plain dicts (JSON-ready) read in one query."""

    def __init__(self, person: Person):
        self.person_row = person
        self.names = dict(User.select(User.id, User.name).tuples())  # staff, named where they acted on it
        self._details = None

    @property
    def person(self) -> dict:
        if self._details is None:
            p = self.person_row
            workers = (CaseloadAssignment.select(CaseloadAssignment.worker).where(CaseloadAssignment.person == p)
                       .order_by(CaseloadAssignment.started_at).tuples())
            self._details = {
                "id": str(p.uuid), "name": p.display_name, "preferred_contact": p.preferred_contact,
                "engagement_start": jsonable(p.engagement_start), "planned_end": jsonable(p.planned_end),
                "status": p.status, "reminders_opt_in": p.reminders_opt_in, "added": when(p.created_at),
                # issue 15: how the engagement ended, and the handover note a coordinator wrote
                "closed_at": jsonable(p.closed_at), "closed_reason": CLOSED_REASONS.get(p.closed_reason, ""),
                "ending_summary": p.ending_summary, "handover_note": p.handover_note,
                "workers": [self.names.get(w, "") for (w,) in workers]}
        return self._details

    def section(self, name: str):
        return getattr(self, name)()

    def visits(self):
        p, names = self.person_row, self.names
        feedback: dict[int, list] = {}
        for visit_id, reviewer, at, comment in (Review.select(Review.visit, Review.reviewer, Review.created_at,
                                                              Review.comment)
                                                .join(Visit, on=(Review.visit == Visit.id))
                                                .where(Visit.person == p)
                                                .order_by(Review.created_at, Review.id).tuples()):
            feedback.setdefault(visit_id, []).append({"by": names.get(reviewer, ""), "at": when(at),
                                                      "comment": comment})
        for v in Visit.select().where(Visit.person == p).order_by(Visit.started_at, Visit.id).dicts().iterator():
            yield {"id": str(v["uuid"]), "when": when(v["started_at"]), "minutes": v["duration_minutes"],
                   "how": VISIT_MODES.get(v["mode"], v["mode"]),
                   "where": VISIT_LOCATIONS.get(v["location_type"], v["location_type"]),
                   "attendance": VISIT_ATTENDANCE.get(v["attendance"], v["attendance"]),
                   "group": v["group_session"], "wellbeing": v["wellbeing"], "concern": v["concern"],
                   "concern_notes": v["concern_notes"], "notes": v["notes"], "next_visit": when(v["next_visit_at"]),
                   "by": names.get(v["author"], ""), "removed": v["deleted"], "voided": when(v["voided_at"]),
                   "voided_reason": v["voided_reason"], "feedback": feedback.get(v["id"], [])}

    def goals(self):
        p, names = self.person_row, self.names
        ratings: dict[int, list] = {}
        for r in (GoalProgress.select().join(Goal, on=(GoalProgress.goal == Goal.id)).where(Goal.person == p)
                  .order_by(GoalProgress.created_at, GoalProgress.id).dicts()):
            ratings.setdefault(r["goal"], []).append({
                "id": str(r["uuid"]), "at": when(r["created_at"]), "rating": r["rating"], "note": r["note"],
                "rated_by": RATED_BY.get(r["rated_by"], "Not recorded"), "recorded_by": names.get(r["author"], "")})
        for g in Goal.select().where(Goal.person == p).order_by(Goal.created_at, Goal.id).dicts().iterator():
            yield {"id": str(g["uuid"]), "title": g["title"], "life_area": g["life_area"], "steps": g["steps"],
                   "status": g["status"], "target_date": jsonable(g["target_date"]), "set": when(g["created_at"]),
                   "achieved": when(g["achieved_at"]), "removed": g["deleted"],
                   "chime": [CHIME[t] for t in _json_list(g["chime_tags"]) if t in CHIME],
                   "ratings": ratings.get(g["id"], [])}

    def referrals(self):
        rows = (Referral.select(Referral.uuid, Resource.name, Referral.status, Referral.notes, Referral.created_at,
                                Referral.follow_up_at, Referral.deleted)
                .join(Resource, on=(Referral.resource == Resource.id))
                .where(Referral.person == self.person_row).order_by(Referral.created_at, Referral.id).tuples())
        for uuid, resource, status, notes, made, follow_up, deleted in rows:
            yield {"id": str(uuid), "resource": resource or "", "status": status, "notes": notes, "made": when(made),
                   "follow_up": when(follow_up), "removed": deleted}

    def reminders(self):
        for r in Reminder.select().where(Reminder.person == self.person_row).order_by(Reminder.send_at, Reminder.id):
            yield {"kind": r.kind, "text": r.body, "due": when(r.send_at), "status": r.status}

    def consents(self):
        for c in Consent.select().where(Consent.person == self.person_row).order_by(Consent.given_at, Consent.id):
            yield {"channel": c.channel, "text_version": c.text_version, "given": when(c.given_at),
                   "withdrawn": when(c.withdrawn_at), "why_withdrawn": c.withdrawn_reason,
                   "recorded_by": self.names.get(c.recorded_by_id, "")}

    def contact_details_for_reminders(self):
        for c in ContactPoint.select().where(ContactPoint.person == self.person_row).order_by(ContactPoint.id):
            yield {"channel": c.channel, "address": c.address}

    def kept_edits(self):
        for c in Conflict.select().where(Conflict.person == self.person_row).order_by(Conflict.created_at, Conflict.id):
            yield {"field": c.field, "kept": c.kept_value, "overwritten": c.lost_value, "at": when(c.created_at)}

    def viewed_by(self):
        """The audit's entries on the person and on their visits (the audit names records by id, as text)."""
        person_id = str(self.person_row.uuid)
        visit_ids = [str(u) for (u,) in Visit.select(Visit.uuid).where(Visit.person == self.person_row).tuples()]
        events = list(AuditEvent.select(AuditEvent.at, AuditEvent.actor, AuditEvent.action, AuditEvent.id)
                      .where((AuditEvent.entity == "person") & (AuditEvent.record_id == person_id)).tuples())
        for i in range(0, len(visit_ids), AUDIT_CHUNK):
            events.extend(AuditEvent.select(AuditEvent.at, AuditEvent.actor, AuditEvent.action, AuditEvent.id)
                          .where((AuditEvent.entity == "visit")
                                 & AuditEvent.record_id.in_(visit_ids[i:i + AUDIT_CHUNK])).tuples())
        for at, actor, action, _id in sorted(events, key=lambda e: (e[0], e[3])):
            yield {"at": when(at), "who": self.names.get(actor, "Former staff"), "what": action}


def _json_list(text) -> list:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def subject_record(person: Person) -> dict:
    """The whole record as one dict (for callers that want it in memory; the routes stream it)."""
    record = SubjectRecord(person)
    return {"person": record.person, **{name: list(record.section(name)) for name in SECTIONS}}


def json_chunks(record: SubjectRecord, made: str):
    """The JSON file, a section at a time and a row at a time within each."""
    def dumps(value):
        return json.dumps(value, ensure_ascii=False, default=jsonable)

    yield '{"made": ' + dumps(made) + ',\n"person": ' + dumps(record.person)
    for name in SECTIONS:
        yield f',\n"{name}": ['
        for i, item in enumerate(record.section(name)):
            yield ("\n " if i == 0 else ",\n ") + dumps(item)
        yield "]"
    yield ',\n"complete": true}\n'


@bp.get("/people/<person_id>/record")
def subject_access_page(person_id):
    person = get_person_or_404(person_id)
    audit("person.subject_access", "person", person.uuid, team=person.team, detail="html")
    return stream_template("coordinator/subject_access.html", record=SubjectRecord(person), made=when(utcnow()))


@bp.get("/people/<person_id>/record.json")
def subject_access_json(person_id):
    person = get_person_or_404(person_id)
    audit("person.subject_access", "person", person.uuid, team=person.team, detail="json")
    response = Response(stream_with_context(json_chunks(SubjectRecord(person), when(utcnow()))),
                        mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="record-{person.uuid}.json"'
    return response
