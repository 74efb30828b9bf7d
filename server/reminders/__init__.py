"""Reminders for people supported, in one package:
  settings.py  timings: defaults <- organisation <- person          schedule.py  rules, quiet hours, clock changes,
  goals.py     goal-step reminders from safe templates                            visits_changed() for the sync engine
  consent.py   invites, consent per channel, stop                     messages.py  the fixed wording (notify templates)
  status.py    what workers, coordinators and the person see          dispatch.py  due reminders -> the notify outbox
  commands.py  flask notify|reminders send|run
Views stay thin beside it: server/person_pages.py (/r/), server/api/invites.py, the coordinator pages.
Sending is the channel layer's job (server/notify/)."""

from __future__ import annotations


def init_app(app) -> None:
    """Called from create_app: the message templates, the commands."""
    from . import commands, messages  # noqa: F401 - messages registers its templates

    commands.init_app(app)
