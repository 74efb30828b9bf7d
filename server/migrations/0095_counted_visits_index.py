"""0095: the coordinator reports' covering index on visits (0020) also holds voided_at. Reports and exports count
only visits that are neither deleted nor voided (visit_state.counted, issue 15), and voided_at was not in the
index, so every visit of a team's year was looked up in the table as well: a team's year report took about
500-650 ms on SQLite with 1,000,000 visits (189-436 ms before voiding; target 500 ms, bench/coordinator_bench.py).
The new index is the old one with voided_at added at the end: the same order, read from the index alone again.
The old one is found by its columns (its name was made by peewee and is cut differently on each engine).
Frozen here: do not import server.models."""

OLD_COLUMNS = ("person_id", "started_at", "deleted", "author_id", "attendance", "mode", "duration_minutes", "concern")
NAME = "visit_counted_by_person"
COLUMNS = (*OLD_COLUMNS, "voided_at")


def up(migrator, db):
    from peewee import PostgresqlDatabase

    db.execute_sql(f"CREATE INDEX IF NOT EXISTS {NAME} ON visit ({', '.join(COLUMNS)})")
    for index in db.get_indexes("visit"):
        if tuple(index.columns) == OLD_COLUMNS:
            db.execute_sql(f'DROP INDEX IF EXISTS "{index.name}"')
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql("ANALYZE visit")
    elif db.execute_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
        db.execute_sql(f"ANALYZE {NAME}")
