"""0075: a worker's work phone number (lone working follow-up, issue 14)."""

from peewee import CharField


def up(migrator, db):
    from playhouse.migrate import migrate

    migrate(migrator.add_column("user", "work_phone", CharField(max_length=30, default="")))
