"""Sign-in throttling: one atomic count per account, per address and per second factor, kept in the database, so
every way to sign in (the app's API, the /login form, re-authentication on the account page) and every app
server shares it.

An attempt takes a slot *before* its password or code is checked (`reserve`) and a successful one gives the slot
back (`refund`). However many attempts arrive at once, at most `limit` are ever checked in a window; the next
ones get `Throttled` at once, with the seconds until the window ends (the right password waits too)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
from dataclasses import dataclass

from flask import current_app

from .db import is_postgres, utcnow, write_transaction
from .models import SignInThrottle

LOGIN_WINDOW_SECONDS = 60
SECOND_FACTOR_LIMIT = 10  # wrong codes per account and hour: 3 of a million codes are valid at once
SECOND_FACTOR_WINDOW_SECONDS = 3600
FORGET_AFTER = dt.timedelta(days=1)


@dataclass(frozen=True)
class Rule:
    key: str
    limit: int
    window_seconds: int


class Throttled(Exception):
    """Too many failures: `retry_after` seconds until this window ends."""

    def __init__(self, retry_after: int):
        self.retry_after = max(1, int(retry_after))
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return f"Too many failed attempts to sign in. Please wait {wait_words(self.retry_after)} and try again."


def wait_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _key(kind: str, value: str) -> str:
    secret = current_app.secret_key.encode() if isinstance(current_app.secret_key, str) else current_app.secret_key
    return hmac.new(secret, f"{kind}:{value}".encode("utf-8", "replace"), hashlib.sha256).hexdigest()


def _per_minute() -> int:
    return current_app.config["ALONGSIDE"].LOGIN_FAILURES_PER_MINUTE


def password_rules(email: str, address: str | None) -> list[Rule]:
    """An email-and-password attempt: counted for the account (known or not) and for the address."""
    return [Rule(_key("account", email), _per_minute(), LOGIN_WINDOW_SECONDS),
            Rule(_key("address", address or "unknown"), _per_minute(), LOGIN_WINDOW_SECONDS)]


def second_factor_rules(user, address: str | None) -> list[Rule]:
    """A code attempt: the account's and the address's minute counts, and the account's hourly code count."""
    return password_rules(user.email, address) + [
        Rule(_key("second-factor", str(user.uuid)), SECOND_FACTOR_LIMIT, SECOND_FACTOR_WINDOW_SECONDS)]


def reserve(rules: list[Rule]) -> list[Rule]:
    """Take one slot under every rule, atomically, or raise Throttled (taking none)."""
    now = utcnow()
    rules = sorted(rules, key=lambda r: r.key)  # one lock order: two attempts never deadlock
    with write_transaction():
        SignInThrottle.delete().where(SignInThrottle.window_start < now - FORGET_AFTER).execute()
        for rule in rules:
            SignInThrottle.insert(key=rule.key, window_start=now, failures=0).on_conflict_ignore().execute()
        query = SignInThrottle.select().where(SignInThrottle.key.in_([r.key for r in rules]))
        rows = {row.key: row for row in (query.for_update() if is_postgres() else query)}
        wait = 0.0
        for rule in rules:
            row = rows[rule.key]
            age = (now - row.window_start).total_seconds()
            if age >= rule.window_seconds:
                row.window_start, row.failures = now, 0
            elif row.failures >= rule.limit:
                wait = max(wait, rule.window_seconds - age)
        if wait:
            raise Throttled(math.ceil(wait))
        for rule in rules:
            row = rows[rule.key]
            (SignInThrottle.update(window_start=row.window_start, failures=row.failures + 1)
             .where(SignInThrottle.key == rule.key).execute())
    return rules


def refund(rules: list[Rule]) -> None:
    """The attempt succeeded: give its slots back."""
    if not rules:
        return
    with write_transaction():
        (SignInThrottle.update(failures=SignInThrottle.failures - 1)
         .where(SignInThrottle.key.in_([r.key for r in rules]) & (SignInThrottle.failures > 0))
         .execute())
