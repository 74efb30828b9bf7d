"""A staff member's work phone number: the one rule of its shape (UK or international), used by the
coordinator's users page and the field app's settings. Shown to the worker's coordinators for lone-working
follow-up and to the worker as their coordinators' numbers (GET /api/v1/me/contacts)."""

from __future__ import annotations

import re

MAX_LENGTH = 30
_ALLOWED = re.compile(r"^\+?[0-9 ()\-]+$")


class PhoneError(ValueError):
    """A number that is not a phone number's shape; the message says what to fix."""


def clean_work_phone(raw) -> str:
    """'' (none) or the number as typed, trimmed: a UK number (0 then 9-10 digits) or an international one
    (+ then 7-15 digits), with spaces, brackets or dashes between. Anything else raises PhoneError."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise PhoneError("Work phone: type the number as text, for example 07700 900123.")
    value = " ".join(raw.split())
    if not value:
        return ""
    if len(value) > MAX_LENGTH:
        raise PhoneError(f"Work phone: at most {MAX_LENGTH} characters.")
    if not _ALLOWED.match(value):
        raise PhoneError("Work phone: use digits, spaces and a leading + only, for example 07700 900123.")
    digits = re.sub(r"\D", "", value)
    if value.startswith("+"):
        if not 7 <= len(digits) <= 15 or digits.startswith("0"):
            raise PhoneError("Work phone: an international number is + then 7 to 15 digits, e.g. +44 7700 900123.")
    elif not (digits.startswith("0") and 10 <= len(digits) <= 11):
        raise PhoneError("Work phone: a UK number starts with 0 and has 10 or 11 digits, e.g. 07700 900123.")
    return value


def dial_string(value: str) -> str:
    """The number for a tel: link (digits and a leading +)."""
    return ("+" if value.startswith("+") else "") + re.sub(r"\D", "", value)
