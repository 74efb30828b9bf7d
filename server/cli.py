"""flask commands: users (create, deactivate, list), db (upgrade, status), demo.
Bad input ends with a clear message and a non-zero exit, never a traceback."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from peewee import JOIN, IntegrityError

from . import db as dbmod
from .auth import deactivate_user, normalise_email
from .db import database, write_transaction
from .models import ROLES, AuditEvent, Team, User
from .passwords import hash_password, password_problem

users_cli = AppGroup("users", help="Manage user accounts.")
db_cli = AppGroup("db", help="Database migrations.")


def _fail(message: str) -> None:
    raise click.ClickException(message)


def _read_password(email: str, from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password, email)
    if problem:
        _fail(f"Password not accepted: {problem}")
    return password


@users_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="The name colleagues know them by.")
@click.option("--role", required=True, type=click.Choice(ROLES), help="peer_worker, coordinator or admin.")
@click.option("--team", "team_name", default=None, help="Team name; created if it does not exist.")
@click.option("--password-stdin", is_flag=True, help="Read the password from one line of standard input.")
def create_user(email, name, role, team_name, password_stdin):
    """Create a user (asks for the password twice)."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254 or " " in email:
        _fail(f"Not a valid email address: {email!r}")
    name = name.strip()
    if not name or len(name) > 120:
        _fail("--name must be between 1 and 120 characters.")
    if role != "admin" and not team_name:
        _fail("--team is required for peer workers and coordinators.")
    with database.connection_context():
        if User.get_or_none(User.email == email):
            _fail(f"A user with the email {email} already exists.")
        password = _read_password(email, password_stdin)
        try:
            with write_transaction():
                team = None
                if team_name:
                    team, _ = Team.get_or_create(name=team_name.strip()[:120])
                user = User.create(email=email, name=name, role=role, team=team,
                                   password_hash=hash_password(password))
                AuditEvent.record(None, "user.create", "user", user.uuid, team=team, detail="cli")
        except IntegrityError:
            _fail(f"A user with the email {email} already exists.")
    click.echo(f"Created {role} {email}" + (f" in team {team.name}" if team else ""))


@users_cli.command("deactivate")
@click.argument("email")
def deactivate(email):
    """Deactivate a user: end all their sessions and revoke their devices at once."""
    email = normalise_email(email)
    with database.connection_context():
        user = User.get_or_none(User.email == email)
        if user is None:
            _fail(f"No user with the email {email}.")
        with write_transaction():
            ended, revoked = deactivate_user(user)
            AuditEvent.record(None, "user.deactivate", "user", user.uuid, team=user.team,
                              detail=f"cli; sessions {ended}, devices {revoked}")
    click.echo(f"Deactivated {email}; ended {ended} session(s); revoked {revoked} device(s).")


@users_cli.command("list")
def list_users():
    """List users: email, role, team, active."""
    with database.connection_context():
        query = (User.select(User, Team).join(Team, JOIN.LEFT_OUTER).order_by(User.email))
        for user in query:
            team = user.team.name if user.team_id else "-"
            state = "active" if user.active else "deactivated"
            click.echo(f"{user.email}\t{user.role}\t{team}\t{state}")


@db_cli.command("upgrade")
def db_upgrade():
    """Apply pending migrations (safe to re-run)."""
    ran = dbmod.upgrade()
    click.echo("Applied: " + ", ".join(ran) if ran else "Already up to date.")


@db_cli.command("status")
def db_status():
    """Show applied and pending migrations."""
    with database.connection_context():
        done = dbmod.applied_migrations()
        for name in dbmod.migration_names():
            click.echo(f"{'applied' if name in done else 'pending'}\t{name}")
        pending = dbmod.pending_migrations()
    click.echo(f"{len(pending)} pending." if pending else "Up to date.")


@click.command("demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Seed only when the database has no users (first start).")
def demo(if_empty):
    """Create the demo organisation (idempotent) and print the demo sign-ins."""
    from .demo import demo_logins, seed_demo

    if current_app.config["ALONGSIDE"].is_production:
        _fail("The demo has well-known passwords and is refused in production.")
    with database.connection_context():
        if if_empty and User.select().exists():
            created = False
            if not User.select().where(User.email == demo_logins()[0][0]).exists():
                click.echo("Users already exist; demo not seeded.")
                return
        else:
            created = seed_demo()
    click.echo("Demo organisation created." if created else "Demo organisation already present.")
    click.echo("Demo sign-ins (field app at /app/, coordinator pages at /coordinator/):")
    for email, password, role in demo_logins():
        click.echo(f"  {role:<12} {email:<36} {password}")
    from .two_step_cli import demo_way_through

    demo_way_through([email for email, _password, role in demo_logins() if role != "peer_worker"])


def init_app(app) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(db_cli)
    app.cli.add_command(demo)
    from .records_cli import records_cli  # issue 16

    app.cli.add_command(records_cli)
