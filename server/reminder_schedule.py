"""Scheduling rules for reminders to people supported (no Flask, no pywebpush here).
sync.apply() calls visit_changed() inside its write transaction whenever a visit is created,
changed or deleted; this module creates, moves or cancels that visit's reminders."""

from __future__ import annotations


def visit_changed(visit) -> None:
    """Placeholder until the reminders issue: reminders follow the visit's next_visit_at."""
    return None
