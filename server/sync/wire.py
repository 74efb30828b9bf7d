"""The wire form of every synced record: what a pull sends as a change's `fields`, and what a pushed value
looks like when it is kept (conflicts). Serialisers take a model's __data__ (Python values) or a raw database
row: a pull reads rows without peewee's per-value conversion (on SQLite a UUID is 32 hex digits and a time is
text), which is most of a big pull's time otherwise."""

from __future__ import annotations

import datetime as dt
import json
import uuid as uuidlib


def uuid_str(value) -> str | None:
    if value is None:
        return None
    if type(value) is str:
        if len(value) == 32:
            return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
        return value if len(value) == 36 else str(uuidlib.UUID(value))
    return str(value)


def iso_dt(value) -> str | None:
    if value is None:
        return None
    if type(value) is str:  # SQLite, and PostgreSQL's text: "2026-11-20 10:00:00[.ffffff]", naive UTC
        dot = value.find(".", 19)
        if dot != -1 and len(value) != dot + 7:  # PostgreSQL drops a fraction's trailing zeros: same text always
            value = value[:dot + 1] + value[dot + 1:].ljust(6, "0")
        return value.replace(" ", "T", 1) + "+00:00"
    return value.isoformat() + "+00:00"


def iso_date(value) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else value.isoformat()


def jsonable(value):
    if isinstance(value, dt.datetime):
        return iso_dt(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuidlib.UUID):
        return str(value)
    return value


def person_fields(r: dict) -> dict:
    return {
        "display_name": r["display_name"],
        "preferred_contact": r["preferred_contact"],
        "engagement_start": iso_date(r["engagement_start"]),
        "planned_end": iso_date(r["planned_end"]),
        "status": r["status"],
        "reminders_opt_in": bool(r["reminders_opt_in"]),
        "added_in_field": bool(r["added_in_field"]),
        "confirmed": r["confirmed_at"] is not None,
        "closed_at": iso_date(r["closed_at"]),
        "closed_reason": r["closed_reason"],
        "ending_summary": r["ending_summary"],
        "handover_note": r["handover_note"],
        "missed_in_a_row": r["missed_in_a_row"],
    }


def visit_fields(r: dict) -> dict:
    return {
        "person_id": uuid_str(r["p_uuid"]),
        "author_id": uuid_str(r["a_uuid"]),
        "started_at": iso_dt(r["started_at"]),
        "duration_minutes": r["duration_minutes"],
        "mode": r["mode"],
        "location_type": r["location_type"],
        "attendance": r["attendance"],
        "group_session": bool(r["group_session"]),
        "notes": r["notes"],
        "goal_ids": [] if r["goal_ids"] in (None, "", "[]") else json.loads(r["goal_ids"]),
        "wellbeing": r["wellbeing"],
        "concern": r["concern"],
        "concern_notes": r["concern_notes"],
        "next_visit_at": iso_dt(r["next_visit_at"]),
        "reviewed": r["reviewed_at"] is not None,
        "concern_acknowledged": r["concern_ack_at"] is not None,
        # issue 14: the coordinator's action note and outcome reach the worker (read-only on the phone)
        "concern_ack_at": iso_dt(r.get("concern_ack_at")),
        "concern_ack_note": r.get("concern_ack_note") or "",
        "concern_outcome": r.get("concern_outcome") or "",
        "voided_reason": r["voided_reason"],
        "voided_at": iso_dt(r["voided_at"]),
        "changed_since_review": changed_since_review(r["edited_at"], r["reviewed_at"]),
    }


def changed_since_review(edited_at, reviewed_at) -> bool:
    """The author edited a visit after it was reviewed (issue 15). Raw SQLite rows hold both as text of one
    format, which compares as the times do."""
    if edited_at is None or reviewed_at is None:
        return False
    if type(edited_at) is not type(reviewed_at):
        edited_at, reviewed_at = str(edited_at), str(reviewed_at)
    return edited_at > reviewed_at


def goal_fields(r: dict) -> dict:
    return {
        "person_id": uuid_str(r["p_uuid"]),
        "title": r["title"],
        "life_area": r["life_area"],
        "steps": r["steps"],
        "status": r["status"],
        "target_date": iso_date(r["target_date"]),
        "achieved_at": iso_dt(r["achieved_at"]),
        "chime_tags": json.loads(r.get("chime_tags") or "[]"),
    }


def goal_progress_fields(r: dict) -> dict:
    return {
        "goal_id": uuid_str(r["g_uuid"]),
        "person_id": uuid_str(r["p_uuid"]),
        "visit_id": uuid_str(r["v_uuid"]),
        "author_id": uuid_str(r["a_uuid"]),
        "rating": r["rating"],
        "note": r["note"],
        "rated_by": r.get("rated_by") or None,
        "created_at": iso_dt(r["created_at"]),  # when it was given: a rating outside a visit has no other time
    }


def referral_fields(r: dict) -> dict:
    return {
        "person_id": uuid_str(r["p_uuid"]),
        "resource_id": uuid_str(r["res_uuid"]),
        "status": r["status"],
        "notes": r["notes"],
        "follow_up_at": iso_dt(r["follow_up_at"]),
    }


def resource_fields(r: dict) -> dict:
    return {name: r[name] for name in ("name", "category", "description", "address", "phone", "website",
                                       "opening_hours", "area")} | {"archived": bool(r["archived"])}


def review_fields(r: dict) -> dict:
    return {
        "visit_id": uuid_str(r["v_uuid"]),
        "person_id": uuid_str(r["p_uuid"]),
        "reviewer_name": r["reviewer_name"],
        "comment": r["comment"],
        "created_at": iso_dt(r["created_at"]),
    }


def conflict_fields(r: dict) -> dict:
    return {
        "person_id": uuid_str(r["p_uuid"]),
        "target_entity": r["entity"],
        "target_id": uuid_str(r["record_id"]),
        "field": r["field"],
        "kept_value": json.loads(r["kept_value"]) if r["kept_value"] is not None else None,
        "lost_value": json.loads(r["lost_value"]) if r["lost_value"] is not None else None,
        "lost_by": r["lost_by_name"],
        "won_by": r["won_by_name"],
        "created_at": iso_dt(r["created_at"]),
        "resolution": r["resolution"] or None,
    }


def supervision_fields(r: dict) -> dict:
    """A supervision session, on its worker's phone only (read-only; issue 16)."""
    return {"held_on": iso_date(r["held_on"]), "kind": r["kind"], "topics": r["topics"], "actions": r["actions"],
            "wellbeing": r["wellbeing"], "recorded_by": r["recorder_name"]}


def check_in_fields(r: dict) -> dict:
    """A lone-working check-in, on its worker's phone (issue 14). The place is gone once it is closed."""
    return {"person_id": uuid_str(r["p_uuid"]), "visit_id": uuid_str(r["v_uuid"]),
            "started_at": iso_dt(r["started_at"]), "expected_end_at": iso_dt(r["expected_end_at"]),
            "place": r["place"], "checked_out_at": iso_dt(r["checked_out_at"]), "status": r["status"]}


SERIALISERS = {
    "person": person_fields, "visit": visit_fields, "goal": goal_fields, "goal_progress": goal_progress_fields,
    "referral": referral_fields, "resource": resource_fields, "review": review_fields, "conflict": conflict_fields,
    "supervision": supervision_fields,
}
SERIALISERS["check_in"] = check_in_fields


def change(entity: str, row: dict, rev: int) -> dict:
    """One pulled change: the whole record, or a tombstone with no fields."""
    deleted = bool(row["deleted"])
    return {"entity": entity, "record_id": uuid_str(row["uuid"]), "rev": rev, "deleted": deleted,
            "fields": {} if deleted else SERIALISERS[entity](row)}
