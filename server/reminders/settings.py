"""Reminder timings: built-in defaults <- the organisation's row <- the person's row <- the person's own
quiet hours. Reading only; saving (which moves pending reminders) is schedule.update_settings."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

from ..models import Person, ReminderSetting


@dataclass(frozen=True)
class Settings:
    evening_before: bool = True
    evening_time: str = "18:00"
    hours_before: int = 2  # 0 = no "soon" reminder
    quiet_hours_start: str = "21:00"
    quiet_hours_end: str = "08:00"


DEFAULTS = Settings()
FIELDS = tuple(Settings.__dataclass_fields__)
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def valid_hhmm(value: str | None) -> bool:
    return isinstance(value, str) and bool(_HHMM.match(value))


def parse_hhmm(value: str) -> dt.time:
    hours, minutes = value.split(":")
    return dt.time(int(hours), int(minutes))


def _overlay(base: Settings, row) -> Settings:
    if row is None:
        return base
    changes = {name: getattr(row, name) for name in FIELDS if getattr(row, name, None) is not None}
    return replace(base, **changes)


def organisation_row():
    return ReminderSetting.select().where(ReminderSetting.person.is_null()).order_by(ReminderSetting.id).first()


def organisation_settings() -> Settings:
    return _overlay(DEFAULTS, organisation_row())


def settings_for(person: Person) -> Settings:
    settings = _overlay(organisation_settings(), ReminderSetting.get_or_none(ReminderSetting.person == person.id))
    if person.quiet_hours_start and person.quiet_hours_end:
        settings = replace(settings, quiet_hours_start=person.quiet_hours_start,
                           quiet_hours_end=person.quiet_hours_end)
    return settings


def as_dict(settings: Settings) -> dict:
    return {name: getattr(settings, name) for name in FIELDS}
