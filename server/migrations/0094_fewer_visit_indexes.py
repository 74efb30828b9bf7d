"""0094: five indexes that only repeated the start of another are dropped (issue 11). Every new visit, goal
rating and pushed mutation updated each of them; every query that read one reads the longer index with the
same leading columns as well (a person's visits, an author's visits, a goal's ratings, a user's mutations,
and the foreign-key checks when a person, user or goal is deleted).
- visit (person_id): (person_id, rev), (person_id, started_at, ...) begin with it;
- visit (person_id, started_at): the coordinator reports' (person_id, started_at, deleted, author_id, ...)
  begins with it;
- visit (author_id): (author_id, started_at);
- goal_progress (goal_id): (goal_id, rev), (goal_id, created_at, rating, deleted);
- applied_mutation (user_id): (user_id, created_at).
Measured with bench/sync_bench.py's day of pushes (bench/README.md). Frozen here: do not import server.models."""

DROPPED = (
    ("visit_person_id", "visit", "person_id"),
    ("visit_person_id_started_at", "visit", "person_id, started_at"),
    ("visit_author_id", "visit", "author_id"),
    ("goal_progress_goal_id", "goal_progress", "goal_id"),
    ("applied_mutation_user_id", "applied_mutation", "user_id"),
)


def up(migrator, db):
    for name, _table, _columns in DROPPED:
        db.execute_sql(f"DROP INDEX IF EXISTS {name}")
