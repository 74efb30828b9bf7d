"""0020: indexes for the coordinator workspace.
- visit (reviewed_at, started_at): "not yet reviewed", newest first, and the unreviewed count.
- visit (person_id, started_at, deleted, author_id, attendance, mode, duration_minutes, concern): a covering
  index, so a team report reads a year of its people's visits from the index alone (no table lookups).
- audit_event (team_id, at): a team's audit trail, newest first.
Frozen here: do not import server.models."""

INDEXES = (
    ("visit", ("reviewed_at", "started_at")),
    ("visit", ("person_id", "started_at", "deleted", "author_id", "attendance", "mode", "duration_minutes",
               "concern")),
    ("audit_event", ("team_id", "at")),
)


def up(migrator, db):
    from playhouse.migrate import migrate

    migrate(*(migrator.add_index(table, columns, False) for table, columns in INDEXES))
