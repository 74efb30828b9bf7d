"""Moved to server.reminders (see server/reminders/__init__.py). This module re-exports the names the sync
engine and older imports use, until they import from server.reminders.schedule directly."""

from .reminders.schedule import (  # noqa: F401
    DONE_STATUSES,
    GOAL_KIND,
    OPEN_STATUSES,
    VISIT_KINDS,
    apply_quiet_hours,
    cancel_pending,
    configure,
    local_at,
    next_visit,
    plan_visit_reminders,
    refresh_person,
    to_local,
    to_utc,
    update_settings,
    visit_body,
    visits_changed,
    zone,
)

__all__ = [
    "DONE_STATUSES", "GOAL_KIND", "OPEN_STATUSES", "VISIT_KINDS", "apply_quiet_hours", "cancel_pending",
    "configure", "local_at", "next_visit", "plan_visit_reminders", "refresh_person", "to_local", "to_utc",
    "update_settings", "visit_body", "visits_changed", "zone",
]
