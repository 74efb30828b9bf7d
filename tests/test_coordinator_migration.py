"""Migrations 0020 and 0021 (coordinator indexes) applied on both engines: the indexes exist with their columns."""

from __future__ import annotations

from server import db as dbmod


def test_0020_indexes_exist(app):
    assert "0020_coordinator_indexes" not in dbmod.pending_migrations()
    with dbmod.database.connection_context():
        found = {(table, tuple(index.columns)) for table in ("visit", "audit_event", "goal_progress")
                 for index in dbmod.database.get_indexes(table)}
    assert ("visit", ("reviewed_at", "started_at")) in found
    # 0020's covering index for reports, with voided_at added by 0095 (reports count visits not voided)
    assert ("visit", ("person_id", "started_at", "deleted", "author_id", "attendance", "mode", "duration_minutes",
                      "concern", "voided_at")) in found
    assert ("visit", ("person_id", "started_at", "deleted", "author_id", "attendance", "mode", "duration_minutes",
                      "concern")) not in found  # 0020's own, replaced by 0095's
    assert ("audit_event", ("team_id", "at")) in found
    assert ("goal_progress", ("goal_id", "created_at", "rating", "deleted")) in found  # 0021
