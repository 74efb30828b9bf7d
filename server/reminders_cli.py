"""flask reminders send (one pass, for a timer every minute) and reminders run (a loop).
Registered from cli.init_app; also tells the scheduling rules the organisation's time zone."""

from __future__ import annotations

import logging
import signal
import time

import click
from flask import current_app
from flask.cli import AppGroup

log = logging.getLogger("alongside.reminders")
reminders = AppGroup("reminders", help="Send due reminders to people supported.")


def init_app(app) -> None:
    from . import reminder_schedule

    reminder_schedule.configure(app.config["ALONGSIDE"].TIMEZONE)
    app.cli.add_command(reminders)


def _summary(result) -> str:
    d = result.as_dict()
    return ", ".join(f"{k} {v}" for k, v in d.items())


@reminders.command("send")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Concurrent pushes (default 8).")
def send(workers):
    """One pass: send every reminder that is due now, then exit."""
    from .reminders import send_due_reminders

    overrides = {"workers": workers} if workers else {}
    result = send_due_reminders(current_app._get_current_object(), **overrides)
    click.echo(_summary(result))


@reminders.command("run")
@click.option("--interval", default=30, show_default=True, type=click.IntRange(1, 3600),
              help="Seconds between passes.")
@click.option("--passes", default=0, type=click.IntRange(0),
              help="Stop after this many passes (0 = run until stopped).")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Concurrent pushes (default 8).")
def run(interval, passes, workers):
    """Loop: a pass every --interval seconds until stopped (SIGTERM or Ctrl-C finish the current pass)."""
    from .reminders import Dispatcher

    stopping = {"now": False}

    def _stop(signum, frame):
        stopping["now"] = True

    try:
        previous = signal.signal(signal.SIGTERM, _stop)
    except ValueError:  # not the main thread (e.g. under a test runner): Ctrl-C still works
        previous = None
    done = 0
    try:
        overrides = {"workers": workers} if workers else {}
        with Dispatcher.from_app(current_app._get_current_object(), **overrides) as dispatcher:
            while not stopping["now"]:
                try:
                    result = dispatcher.send_due()
                except Exception as exc:  # noqa: BLE001 - e.g. the database restarting: try again next pass
                    log.error("reminders pass failed: %s", type(exc).__name__)
                    from .db import database

                    if not database.is_closed():
                        database.close()
                else:
                    if result.claimed:
                        click.echo(_summary(result))
                done += 1
                if passes and done >= passes:
                    break
                deadline = time.monotonic() + interval
                while not stopping["now"] and time.monotonic() < deadline:
                    time.sleep(min(1.0, interval))
    except KeyboardInterrupt:
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    click.echo(f"Stopped after {done} pass(es).")
