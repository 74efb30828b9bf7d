"""0091: outcomes. Goals carry optional CHIME tags (a JSON list, empty for every existing goal); each goal
rating says who rated (person | together; empty for ratings given before this). Frozen here: do not import
server.models."""

from peewee import CharField, TextField


def up(migrator, db):
    from playhouse.migrate import migrate

    migrate(
        migrator.add_column("goal", "chime_tags", TextField(default="[]")),
        migrator.add_column("goal_progress", "rated_by", CharField(max_length=10, default="")),
    )
