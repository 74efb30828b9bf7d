"""The audit trail: who viewed or changed what, and when (ids and action names, never health text),
with filters and a streamed CSV export. Coordinators see their own team's events; admins see all.

Beside the audit events it shows the workers' own synced changes, read from the sync log (AppliedMutation:
who changed which record from which device, applied or applied with a conflict kept) as `<entity>.sync`
rows, so "every change" includes what was written on phones."""

from __future__ import annotations

import heapq
import uuid as uuidlib

from flask import render_template, request
from peewee import Entity, Value

from ..local_time import LocalTimes
from ..models import AppliedMutation, AuditEvent, User
from ..sync.wire import uuid_str
from . import bp
from .access import (
    BadInput,
    clean_text,
    day_after,
    day_start,
    link_args,
    parse_page,
    parse_range,
    parse_uuid,
    scope,
    users,
)
from .exports import csv_response, keyset, user_names

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


SYNCED = ("applied", "conflict")  # a rejected or duplicate mutation changed nothing


def synced_query(filters: dict):
    """The synced changes matching the filters, or None when the filters rule every one of them out."""
    query = (AppliedMutation
             .select()
             .join(User, on=(AppliedMutation.user == User.id))
             .where(AppliedMutation.status.in_(SYNCED)))
    query = scope(query, User.team)
    if filters["from"]:
        query = query.where(AppliedMutation.created_at >= day_start(filters["from"]))
    if filters["to"]:
        query = query.where(AppliedMutation.created_at < day_after(filters["to"]))
    if filters["actor"]:
        query = query.where(AppliedMutation.user == filters["actor"].id)
    if filters["action"]:
        query = query.where(AppliedMutation.entity.concat(".sync").startswith(filters["action"]))
    if filters["entity"]:
        query = query.where(AppliedMutation.entity == filters["entity"])
    if filters["record_id"]:
        record = parse_uuid(filters["record_id"])
        if record is None:
            return None
        query = query.where(AppliedMutation.record_id == record)
    return query


def trail_query(filters: dict):
    """Audit events and synced changes in one query (a UNION ALL with the same columns), for paging."""
    query = audit_query(filters).select(
        AuditEvent.at, AuditEvent.actor.alias("actor_id"), AuditEvent.action, AuditEvent.entity,
        AuditEvent.record_id, AuditEvent.detail, AuditEvent.id, Value(0).alias("kind"))
    synced = synced_query(filters)
    if synced is None:
        return query
    return query.union_all(synced.select(
        AppliedMutation.created_at.alias("at"), AppliedMutation.user.alias("actor_id"),
        AppliedMutation.entity.concat(".sync").alias("action"), AppliedMutation.entity,
        AppliedMutation.record_id.cast("text").alias("record_id"), AppliedMutation.status.alias("detail"),
        AppliedMutation.id, Value(1).alias("kind")))


def _tidy(row: dict) -> dict:
    """A synced change's record id as a UUID's usual text (SQLite stores it as 32 hex digits)."""
    if row["kind"] == 1 and row["record_id"]:
        row["record_id"] = str(uuidlib.UUID(str(row["record_id"])))
    return row


@bp.get("/audit")
def audit_list():
    filters = audit_filters(request.args)
    page = parse_page(request.args.get("page"))
    query = trail_query(filters)
    rows = [_tidy(row) for row in query.order_by(Entity("at").desc(), Entity("kind"), Entity("id").desc())
            .limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE).dicts()]
    names = user_names()
    return render_template("coordinator/audit.html", events=rows[:PAGE_SIZE], more=len(rows) > PAGE_SIZE, page=page,
                           filters=filters, names=names, actors=list(users().order_by(User.name)),
                           args=link_args(request.args))


AUDIT_HEADER = ["at", "actor_id", "actor_name", "action", "entity", "record_id", "detail"]


@bp.get("/audit.csv")
def audit_export():
    filters = audit_filters(request.args)
    names = user_names()
    query = audit_query(filters).select(AuditEvent.at, AuditEvent.id, AuditEvent.actor, AuditEvent.action,
                                        AuditEvent.entity, AuditEvent.record_id, AuditEvent.detail)
    events = ((at, 0, eid, actor, action, entity, record_id, detail)
              for at, eid, actor, action, entity, record_id, detail in keyset(query, AuditEvent.at, AuditEvent.id))
    streams = [events]
    synced = synced_query(filters)
    if synced is not None:
        synced = synced.select(AppliedMutation.created_at, AppliedMutation.id, AppliedMutation.user,
                               AppliedMutation.entity, AppliedMutation.record_id, AppliedMutation.status)
        streams.append((at, 1, mid, user, entity + ".sync", entity, uuid_str(record_id), status)
                       for at, mid, user, entity, record_id, status in keyset(synced, AppliedMutation.created_at,
                                                                              AppliedMutation.id))
    times = LocalTimes()

    def rows():  # both streams come in (time, id) order: merged, memory stays flat
        for at, _kind, _id, actor_id, action, entity, record_id, detail in heapq.merge(*streams):
            actor = names.get(actor_id, ("", ""))
            yield [times.iso(at), actor[0], actor[1], action, entity, record_id, detail]

    return csv_response("alongside-audit.csv", AUDIT_HEADER, rows())
