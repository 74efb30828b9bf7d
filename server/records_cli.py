"""`flask records retention`: list the closed engagements whose retention period has passed (a dry run, the
default), or erase or anonymise them (server/coordinator/records.py does the work, audited)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from .coordinator.access import today_local

records_cli = AppGroup("records", help="A person's record: retention.")


@records_cli.command("retention")
@click.option("--erase", "action", flag_value="erase", help="Erase what is due (tombstones reach every phone).")
@click.option("--anonymise", "action", flag_value="anonymise", help="Anonymise what is due (figures are kept).")
@click.option("--dry-run", is_flag=True, help="Only list what is due (the default without --erase/--anonymise).")
@click.option("--years", type=click.IntRange(1, 200), default=None, help="Override ALONGSIDE_RETENTION_YEARS.")
def retention(action, dry_run, years):
    from .coordinator.records import apply_retention, due_people
    from .db import database
    from .models import AuditEvent

    years = years or current_app.config["ALONGSIDE"].RETENTION_YEARS
    with database.connection_context():
        due = due_people(years, today_local())
        click.echo(f"{len(due)} closed engagement(s) past {years} years:")
        for person, ended in due:
            click.echo(f"  {person.uuid}  closed {ended}")
        if not action or dry_run:
            AuditEvent.record(None, "retention.dry_run", "", "", detail=f"{len(due)} due, {years} years")
            click.echo("Dry run: nothing changed." if due else "Nothing to do.")
            return
        total = sum(apply_retention(person, action) for person, _ in due)
        verb = "Erased" if action == "erase" else "Anonymised"
        click.echo(f"{verb} {len(due)} person(s), {total} record(s).")
