"""The audit trail: who viewed or changed what, and when (ids and action names, never health text),
with filters and a streamed CSV export. Coordinators see their own team's events; admins see all."""

from __future__ import annotations

from flask import render_template, request

from ..models import AuditEvent, User
from . import bp
from .access import BadInput, clean_text, day_after, day_start, parse_page, parse_range, parse_uuid, scope, users
from .exports import csv_response, iso, keyset

PAGE_SIZE = 100


def audit_filters(args) -> dict:
    start, end = parse_range(args)
    actor = None
    if args.get("actor"):
        actor_id = parse_uuid(args.get("actor"))
        actor = users().where(User.uuid == actor_id).first() if actor_id else None
        if actor is None:
            raise BadInput("Who: that person is not in your team.")
    return {
        "from": start, "to": end, "actor": actor,
        "action": clean_text(args.get("action"), "Action", 60),
        "entity": clean_text(args.get("entity"), "Record type", 30),
        "record_id": clean_text(args.get("record_id"), "Record id", 64),
    }


def audit_query(filters: dict):
    query = scope(AuditEvent.select(), AuditEvent.team)
    if filters["from"]:
        query = query.where(AuditEvent.at >= day_start(filters["from"]))
    if filters["to"]:
        query = query.where(AuditEvent.at < day_after(filters["to"]))
    if filters["actor"]:
        query = query.where(AuditEvent.actor == filters["actor"].id)
    if filters["action"]:
        query = query.where(AuditEvent.action.startswith(filters["action"]))
    if filters["entity"]:
        query = query.where(AuditEvent.entity == filters["entity"])
    if filters["record_id"]:
        query = query.where(AuditEvent.record_id == filters["record_id"])
    return query


def _actor_names() -> dict[int, tuple[str, str]]:
    return {uid: (str(uuid), name) for uid, uuid, name in User.select(User.id, User.uuid, User.name).tuples()}


@bp.get("/audit")
def audit_list():
    filters = audit_filters(request.args)
    page = parse_page(request.args.get("page"))
    rows = list(audit_query(filters).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                .limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE))
    names = _actor_names()
    return render_template("coordinator/audit.html", events=rows[:PAGE_SIZE], more=len(rows) > PAGE_SIZE, page=page,
                           filters=filters, names=names, actors=list(users().order_by(User.name)),
                           args={k: v for k, v in request.args.items() if k != "page"})


AUDIT_HEADER = ["at", "actor_id", "actor_name", "action", "entity", "record_id", "detail"]


@bp.get("/audit.csv")
def audit_export():
    filters = audit_filters(request.args)
    names = _actor_names()
    query = audit_query(filters).select(AuditEvent.id, AuditEvent.at, AuditEvent.actor, AuditEvent.action,
                                        AuditEvent.entity, AuditEvent.record_id, AuditEvent.detail)

    def rows():
        for e in keyset(query, AuditEvent.at, AuditEvent.id):
            actor = names.get(e["actor"], ("", ""))
            yield [iso(e["at"]), actor[0], actor[1], e["action"], e["entity"], e["record_id"], e["detail"]]

    return csv_response("alongside-audit.csv", AUDIT_HEADER, rows())
