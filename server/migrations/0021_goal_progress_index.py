"""0021: goal_progress (goal_id, created_at, rating, deleted), a covering index so the report's "average
progress change" reads each goal's ratings in the period from the index alone, already in time order.
Frozen here: do not import server.models."""


def up(migrator, db):
    from playhouse.migrate import migrate

    migrate(migrator.add_index("goal_progress", ("goal_id", "created_at", "rating", "deleted"), False))
