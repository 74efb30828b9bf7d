"""Caseloads: the team's people with their worker, last and next visit, active goals and planned end;
creating a person, assigning and reassigning (the worker's sync scope follows the assignment rows),
pausing or closing an engagement, and confirming people that workers added in the field."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from peewee import fn

from ..attendance import FLAG_AT
from ..codes import CLOSED_REASONS
from ..db import utcnow, write_transaction
from ..models import (
    PERSON_STATUSES,
    VISIT_ATTENDANCE,
    VISIT_MODES,
    CaseloadAssignment,
    Goal,
    Person,
    Referral,
    Resource,
    User,
    Visit,
)
from ..sync.revisions import next_rev, stamp_new, stamp_values
from . import bp
from .access import (
    BadInput,
    audit,
    clean_text,
    get_person_or_404,
    get_team_or_404,
    get_worker_or_none,
    is_admin,
    link_args,
    parse_date,
    parse_page,
    parse_uuid,
    people,
    teams_in_scope,
    today_local,
    workers,
)
from .goal_ratings import goals_with_ratings
from .reminders import reminder_section
from .review import safe_back

PAGE_SIZE = 50
NOTE_LIMIT = 2000  # the handover note and the ending summary (schemas.py: PersonFields)
SHOW_CHOICES = ("", "to_confirm", "past_end")
STATUS_ACTIONS = {"active": "person.resume", "paused": "person.pause", "closed": "person.close"}


def _people_query(args):
    status = args.get("status", "active")
    if status not in ("all", *PERSON_STATUSES):
        raise BadInput("Status: choose active, paused, closed or all.")
    show = args.get("show", "")
    if show not in SHOW_CHOICES:
        raise BadInput("Unknown list to show.")
    query = people()
    if status != "all":
        query = query.where(Person.status == status)
    if show == "to_confirm":
        query = query.where(Person.added_in_field & Person.confirmed_at.is_null())
    elif show == "past_end":
        query = query.where(Person.planned_end < today_local())
    search = clean_text(args.get("q"), "Search", 120)
    if search:
        query = query.where(fn.LOWER(Person.display_name).contains(search.lower()))
    worker = get_worker_or_none(args.get("worker")) if args.get("worker") else None
    if args.get("worker") and worker is None:
        raise BadInput("That worker is not in your team.")
    if worker is not None:
        on_caseload = (CaseloadAssignment.select(CaseloadAssignment.person)
                       .where((CaseloadAssignment.worker == worker) & CaseloadAssignment.ended_at.is_null()))
        query = query.where(Person.id.in_(on_caseload))
    return query, {"status": status, "show": show, "q": search, "worker": worker.uuid if worker else None}


def with_summaries(query):
    """Last and next visit and active goals per person, as correlated subqueries (indexed by person)."""
    v = Visit.alias()
    g = Goal.alias()
    last_visit = v.select(fn.MAX(v.started_at)).where((v.person == Person.id) & ~v.deleted)
    v2 = Visit.alias()
    next_visit = v2.select(fn.MAX(v2.next_visit_at)).where((v2.person == Person.id) & ~v2.deleted)
    active_goals = g.select(fn.COUNT(g.id)).where((g.person == Person.id) & (g.status == "active") & ~g.deleted)
    return query.select_extend(last_visit.alias("last_visit"), next_visit.alias("next_visit"),
                               active_goals.alias("active_goals"))


def current_workers_by_person(person_ids) -> dict[int, list[User]]:
    result: dict[int, list[User]] = {}
    if not person_ids:
        return result
    rows = (CaseloadAssignment.select(CaseloadAssignment, User)
            .join(User, on=(CaseloadAssignment.worker == User.id))
            .where(CaseloadAssignment.person.in_(person_ids) & CaseloadAssignment.ended_at.is_null())
            .order_by(User.name))
    for row in rows:
        result.setdefault(row.person_id, []).append(row.worker)
    return result


@bp.get("/people")
def people_list():
    query, filters = _people_query(request.args)
    page = parse_page(request.args.get("page"))
    rows = list(with_summaries(query)
                .order_by(fn.LOWER(Person.display_name), Person.id)
                .limit(PAGE_SIZE + 1)
                .offset((page - 1) * PAGE_SIZE))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    with write_transaction():  # who is supported, by whom, and how it goes: a look at each person listed
        audit("person.list", "person", "", detail=f"page {page}, {len(rows)} people")
    return render_template(
        "coordinator/people.html", people=rows, more=more, page=page, filters=filters,
        workers_by_person=current_workers_by_person([p.id for p in rows]), workers=list(workers()),
        today=today_local(), args=link_args(request.args), flag_at=FLAG_AT, closed_reasons=CLOSED_REASONS,
    )


@bp.get("/people/<person_id>")
def person_detail(person_id):
    person = get_person_or_404(person_id)
    history = list(CaseloadAssignment.select(CaseloadAssignment, User)
                   .join(User, on=(CaseloadAssignment.worker == User.id))
                   .where(CaseloadAssignment.person == person)
                   .order_by(CaseloadAssignment.started_at.desc()))
    recent = list(Visit.select(Visit, User).join(User, on=(Visit.author == User.id))
                  .where((Visit.person == person) & ~Visit.deleted)
                  .order_by(Visit.started_at.desc()).limit(20))
    goals = list(Goal.select().where((Goal.person == person) & ~Goal.deleted).order_by(Goal.created_at))
    referrals = list(Referral.select(Referral, Resource).join(Resource)
                     .where((Referral.person == person) & ~Referral.deleted).order_by(Referral.created_at.desc()))
    with write_transaction():
        audit("person.view", "person", person.uuid, team=person.team_id)
    return render_template(
        "coordinator/person_detail.html", person=person, history=history, visits=recent, goals=goals,
        referrals=referrals, current=[a.worker for a in history if a.ended_at is None],
        team_workers=list(workers().where(User.team == person.team_id)), statuses=PERSON_STATUSES,
        reminders=reminder_section(person), today=today_local(), modes=VISIT_MODES, attendance=VISIT_ATTENDANCE,
        goal_ratings=goals_with_ratings(person, goals), flag_at=FLAG_AT, closed_reasons=CLOSED_REASONS,
    )


def update_person(person: Person, values: dict, public_names: dict | None = None) -> int:
    """Change a person's fields from this page; call inside write_transaction(). Besides the record's rev,
    each changed field's rev is stamped (as the sync engine does for a device), so a worker's phone that
    edits the same field from an older copy leaves a conflict record instead of silently overwriting."""
    rev = next_rev()  # takes the change-counter lock first, so the read below is current
    fresh = Person.get_by_id(person.id)
    changed = [(public_names or {}).get(name, name) for name, value in values.items() if getattr(fresh, name) != value]
    (Person.update(**values, **stamp_values(fresh, changed, by=current_user.id, rev=rev))
     .where(Person.id == person.id)
     .execute())
    return rev


def _person_fields(form) -> dict:
    fields = {
        "display_name": clean_text(form.get("display_name"), "Name", 120, required=True),
        "preferred_contact": clean_text(form.get("preferred_contact"), "Preferred contact", 200),
        "engagement_start": parse_date(form.get("engagement_start"), "Engagement start"),
        "planned_end": parse_date(form.get("planned_end"), "Planned end"),
    }
    if fields["engagement_start"] and fields["planned_end"] and fields["planned_end"] < fields["engagement_start"]:
        raise BadInput("The planned end is before the engagement start.")
    return fields


def _team_for_new_person(form):
    if is_admin():
        if not form.get("team"):
            raise BadInput("Team: please choose a team.")
        return get_team_or_404(form.get("team"))
    if current_user.team is None:
        raise BadInput("You are not in a team, so you cannot add people.")
    return current_user.team


@bp.route("/people/new", methods=["GET", "POST"])
def person_new():
    if request.method == "GET":
        return render_template("coordinator/person_form.html", person=None, teams=list(teams_in_scope()),
                               workers=list(workers()), admin=is_admin())
    fields = _person_fields(request.form)
    team = _team_for_new_person(request.form)
    worker = None
    if request.form.get("worker"):
        worker = get_worker_or_none(request.form.get("worker"), team_id=team.id)
        if worker is None:
            raise BadInput("Worker: choose a peer worker in the person’s team.")
    with write_transaction():
        person = Person.create(team=team, created_by=current_user.id, status="active", confirmed_at=utcnow(),
                               **fields, **stamp_new(Person))
        audit("person.create", "person", person.uuid, team=team.id)
        if worker is not None:
            person.assign_to(worker, by=current_user.id)
            audit("person.assign", "person", person.uuid, team=team.id, detail=f"worker {worker.uuid}")
    flash("Person added.", "ok")
    return redirect(url_for("coordinator.person_detail", person_id=person.uuid))


@bp.route("/people/<person_id>/edit", methods=["GET", "POST"])
def person_edit(person_id):
    person = get_person_or_404(person_id)
    if request.method == "GET":
        with write_transaction():
            audit("person.view", "person", person.uuid, team=person.team_id, detail="edit form")
        return render_template("coordinator/person_form.html", person=person, teams=[], workers=[], admin=False)
    fields = _person_fields(request.form)
    with write_transaction():
        update_person(person, fields)
        audit("person.edit", "person", person.uuid, team=person.team_id)
    flash("Details saved.", "ok")
    return redirect(url_for("coordinator.person_detail", person_id=person.uuid))


@bp.post("/people/<person_id>/assign")
def person_assign(person_id):
    """Assign or move a person; a move asks for a handover note for the new worker (issue 15), kept on the
    person and stamped like any synced change, so the new worker's phone pulls it with the person."""
    person = get_person_or_404(person_id)
    worker = get_worker_or_none(request.form.get("worker"), team_id=person.team_id)
    if worker is None:
        raise BadInput("Worker: choose an active peer worker in this person’s team.")
    replace = request.form.get("mode", "replace") != "add"
    note = clean_text(request.form.get("handover_note"), "Handover note", NOTE_LIMIT) \
        if "handover_note" in request.form else None
    with write_transaction():
        if replace:
            person.reassign(worker, by=current_user.id)
        else:
            person.assign_to(worker, by=current_user.id)
        if note is not None:
            update_person(person, {"handover_note": note})
        audit("person.reassign" if replace else "person.assign", "person", person.uuid, team=person.team_id,
              detail=f"worker {worker.uuid}" + (", handover note" if note else ""))
    flash(f"{person.display_name} is now on {worker.name}’s caseload."
          + (" They see your handover note when their phone next syncs." if note else ""), "ok")
    return redirect(url_for("coordinator.person_detail", person_id=person.uuid))


@bp.post("/people/<person_id>/unassign")
def person_unassign(person_id):
    person = get_person_or_404(person_id)
    worker_id = parse_uuid(request.form.get("worker"))
    worker = User.get_or_none((User.uuid == worker_id) & (User.team == person.team_id)) if worker_id else None
    if worker is None:
        raise BadInput("Worker: choose a worker on this person’s caseload.")
    with write_transaction():
        ended = person.unassign(worker)
        if ended:
            audit("person.unassign", "person", person.uuid, team=person.team_id, detail=f"worker {worker.uuid}")
    flash(f"{person.display_name} is off {worker.name}’s caseload." if ended else "Nothing to change.", "ok")
    return redirect(url_for("coordinator.person_detail", person_id=person.uuid))


def _ending_fields(form, person: Person, status: str) -> dict:
    """Closing with how it ended (issue 15): a reason from codes.CLOSED_REASONS and a short summary. Reopening
    keeps them as history until the engagement is closed again."""
    if status != "closed":
        return {}
    reason = form.get("closed_reason", "")
    if reason not in ("", *CLOSED_REASONS):
        raise BadInput("How it ended: choose one of the reasons offered.")
    summary = clean_text(form.get("ending_summary"), "Ending summary", NOTE_LIMIT)
    values = {}
    if reason or person.status != "closed":
        values["closed_reason"] = reason
    if summary or person.status != "closed":
        values["ending_summary"] = summary
    if person.status != "closed" or person.closed_at is None:
        values["closed_at"] = today_local()
    return values


@bp.post("/people/<person_id>/status")
def person_status(person_id):
    person = get_person_or_404(person_id)
    status = request.form.get("status", "")
    if status not in PERSON_STATUSES:
        raise BadInput("Status: choose active, paused or closed.")
    values = _ending_fields(request.form, person, status)
    if status != person.status:
        values["status"] = status
    if values:
        with write_transaction():
            update_person(person, values)
            audit(STATUS_ACTIONS[status], "person", person.uuid, team=person.team_id)
    flash(f"Engagement is now {status}.", "ok")
    return redirect(url_for("coordinator.person_detail", person_id=person.uuid))


@bp.post("/people/<person_id>/confirm")
def person_confirm(person_id):
    person = get_person_or_404(person_id)
    if person.confirmed_at is None:
        with write_transaction():
            update_person(person, {"confirmed_at": utcnow()}, {"confirmed_at": "confirmed"})
            audit("person.confirm", "person", person.uuid, team=person.team_id)
    flash("Person confirmed.", "ok")
    return redirect(safe_back(url_for("coordinator.person_detail", person_id=person.uuid)))
