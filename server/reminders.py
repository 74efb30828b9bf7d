"""The reminder dispatcher: claims due reminders atomically, sends them by Web Push (pywebpush lives
here and only here) and records every outcome. Two dispatchers never send one reminder twice:
claiming flips `pending` -> `sending` in one transaction (FOR UPDATE SKIP LOCKED on PostgreSQL,
BEGIN IMMEDIATE on SQLite). The VAPID private key is held in memory and never logged."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests
from py_vapid import Vapid02
from pywebpush import WebPusher

from . import db as dbmod
from .db import database, utcnow, write_transaction
from .models import Person, PushSubscription, Reminder, ReminderDelivery
from .reminder_schedule import has_health_words

log = logging.getLogger("alongside.reminders")

TITLE = "Alongside"
PERSON_PAGE = "/r/"
DELIVERED = {200, 201, 202}
GONE = {404, 410}


@dataclass
class DispatchSettings:
    batch_size: int = 200
    workers: int = 8  # concurrent pushes; the work is waiting on the network
    max_attempts: int = 5
    backoff_seconds: int = 30  # 30 s, 60 s, 120 s, ... capped
    backoff_max_seconds: int = 15 * 60
    max_late: dt.timedelta = field(default_factory=lambda: dt.timedelta(minutes=60))
    claim_timeout: dt.timedelta = field(default_factory=lambda: dt.timedelta(minutes=10))
    request_timeout: float = 10.0
    vapid_lifetime: int = 12 * 60 * 60  # JWT exp; push services accept up to 24 h


@dataclass
class PassResult:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    missed: int = 0
    cancelled: int = 0
    subscriptions_removed: int = 0

    def add(self, other: PassResult) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass
class _Push:
    reminder_id: int
    subscription_id: int
    info: dict
    payload: bytes
    ttl: int
    urgency: str
    status: int | None = None
    outcome: str = ""
    error: str = ""
    retry_after: int | None = None


class VapidSigner:
    """Signs one VAPID JWT per push-service origin and reuses it until an hour before it expires."""

    def __init__(self, pem: str, subject: str, lifetime: int):
        self._vapid = Vapid02.from_pem(pem.encode())
        self._subject = subject
        self._lifetime = lifetime
        self._cache: dict[str, tuple[int, str]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never show the key, even in a traceback's locals
        return "<VapidSigner>"

    def authorization(self, endpoint: str) -> str:
        parts = urlsplit(endpoint)
        aud = f"{parts.scheme}://{parts.netloc}"
        now = int(time.time())
        with self._lock:
            cached = self._cache.get(aud)
            if cached and cached[0] - now > 3600:
                return cached[1]
            exp = now + self._lifetime
            header = self._vapid.sign({"aud": aud, "exp": exp, "sub": self._subject})["Authorization"]
            self._cache[aud] = (exp, header)
            return header


def payload_for(reminder: Reminder) -> bytes:
    """What the phone receives: no names, no health words; the body was built from safe text."""
    return json.dumps({"title": TITLE, "body": reminder.body, "url": PERSON_PAGE,
                       "tag": f"alongside-{reminder.uuid}"}).encode()


def ttl_and_urgency(reminder: Reminder, now: dt.datetime) -> tuple[int, str]:
    """Keep a push only while its words are still true: an evening reminder until local midnight,
    a "soon" reminder until the visit, a goal step for six hours."""
    from .reminder_schedule import to_local, to_utc

    if reminder.kind == "visit_evening":
        local = to_local(max(reminder.send_at, now))
        midnight = to_utc(dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0, 0)))
        return max(600, int((midnight - now).total_seconds())), "normal"
    if reminder.kind == "visit_soon":
        visit = reminder.visit if reminder.visit_id else None
        until = visit.next_visit_at if visit is not None and visit.next_visit_at else now + dt.timedelta(hours=2)
        return max(300, int((until - now).total_seconds())), "high"
    return 6 * 3600, "normal"


def _retry_after(response) -> int | None:
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return None
    try:
        return max(0, int(value))
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
            return max(0, int(when.timestamp() - time.time()))
        except (TypeError, ValueError):
            return None


class Dispatcher:
    def __init__(self, vapid_pem: str, subject: str, settings: DispatchSettings | None = None):
        self.settings = settings or DispatchSettings()
        self.signer = VapidSigner(vapid_pem, subject, self.settings.vapid_lifetime)
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(max_workers=self.settings.workers, thread_name_prefix="push")

    def __repr__(self) -> str:
        return "<Dispatcher>"

    @classmethod
    def from_app(cls, app, **overrides) -> Dispatcher:
        """Settings: defaults <- ALONGSIDE_REMINDER_WORKERS / _MAX_ATTEMPTS / _MAX_LATE_MINUTES <- the
        REMINDER_DISPATCH dict given to create_app <- keyword overrides."""
        cfg = app.config["ALONGSIDE"]
        settings = DispatchSettings()
        from_env = {}
        for name, key, convert in (("WORKERS", "workers", int), ("MAX_ATTEMPTS", "max_attempts", int),
                                   ("MAX_LATE_MINUTES", "max_late", lambda v: dt.timedelta(minutes=int(v)))):
            raw = os.environ.get(f"ALONGSIDE_REMINDER_{name}")
            if raw:
                from_env[key] = convert(raw)
        for key, value in {**from_env, **cfg.extra.get("REMINDER_DISPATCH", {}), **overrides}.items():
            if key not in DispatchSettings.__dataclass_fields__:
                raise ValueError(f"unknown reminder dispatch setting {key!r}")
            setattr(settings, key, value)
        return cls(cfg.extra["VAPID_PEM"], cfg.VAPID_SUBJECT, settings)

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- one pass --------------------------------------------------------------------------

    def send_due(self, now: dt.datetime | None = None, max_batches: int | None = None) -> PassResult:
        """Send everything due now, batch by batch, until nothing due is left unclaimed."""
        total = PassResult()
        batches = 0
        with database.connection_context():
            self.release_stale_claims(now)
            while max_batches is None or batches < max_batches:
                ids = self.claim(now)
                if not ids:
                    break
                total.add(self.process(ids, now))
                batches += 1
        if total.claimed:
            log.info("reminders pass: %s", total.as_dict())
        return total

    def release_stale_claims(self, now: dt.datetime | None = None) -> int:
        """A dispatcher that died mid-batch leaves rows in `sending`: after claim_timeout they go back to
        `pending`. Subscriptions that already have a delivered row for them are skipped on the retry."""
        now = now or utcnow()
        with write_transaction():
            return (Reminder.update(status="pending", claimed_at=None)
                    .where((Reminder.status == "sending")
                           & (Reminder.claimed_at < now - self.settings.claim_timeout))
                    .execute())

    def claim(self, now: dt.datetime | None = None) -> list[int]:
        now = now or utcnow()
        with write_transaction():
            query = (Reminder.select(Reminder.id)
                     .where((Reminder.status == "pending")
                            & (Reminder.send_at <= now)
                            & (Reminder.next_attempt_at.is_null() | (Reminder.next_attempt_at <= now)))
                     .order_by(Reminder.send_at, Reminder.id)
                     .limit(self.settings.batch_size))
            if dbmod.is_postgres():
                query = query.for_update("FOR UPDATE SKIP LOCKED")
            ids = [row.id for row in query]
            if ids:
                (Reminder.update(status="sending", claimed_at=now)
                 .where(Reminder.id.in_(ids) & (Reminder.status == "pending"))
                 .execute())
        return ids

    def process(self, ids: list[int], now: dt.datetime | None = None) -> PassResult:
        now = now or utcnow()
        result = PassResult(claimed=len(ids))
        reminders = list(Reminder.select(Reminder, Person)
                         .join(Person, on=(Reminder.person == Person.id))
                         .where(Reminder.id.in_(ids)))
        person_ids = {r.person_id for r in reminders}
        subs_by_person: dict[int, list[PushSubscription]] = {}
        for sub in PushSubscription.select().where(PushSubscription.person.in_(person_ids)):
            subs_by_person.setdefault(sub.person_id, []).append(sub)
        retried = [r.id for r in reminders if r.attempts > 0]
        already = set()
        if retried:
            already = {(d.reminder_id, d.subscription_id) for d in
                       ReminderDelivery.select(ReminderDelivery.reminder, ReminderDelivery.subscription)
                       .where(ReminderDelivery.reminder.in_(retried)
                              & (ReminderDelivery.outcome == "delivered"))}

        finals: dict[int, tuple[str, str]] = {}  # reminder id -> (status, error), decided before sending
        notes: list[dict] = []
        pushes: list[_Push] = []
        for reminder in reminders:
            late = now - reminder.send_at
            person = reminder.person
            if not person.reminders_opt_in or person.deleted or person.status == "closed":
                finals[reminder.id] = ("cancelled", "reminders turned off")
                notes.append({"reminder": reminder.id, "outcome": "cancelled"})
                continue
            if has_health_words(reminder.body):  # bodies come from safe text; never let one slip through
                finals[reminder.id] = ("failed", "text not safe for a locked screen")
                notes.append({"reminder": reminder.id, "outcome": "refused", "error": "unsafe text"})
                continue
            if late > self.settings.max_late:
                status = "missed" if reminder.attempts == 0 else "failed"
                finals[reminder.id] = (status, "too late to send")
                notes.append({"reminder": reminder.id, "outcome": "missed", "error": "too late to send"})
                continue
            subs = [s for s in subs_by_person.get(reminder.person_id, [])
                    if (reminder.id, s.id) not in already]
            if not subs:
                finals[reminder.id] = ("failed", "no device to send to")
                notes.append({"reminder": reminder.id, "outcome": "no_device", "error": "no device"})
                continue
            payload = payload_for(reminder)
            ttl, urgency = ttl_and_urgency(reminder, now)
            for sub in subs:
                info = {"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}}
                pushes.append(_Push(reminder.id, sub.id, info, payload, ttl, urgency))

        list(self._pool.map(self._send, pushes))
        self._record(reminders, finals, notes, pushes, now, result)
        return result

    # --- one push -----------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=4, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._local.session = session
        return session

    def _send(self, push: _Push) -> _Push:
        try:
            headers = {"Authorization": self.signer.authorization(push.info["endpoint"]),
                       "Urgency": push.urgency}
            response = WebPusher(push.info, requests_session=self._session()).send(
                push.payload, headers, ttl=push.ttl, timeout=self.settings.request_timeout)
            push.status = response.status_code
            if push.status in DELIVERED:
                push.outcome = "delivered"
            elif push.status in GONE:
                push.outcome = "gone"
            elif push.status == 429 or push.status >= 500:
                push.outcome = "retry"
                push.retry_after = _retry_after(response)
                push.error = f"push service answered {push.status}"
            else:
                push.outcome = "failed"
                push.error = f"push service refused: {push.status}"
        except requests.Timeout:
            push.outcome, push.error = "retry", "timed out"
        except requests.ConnectionError:
            push.outcome, push.error = "retry", "could not connect"
        except Exception as exc:  # noqa: BLE001 - one bad subscription must not stop the batch
            # The type only: a message could carry key material or a payload.
            push.outcome, push.error = "failed", f"could not send: {type(exc).__name__}"
        return push

    # --- writing down what happened ---------------------------------------------------------------

    def _record(self, reminders, finals, notes, pushes, now, result: PassResult) -> None:
        by_reminder: dict[int, list[_Push]] = {}
        for push in pushes:
            by_reminder.setdefault(push.reminder_id, []).append(push)
        rows = [{"reminder": n["reminder"], "subscription": None, "at": now, "outcome": n["outcome"],
                 "http_status": None, "error": n.get("error", "")} for n in notes]
        rows += [{"reminder": p.reminder_id, "subscription": p.subscription_id, "at": now, "outcome": p.outcome,
                  "http_status": p.status, "error": p.error[:200]} for p in pushes]
        gone = sorted({p.subscription_id for p in pushes if p.outcome == "gone"})
        delivered_subs = sorted({p.subscription_id for p in pushes if p.outcome == "delivered"})
        updates: dict[str, list[int]] = {}
        retry_updates = []
        for reminder in reminders:
            if reminder.id in finals:
                status, error = finals[reminder.id]
                updates.setdefault(status, []).append(reminder.id)
                setattr(result, {"cancelled": "cancelled", "missed": "missed", "failed": "failed"}[status],
                        getattr(result, status) + 1)
                continue
            mine = by_reminder.get(reminder.id, [])
            outcomes = {p.outcome for p in mine}
            if "delivered" in outcomes:
                updates.setdefault("sent", []).append(reminder.id)
                result.sent += 1
            elif "retry" in outcomes and reminder.attempts + 1 < self.settings.max_attempts:
                attempts = reminder.attempts + 1
                wait = min(self.settings.backoff_seconds * 2 ** (attempts - 1), self.settings.backoff_max_seconds)
                hinted = max((p.retry_after or 0) for p in mine)
                wait = max(wait, min(hinted, self.settings.backoff_max_seconds))
                error = next(p.error for p in mine if p.outcome == "retry")
                retry_updates.append((reminder.id, attempts, now + dt.timedelta(seconds=wait), error))
                result.retrying += 1
            else:
                updates.setdefault("failed", []).append(reminder.id)
                result.failed += 1
                errors = [p.error for p in mine if p.error] or ["every device has gone"]
                finals[reminder.id] = ("failed", errors[0])

        with write_transaction():
            for start in range(0, len(rows), 500):
                ReminderDelivery.insert_many(rows[start:start + 500]).execute()
            if gone:
                result.subscriptions_removed = PushSubscription.delete().where(PushSubscription.id.in_(gone)).execute()
            if delivered_subs:
                (PushSubscription.update(last_success_at=now)
                 .where(PushSubscription.id.in_(delivered_subs)).execute())
            sent_ids = updates.pop("sent", [])
            for start in range(0, len(sent_ids), 500):
                (Reminder.update(status="sent", sent_at=now, attempts=Reminder.attempts + 1,
                                 next_attempt_at=None, last_error="")
                 .where(Reminder.id.in_(sent_ids[start:start + 500]) & (Reminder.status == "sending"))
                 .execute())
            for status, ids in updates.items():
                for rid in ids:
                    error = finals.get(rid, (status, ""))[1]
                    attempts_delta = 1 if by_reminder.get(rid) else 0
                    (Reminder.update(status=status, last_error=error[:200], next_attempt_at=None,
                                     attempts=Reminder.attempts + attempts_delta)
                     .where((Reminder.id == rid) & (Reminder.status == "sending"))
                     .execute())
            for rid, attempts, when, error in retry_updates:
                (Reminder.update(status="pending", attempts=attempts, next_attempt_at=when,
                                 claimed_at=None, last_error=error[:200])
                 .where((Reminder.id == rid) & (Reminder.status == "sending"))
                 .execute())


def send_due_reminders(app, now: dt.datetime | None = None, **overrides) -> PassResult:
    """One pass, for a timer every minute (`flask reminders send`)."""
    with Dispatcher.from_app(app, **overrides) as dispatcher:
        return dispatcher.send_due(now)
