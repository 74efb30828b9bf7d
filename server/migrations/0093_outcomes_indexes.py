"""0093: indexes for the outcomes report and the coordinator navigation (issue 16, bench/outcomes_bench.py).
- visit (person_id, started_at, id, wellbeing) holding only scored, kept visits: a person's first and latest
  wellbeing score in a period are each one seek, read from the index alone.
- goal_progress (goal_id, created_at, id, rating) holding only kept ratings: the same for a goal's ratings.
- visit (person_id) holding only open concerns: the navigation's count of open concerns on every coordinator page
  reads the team's few open concerns, not every visit of the team (it took 8-15 s on SQLite with a team's
  1,000,000 visits, whatever the page). The count names the concerns literally (concerns.py), as a partial
  index needs.
Partial indexes (WHERE), the same SQL on SQLite and PostgreSQL; not in models.py's Meta (peewee's tuples cannot
say WHERE), so tests/test_outcomes.py checks them. When the database has planner statistics they are refreshed
for the new indexes (SQLite: ANALYZE of each; PostgreSQL: of each table). Frozen here: do not import
server.models."""

INDEXES = (
    ("visit_person_wellbeing", "visit", "person_id, started_at, id, wellbeing",
     "wellbeing IS NOT NULL AND NOT deleted"),
    ("goal_progress_goal_rating", "goal_progress", "goal_id, created_at, id, rating", "NOT deleted"),
    ("visit_open_concern", "visit", "person_id", "concern IN ('low', 'high') AND concern_ack_at IS NULL"),
)


def up(migrator, db):
    from peewee import PostgresqlDatabase

    postgres = isinstance(db, PostgresqlDatabase)
    for name, table, columns, where in INDEXES:
        db.execute_sql(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns}) WHERE {where}")
    if postgres:
        for table in sorted({table for _n, table, _c, _w in INDEXES}):
            db.execute_sql(f"ANALYZE {table}")
    elif db.execute_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
        for name, *_ in INDEXES:
            db.execute_sql(f"ANALYZE {name}")
