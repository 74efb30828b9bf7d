"""Safety (issue 14): staff alerts (alerts.py), the checks each dispatcher pass runs (passes.py), escalation
delays (settings.py) and the alerts' fixed words (messages.py). The coordinator pages are in
server/coordinator/alerts.py."""

from __future__ import annotations

from . import (
    messages,  # noqa: F401 - registers the alert templates
    settings,
)


def init_app(app) -> None:
    settings.configure(app.config["ALONGSIDE"])
