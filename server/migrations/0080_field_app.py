"""0080: the field app, complete for a working day (issue 15). A visit can be voided by its author with a reason
(a tombstone that stays visible as voided), and remembers when its author last edited it (changed since review).
A person's engagement can be closed with a reason and an ending summary; a handover note is left by a coordinator
on reassignment; missed_in_a_row caches the did-not-attend count (server/attendance.py). Frozen here: do not
import server.models."""

from peewee import SQL, CharField, DateField, DateTimeField, IntegerField, TextField

MISSED = ("3", "7")
# Database defaults too: a writer that names only the columns it knows (raw SQL, an older release still running
# during a deploy, a migration test) still inserts rows.
EMPTY = SQL("DEFAULT ''")
ATTENDED = ("5", "6")


def up(migrator, db):
    from playhouse.migrate import migrate

    migrate(
        migrator.add_column("visit", "voided_at", DateTimeField(null=True)),
        migrator.add_column("visit", "voided_reason", TextField(default="", constraints=[EMPTY])),
        migrator.add_column("visit", "edited_at", DateTimeField(null=True)),
        migrator.add_column("person", "closed_at", DateField(null=True)),
        migrator.add_column("person", "closed_reason", CharField(max_length=20, default="", constraints=[EMPTY])),
        migrator.add_column("person", "ending_summary", TextField(default="", constraints=[EMPTY])),
        migrator.add_column("person", "handover_note", TextField(default="", constraints=[EMPTY])),
        migrator.add_column("person", "missed_in_a_row", IntegerField(default=0, constraints=[SQL("DEFAULT 0")])),
    )
    # Existing people: count their missed visits now (the same rule as server/attendance.py), so a person who
    # missed the last two before this release is flagged at once.
    p = db.param
    select = f'SELECT "person_id", "attendance" FROM "visit" WHERE "deleted" = {p} ORDER BY "person_id", "started_at" DESC'  # noqa: E501, S608
    rows = db.execute_sql(select, (False,)).fetchall()
    counts: dict = {}
    done: set = set()
    for person_id, attendance in rows:
        if person_id in done:
            continue
        if attendance in MISSED:
            counts[person_id] = counts.get(person_id, 0) + 1
        elif attendance in ATTENDED:
            done.add(person_id)
    for person_id, count in counts.items():
        update = f'UPDATE "person" SET "missed_in_a_row" = {p} WHERE "id" = {p}'  # noqa: S608 - placeholders only
        db.execute_sql(update, (count, person_id))
