"""0096: an index of the visits that need review (not voided; never reviewed, or edited by the author after the
review; visit_state.needs_review, issue 15), by person. The coordinator's start page counts them for the team on
every visit to it: since the edited-after-review condition joined it (an OR that no index could serve), that
count read every visit the team ever had, with a table lookup each (about 280 ms with 1,000,000 visits on SQLite;
54 ms before). Only visits waiting for review are in it (a fortnight's, say), so it stays small: a new visit
enters it and leaves at its review. Partial (WHERE), the same SQL on SQLite and PostgreSQL, written as
needs_review() writes its condition, term for term, so the planners can match it; not in models.py's Meta
(peewee's tuples cannot say WHERE), tests/test_outcomes_fast.py checks the start page reads it. Frozen here: do not
import server.models."""

NAME = "visit_needs_review"
WHERE = "voided_at IS NULL AND (reviewed_at IS NULL OR edited_at > reviewed_at)"


def up(migrator, db):
    from peewee import PostgresqlDatabase

    db.execute_sql(f"CREATE INDEX IF NOT EXISTS {NAME} ON visit (person_id) WHERE {WHERE}")
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql("ANALYZE visit")
    elif db.execute_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
        db.execute_sql(f"ANALYZE {NAME}")
