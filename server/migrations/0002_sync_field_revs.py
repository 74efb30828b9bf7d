"""0002: sync engine. Per-field change revs on the records that can conflict (person, goal, referral),
a resolution on each conflict, and the (parent, rev) indexes the scoped pull reads by.
Frozen here: do not import server.models."""

from peewee import CharField, TextField

FIELD_REV_TABLES = ("person", "goal", "referral")

INDEXES = (
    ("visit", ("person_id", "rev")),
    ("goal", ("person_id", "rev")),
    ("referral", ("person_id", "rev")),
    ("goal_progress", ("goal_id", "rev")),
    ("review", ("visit_id", "rev")),
    ("conflict", ("person_id", "rev")),
)


def up(migrator, db):
    from playhouse.migrate import migrate

    operations = [migrator.add_column(table, "field_revs", TextField(default="{}")) for table in FIELD_REV_TABLES]
    operations.append(migrator.add_column("conflict", "resolution", CharField(max_length=10, default="")))
    operations.extend(migrator.add_index(table, columns, False) for table, columns in INDEXES)
    migrate(*operations)
