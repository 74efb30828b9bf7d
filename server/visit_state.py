"""A visit's state after issue 15, in one place for every query: voided visits leave reports and the review
queue (they stay visible, as voided), and a visit its author edited after review needs review again."""

from __future__ import annotations

from .models import Visit
from .sync.wire import changed_since_review as _changed


def counted():
    """Visits that count in reports and exports: not deleted, not voided."""
    return ~Visit.deleted & Visit.voided_at.is_null()


def needs_review():
    """Not voided, and never reviewed or edited by its author since the review."""
    return Visit.voided_at.is_null() & (Visit.reviewed_at.is_null() | (Visit.edited_at > Visit.reviewed_at))


def changed_since_review(visit: Visit) -> bool:
    return _changed(visit.edited_at, visit.reviewed_at)


def voided_words(visit: Visit) -> str:
    """What the coordinator reads for a voided visit ("" if it is not voided)."""
    if visit.voided_at is None:
        return ""
    return f"Voided by the worker: {visit.voided_reason}" if visit.voided_reason else "Voided by the worker"
