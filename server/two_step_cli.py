"""flask two-step ...: reset a user's two-step sign-in (an admin who lost their phone and recovery codes), and,
in development only, print the code a demo account's authenticator would show."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from . import totp
from .db import database, write_transaction
from .models import AuditEvent, User

group = AppGroup("two-step", help="Two-step sign-in: reset a user's, or print a demo account's current code.")


def _user(email: str) -> User:
    from .auth import normalise_email

    user = User.get_or_none(User.email == normalise_email(email))
    if user is None:
        raise click.ClickException(f"No user with the email {email}.")
    return user


@group.command("reset")
@click.argument("email")
def reset(email):
    """Remove EMAIL's authenticator and recovery codes and end their sessions; they set up a new one when they
    next sign in (coordinators and admins must)."""
    from .auth import revoke_all_sessions

    with database.connection_context():
        user = _user(email)
        with write_transaction():
            totp.turn_off(user)
            ended = revoke_all_sessions(user)
            AuditEvent.record(None, "user.two_step_reset", "user", user.uuid, team=user.team_id, detail="command line")
    click.echo(f"Two-step sign-in reset for {user.email}; {ended} session(s) ended.")


@group.command("code")
@click.argument("email")
def code(email):
    """Print EMAIL's current code (development only: refused in production)."""
    if current_app.config["ALONGSIDE"].is_production:
        raise click.ClickException("Refused in production: a code comes from the person's own phone.")
    with database.connection_context():
        current = totp.current_code(_user(email))
    if current is None:
        raise click.ClickException(f"{email} has no two-step sign-in set up.")
    click.echo(current)


def demo_way_through(emails: list[str]) -> None:
    """`flask demo`: give the demo coordinator and admin an authenticator key (once) and print how to get past
    the second step without a phone."""
    if not current_app.config["ALONGSIDE"].TOTP_REQUIRED:
        click.echo("Two-step sign-in is off (ALONGSIDE_TOTP_REQUIRED=false).")
        return
    click.echo("Coordinators and admins then need a 6-digit code (two-step sign-in). Either print it:")
    with database.connection_context():
        for email in emails:
            user = User.get_or_none(User.email == email)
            if user is None:
                continue
            if not user.has_two_step:
                with write_transaction():
                    totp.enable_now(user)
                user = User.get_by_id(user.id)
            click.echo(f"  flask --app wsgi two-step code {email}")
        click.echo("or add a key to an authenticator app on your phone:")
        for email in emails:
            user = User.get_or_none(User.email == email)
            if user is not None and user.has_two_step:
                click.echo(f"  {email:<36} {totp.grouped(totp.unseal(user, user.totp_secret) or '?')}")
    click.echo("(ALONGSIDE_TOTP_REQUIRED=false turns the second step off in development.)")


def init_app(app) -> None:
    app.cli.add_command(group)
