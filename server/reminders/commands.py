"""flask notify send (one pass, for a timer every minute) and notify run (a loop); `flask reminders send`
and `reminders run` are the same commands under their older names, so existing timers keep working.
A pass releases due reminders into the outbox and sends everything due there (staff alerts too)."""

from __future__ import annotations

import logging
import signal
import time
from dataclasses import replace

import click
from flask.cli import AppGroup

from .. import notify
from ..db import database
from .dispatch import run_pass

log = logging.getLogger("alongside.notify")
notify_cli = AppGroup("notify", help="Send due reminders and staff alerts (one channel layer).")
reminders_cli = AppGroup("reminders", help="Send due reminders (the same as `notify`).")
WORKERS = click.option("--workers", type=click.IntRange(1, 64), default=None, help="Concurrent sends (default 8).")


def _dispatcher(workers):
    settings = notify.current()
    if workers:
        settings = replace(settings, limits=replace(settings.limits, workers=workers))
    return notify.Dispatcher(settings)


def _summary(result: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in result.items())


@WORKERS
def send(workers):
    """One pass: send everything that is due now, then exit."""
    with _dispatcher(workers) as dispatcher:
        click.echo(_summary(run_pass(dispatcher)))


@click.option("--interval", default=30, show_default=True, type=click.IntRange(1, 3600),
              help="Seconds between passes.")
@click.option("--passes", default=0, type=click.IntRange(0), help="Stop after this many passes (0 = until stopped).")
@WORKERS
def run(interval, passes, workers):
    """Loop: a pass every --interval seconds until stopped (SIGTERM or Ctrl-C finish the current pass)."""
    stopping = {"now": False}

    def _stop(signum, frame):
        stopping["now"] = True

    try:
        previous = signal.signal(signal.SIGTERM, _stop)
    except ValueError:  # not the main thread (e.g. under a test runner): Ctrl-C still works
        previous = None
    done = 0
    try:
        with _dispatcher(workers) as dispatcher:
            while not stopping["now"]:
                try:
                    result = run_pass(dispatcher)
                except Exception as exc:  # noqa: BLE001 - e.g. the database restarting: try again next pass
                    log.error("notify pass failed: %s", type(exc).__name__)
                    if not database.is_closed():
                        database.close()
                else:
                    if result["claimed"] or result["reminders_queued"]:
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


for group in (notify_cli, reminders_cli):
    group.command("send")(send)
    group.command("run")(run)


def init_app(app) -> None:
    app.cli.add_command(notify_cli)
    app.cli.add_command(reminders_cli)
