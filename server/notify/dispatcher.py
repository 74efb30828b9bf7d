"""The one dispatcher: claims due outbox messages (pending -> sending in one transaction: FOR UPDATE SKIP
LOCKED on PostgreSQL, the immediate write lock on SQLite), so however many dispatchers run, each message
is claimed by one. It resolves each message's address at send time (a stopped consent or a removed
subscription cancels it), renders the fixed template, sends through its transport from a thread pool,
then records every outcome (one OutboxAttempt row each) and the message's new state in one transaction.
Retries back off exponentially, honouring Retry-After; after max_attempts the message fails."""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .. import db as dbmod
from ..db import database, utcnow, write_transaction
from ..models import ContactPoint, OutboxAttempt, OutboxMessage, PushSubscription, User
from . import settings as settings_module
from .channels import Outcome, Send
from .outbox import bulk_insert
from .templates import TemplateError, render

log = logging.getLogger("alongside.notify")
FINAL = {"delivered": "sent", "gone": "failed", "failed": "failed", "expired": "expired", "cancelled": "cancelled"}


@dataclass
class PassResult:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    expired: int = 0
    cancelled: int = 0
    subscriptions_removed: int = 0

    def add(self, other: PassResult) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


class Dispatcher:
    def __init__(self, settings: settings_module.NotifySettings | None = None):
        self.settings = settings or settings_module.current()
        self.limits = self.settings.limits
        self._transports: dict = {}
        self._pool = ThreadPoolExecutor(max_workers=self.limits.workers, thread_name_prefix="notify")

    def __repr__(self) -> str:
        return "<Dispatcher>"

    @classmethod
    def from_app(cls, app, **limits) -> Dispatcher:
        """A dispatcher on this app's channel settings, with some limits changed (tests, benchmarks)."""
        settings = settings_module.from_config(app.config["ALONGSIDE"])
        for key, value in limits.items():
            if key not in settings_module.DispatchLimits.__dataclass_fields__:
                raise ValueError(f"unknown dispatch setting {key!r}")
            setattr(settings.limits, key, value)
        return cls(settings)

    def transport(self, name: str):
        if name not in self._transports:
            if name == "webpush":
                from .webpush import WebPushTransport as cls
            elif name == "govuk_notify":
                from .govuk import GovukNotifyTransport as cls
            elif name == "smtp":
                from .smtp import SmtpTransport as cls
            else:
                raise ValueError(f"unknown transport {name!r}")
            self._transports[name] = cls(self.settings)
        return self._transports[name]

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        for transport in self._transports.values():
            if hasattr(transport, "close"):
                transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- a pass ------------------------------------------------------------------------------

    def send_due(self, now: dt.datetime | None = None, max_batches: int | None = None) -> PassResult:
        total, batches = PassResult(), 0
        with database.connection_context():
            self.release_stale_claims(now)
            while max_batches is None or batches < max_batches:
                ids = self.claim(now)
                if not ids:
                    break
                total.add(self.process(ids, now))
                batches += 1
        if total.claimed:
            log.info("notify pass: %s", total.as_dict())
        return total

    def release_stale_claims(self, now: dt.datetime | None = None) -> int:
        """A dispatcher that died mid-batch leaves messages in `sending`: after claim_timeout they are due
        again. (Such a message may have gone out already: at most this one case can repeat.)"""
        now = now or utcnow()
        stale = (OutboxMessage.state == "sending") & (OutboxMessage.claimed_at < now - self.limits.claim_timeout)
        if not OutboxMessage.select().where(stale).exists():
            return 0  # the usual pass: a read, and no write lock (see claim)
        with write_transaction():
            return OutboxMessage.update(state="pending", claimed_at=None).where(stale).execute()

    def claim(self, now: dt.datetime | None = None) -> list[int]:
        now = now or utcnow()
        due = ((OutboxMessage.state == "pending") & (OutboxMessage.due_at <= now)
               & (OutboxMessage.next_attempt_at.is_null() | (OutboxMessage.next_attempt_at <= now)))
        # A pass with nothing to send takes no write lock: on SQLite (one writer) a push would wait behind it.
        if not OutboxMessage.select().where(due).exists():
            return []
        with write_transaction():
            query = (OutboxMessage.select(OutboxMessage.id)
                     .where(due)
                     .order_by(OutboxMessage.due_at, OutboxMessage.id)
                     .limit(self.limits.batch_size))
            if dbmod.is_postgres():
                query = query.for_update("FOR UPDATE SKIP LOCKED")
            ids = [row.id for row in query]
            if ids:
                (OutboxMessage.update(state="sending", claimed_at=now)
                 .where(OutboxMessage.id.in_(ids) & (OutboxMessage.state == "pending"))
                 .execute())
        return ids

    def _resolve(self, message: OutboxMessage, subs: dict, contacts: dict, users: dict, now) -> Send | Outcome:
        """The Send for a message, or the final Outcome when it must not be sent."""
        if message.expires_at is not None and now >= message.expires_at:
            return Outcome("expired", None, "too late to send")
        if self.settings.transport_for(message.channel) != message.transport:
            return Outcome("failed", None, "channel not configured")
        address, push_info = "", None
        if message.channel == "webpush":
            sub = subs.get(message.subscription_id)
            if sub is None:
                return Outcome("cancelled", None, "subscription removed")
            push_info = {"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}}
            address = sub.endpoint
        elif message.person_id is not None:
            contact = contacts.get(message.contact_id)
            if contact is None or contact.channel != message.channel:
                return Outcome("cancelled", None, "consent withdrawn")
            address = contact.address
        else:
            user = users.get(message.user_id)
            if user is None or not user.active:
                return Outcome("cancelled", None, "user not active")
            address = user.email
        if message.user_id is not None and message.channel == "webpush":
            user = users.get(message.user_id)
            if user is None or not user.active:
                return Outcome("cancelled", None, "user not active")
        try:
            rendered = render(message.template, message.template_values, self.settings.base_url,
                              {"due_at": message.due_at, "now": now})
        except TemplateError:
            return Outcome("failed", None, "template or values not valid")
        ttl = int((message.expires_at - now).total_seconds()) if message.expires_at else 24 * 3600
        return Send(message.id, message.channel, message.transport, address, push_info, rendered,
                    max(60, min(ttl, 28 * 24 * 3600)), message.urgency, f"alongside-{message.uuid}")

    def process(self, ids: list[int], now: dt.datetime | None = None) -> PassResult:
        now = now or utcnow()
        messages = list(OutboxMessage.select().where(OutboxMessage.id.in_(ids)))
        sub_ids = {m.subscription_id for m in messages if m.subscription_id}
        contact_ids = {m.contact_id for m in messages if m.contact_id}
        user_ids = {m.user_id for m in messages if m.user_id}
        subs = {s.id: s for s in PushSubscription.select().where(PushSubscription.id.in_(sub_ids))} if sub_ids else {}
        contacts = ({c.id: c for c in ContactPoint.select().where(ContactPoint.id.in_(contact_ids))}
                    if contact_ids else {})
        users = {u.id: u for u in User.select().where(User.id.in_(user_ids))} if user_ids else {}
        outcomes: dict[int, Outcome] = {}
        sends: list[Send] = []
        for message in messages:
            resolved = self._resolve(message, subs, contacts, users, now)
            if isinstance(resolved, Outcome):
                outcomes[message.id] = resolved
            else:
                sends.append(resolved)
        for send, outcome in zip(sends, self._pool.map(self._send, sends), strict=True):
            outcomes[send.message_id] = outcome
        return self._record(messages, outcomes, now)

    def _send(self, send: Send) -> Outcome:
        try:
            return self.transport(send.transport).send(send)
        except Exception as exc:  # noqa: BLE001 - the type only: a message could carry an address or a key
            return Outcome("failed", None, f"could not send: {type(exc).__name__}")

    def _record(self, messages, outcomes: dict[int, Outcome], now) -> PassResult:
        result = PassResult(claimed=len(messages))
        attempts, by_state, retries, gone = [], {}, [], set()
        for message in messages:
            out = outcomes[message.id]
            attempts.append((message.id, now, out.outcome, out.http_status, out.error[:200], out.provider_id[:64]))
            if out.outcome == "retry" and message.attempts + 1 < self.limits.max_attempts:
                n = message.attempts + 1
                wait = min(self.limits.backoff_seconds * 2 ** (n - 1), self.limits.backoff_max_seconds)
                wait = max(wait, min(out.retry_after or 0, self.limits.backoff_max_seconds))
                retries.append((message.id, n, now + dt.timedelta(seconds=wait), out.error))
                result.retrying += 1
                continue
            state = FINAL.get(out.outcome, "failed")
            sent_tried = out.outcome not in ("expired", "cancelled")
            by_state.setdefault((state, sent_tried, out.error[:200]), []).append(message.id)
            if out.outcome == "gone" and message.subscription_id:
                gone.add(message.subscription_id)
            field = {"sent": "sent", "expired": "expired", "cancelled": "cancelled"}.get(state, "failed")
            setattr(result, field, getattr(result, field) + 1)
        with write_transaction():
            bulk_insert(OutboxAttempt, ("message", "at", "outcome", "http_status", "error", "provider_id"), attempts)
            if gone:
                result.subscriptions_removed = PushSubscription.delete().where(PushSubscription.id.in_(gone)).execute()
            delivered_subs = [m.subscription_id for m in messages
                              if m.subscription_id and outcomes[m.id].outcome == "delivered"]
            if delivered_subs:
                (PushSubscription.update(last_success_at=now)
                 .where(PushSubscription.id.in_(delivered_subs)).execute())
            for (state, tried, error), ids in by_state.items():
                for start in range(0, len(ids), 500):
                    changes = {"state": state, "last_error": error, "next_attempt_at": None}
                    if tried:
                        changes["attempts"] = OutboxMessage.attempts + 1
                    if state == "sent":
                        changes["sent_at"] = now
                    (OutboxMessage.update(**changes)
                     .where(OutboxMessage.id.in_(ids[start:start + 500]) & (OutboxMessage.state == "sending"))
                     .execute())
            for mid, n, when, error in retries:
                (OutboxMessage.update(state="pending", attempts=n, next_attempt_at=when, claimed_at=None,
                                      last_error=error[:200])
                 .where((OutboxMessage.id == mid) & (OutboxMessage.state == "sending"))
                 .execute())
        return result
