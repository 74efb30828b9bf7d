"""The review queue: synced visits newest first with filters, a visit's detail, marking reviewed
(singly and in bulk) and feedback comments. A comment is a Review row stamped with the change
sequence, so the worker's phone receives it on its next pull and shows it on the visit."""

from __future__ import annotations

import datetime as dt
import json

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..db import utcnow, write_transaction
from ..models import (
    CONCERN_LEVELS,
    VISIT_ATTENDANCE,
    VISIT_LOCATIONS,
    VISIT_MODES,
    Goal,
    GoalProgress,
    Person,
    Review,
    User,
    Visit,
)
from ..security import safe_next
from ..sync.revisions import next_rev, stamp_new, stamp_values
from ..visit_state import changed_since_review, needs_review, voided_words
from . import bp
from .access import (
    BadInput,
    audit,
    clean_text,
    day_after,
    day_start,
    get_visit_or_404,
    link_args,
    parse_page,
    parse_range,
    parse_uuid,
    people,
    visits,
    workers,
)

PAGE_SIZE = 50
BULK_LIMIT = 200
COMMENT_LIMIT = 2000


def safe_back(default: str) -> str:
    """Back to the coordinator page the form came from (`next`), or `default`."""
    return safe_next(request.form.get("next"), "/coordinator/") or default


def queue_filters(args) -> dict:
    start, end = parse_range(args)
    concern = args.get("concern", "")
    if concern not in ("", "any", *CONCERN_LEVELS):
        raise BadInput("Concern: choose none, low, high or any.")
    return {
        "worker": parse_uuid(args.get("worker")) if args.get("worker") else None,
        "person": parse_uuid(args.get("person")) if args.get("person") else None,
        "from": start,
        "to": end,
        "concern": concern,
        "unreviewed": args.get("unreviewed") == "1",
    }


def queue_query(filters: dict):
    """Visits in scope, newest first, with their person and author in the same row."""
    query = (visits()
             .select(Visit.id, Visit.uuid, Visit.started_at, Visit.duration_minutes, Visit.mode, Visit.attendance,
                     Visit.concern, Visit.reviewed_at, Visit.voided_at, Visit.voided_reason, Visit.edited_at,
                     Person.id, Person.uuid, Person.display_name, User.id, User.name)
             .switch(Visit)
             .join(User, on=(Visit.author == User.id)))
    if filters["worker"]:
        query = query.where(User.uuid == filters["worker"])
    if filters["person"]:
        query = query.where(Person.uuid == filters["person"])
    if filters["from"]:
        query = query.where(Visit.started_at >= day_start(filters["from"]))
    if filters["to"]:
        query = query.where(Visit.started_at < day_after(filters["to"]))
    if filters["concern"] == "any":
        query = query.where(Visit.concern != "none")
    elif filters["concern"]:
        query = query.where(Visit.concern == filters["concern"])
    if filters["unreviewed"]:
        query = query.where(needs_review())
    return query.order_by(Visit.started_at.desc(), Visit.id.desc())


CONCERN_WORDS = {"any": "any concern", "high": "serious concern", "low": "some concern", "none": "no concern"}


def filter_summary(filters: dict, workers_: list, people_: list) -> list[str]:
    """The filters in force, in words, for the closed disclosure's summary."""
    words = [name for uuid, name in workers_ if uuid == filters["worker"]]
    words += [name for uuid, name in people_ if uuid == filters["person"]]
    if filters["from"]:
        words.append(f"from {filters['from']:%d %b %Y}")
    if filters["to"]:
        words.append(f"to {filters['to']:%d %b %Y}")
    if filters["concern"]:
        words.append(CONCERN_WORDS[filters["concern"]])
    if filters["unreviewed"]:
        words.append("not yet reviewed")
    return words


WINDOWS_DAYS = (14, 60, 240, None)


def newest_page(query, offset: int, limit: int, before=None) -> list:
    """A page of visits, newest first, looked for in widening windows of time back from now (or from the
    "to" date). A team's recent visits are a small slice of the table, so each engine answers from the
    (person, started_at) index in a few milliseconds instead of sorting every visit the team ever had;
    a quiet filter simply widens the window until the page is full or nothing is left out."""
    anchor = before or utcnow()
    for days in WINDOWS_DAYS:
        windowed = query if days is None else query.where(Visit.started_at >= anchor - dt.timedelta(days=days))
        rows = list(windowed.limit(limit).offset(offset))
        if len(rows) == limit:
            return rows
    return rows


@bp.get("/review")
def review_queue():
    filters = queue_filters(request.args)
    page = parse_page(request.args.get("page"))
    rows = newest_page(queue_query(filters), (page - 1) * PAGE_SIZE, PAGE_SIZE + 1, day_after(filters["to"]))
    more = len(rows) > PAGE_SIZE
    with write_transaction():  # names with concern levels: one person's when filtered to them
        audit("visit.list", "person" if filters["person"] else "visit", filters["person"] or "",
              detail=f"review queue, page {page}, {min(len(rows), PAGE_SIZE)} visits")
    worker_choices = list(workers().select(User.uuid, User.name).tuples())
    people_choices = list(people().select(Person.uuid, Person.display_name).order_by(Person.display_name)
                          .limit(2000).tuples())
    return render_template(
        "coordinator/review_queue.html",
        visits=rows[:PAGE_SIZE], more=more, page=page, filters=filters,
        workers=worker_choices, people=people_choices,
        filter_summary=filter_summary(filters, worker_choices, people_choices),
        modes=VISIT_MODES, attendance=VISIT_ATTENDANCE, changed=changed_since_review, voided=voided_words,
        args=link_args(request.args),
    )


@bp.get("/visits/<visit_id>")
def visit_detail(visit_id):
    visit = get_visit_or_404(visit_id)
    try:
        goal_ids = [parse_uuid(g) for g in json.loads(visit.goal_ids or "[]")]
    except (ValueError, TypeError):
        goal_ids = []
    goal_ids = [g for g in goal_ids if g]
    goals = list(Goal.select().where((Goal.person == visit.person) & Goal.uuid.in_(goal_ids))) if goal_ids else []
    progress = list(GoalProgress.select(GoalProgress, Goal).join(Goal)
                    .where((GoalProgress.visit == visit) & ~GoalProgress.deleted))
    reviews = list(Review.select(Review, User).join(User, on=(Review.reviewer == User.id))
                   .where((Review.visit == visit) & ~Review.deleted)
                   .order_by(Review.created_at))
    with write_transaction():
        audit("visit.view", "visit", visit.uuid, team=visit.person.team_id)
    return render_template(
        "coordinator/visit_detail.html", visit=visit, goals=goals, progress=progress, reviews=reviews,
        modes=VISIT_MODES, locations=VISIT_LOCATIONS, attendance=VISIT_ATTENDANCE,
        changed=changed_since_review(visit), voided=voided_words(visit),
    )


def mark_reviewed(visit: Visit, rev: int) -> None:
    """Sign a visit off; the worker's phone learns of it through the visit's new rev."""
    (Visit.update(reviewed_at=utcnow(), reviewed_by=current_user.id, **stamp_values(visit, (), rev=rev))
     .where(Visit.id == visit.id)
     .execute())


def add_feedback(visit: Visit, comment: str) -> Review:
    return Review.create(visit=visit, reviewer=current_user.id, comment=comment, **stamp_new(Review))


@bp.post("/visits/<visit_id>/review")
def review_visit(visit_id):
    visit = get_visit_or_404(visit_id)
    comment = clean_text(request.form.get("comment"), "Feedback", COMMENT_LIMIT)
    marks = request.form.getlist("mark_reviewed")
    mark = not marks or "1" in marks  # the hidden "0" comes first; a ticked box adds "1"
    if not comment and not mark:
        raise BadInput("Write some feedback to send." if visit.voided_at else
                       "Write some feedback or tick “mark as reviewed”.")
    with write_transaction():
        if comment:
            review = add_feedback(visit, comment)
            audit("review.create", "review", review.uuid, team=visit.person.team_id,
                  detail=f"visit {visit.uuid}")
        if mark and visit.voided_at is None and (visit.reviewed_at is None or changed_since_review(visit)):
            mark_reviewed(visit, next_rev())  # again, when the worker changed it since the last review
            audit("visit.review", "visit", visit.uuid, team=visit.person.team_id)
    flash("Feedback sent to the worker’s phone." if comment else "Visit marked as reviewed.", "ok")
    return redirect(safe_back(url_for("coordinator.visit_detail", visit_id=visit.uuid)))


@bp.post("/review/bulk")
def review_bulk():
    raw = request.form.getlist("visit")
    if not raw:
        raise BadInput("Tick at least one visit to mark as reviewed.")
    if len(raw) > BULK_LIMIT:
        raise BadInput(f"Please mark at most {BULK_LIMIT} visits at a time.")
    ids = [parse_uuid(v) for v in raw]
    if any(i is None for i in ids):
        raise BadInput("One of the ticked visits could not be read. Please reload the page.")
    with write_transaction():
        found = list(visits().select(Visit, Person).where(Visit.uuid.in_(ids) & needs_review()))
        if found:
            last = next_rev(len(found))
            for offset, visit in enumerate(found):
                mark_reviewed(visit, last - len(found) + 1 + offset)
                audit("visit.review", "visit", visit.uuid, team=visit.person.team_id, detail="bulk")
    flash(f"{len(found)} visit{'s' if len(found) != 1 else ''} marked as reviewed.", "ok")
    return redirect(safe_back(url_for("coordinator.review_queue")))
