"""0075: a worker's work phone number (lone working follow-up, issue 14)."""

from peewee import SQL, CharField

# A default in the database too: an app server still on the previous release (or an older migration's test)
# inserts rows without the new column.
EMPTY = [SQL("DEFAULT ''")]


def up(migrator, db):
    from playhouse.migrate import migrate

    migrate(migrator.add_column("user", "work_phone", CharField(max_length=30, default="", constraints=EMPTY)))
