"""How long an alert waits for acknowledgement before it escalates, per kind (from config, read in create_app)."""

from __future__ import annotations

import datetime as dt

_minutes = {"concern": 120, "concern_rejected": 120, "lone_overdue": 15, "help": 15}


def configure(cfg) -> None:
    concern = int(getattr(cfg, "ALERT_ESCALATE_AFTER_MINUTES", 120))
    lone = int(getattr(cfg, "LONE_ESCALATE_AFTER_MINUTES", 15))
    if concern < 1 or lone < 1:
        raise ValueError("alert escalation delays must be at least one minute")
    _minutes.update(concern=concern, concern_rejected=concern, lone_overdue=lone, help=lone)


def escalate_after(kind: str) -> dt.timedelta:
    return dt.timedelta(minutes=_minutes[kind])
