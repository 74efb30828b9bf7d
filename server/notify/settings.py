"""The channel layer's settings, read once in create_app (configure) from the app's Config: which
channels exist (push always; SMS with a GOV.UK Notify key and SMS template; email with Notify's email
template or an SMTP URL), the push host allow-list, and the dispatcher's limits."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field

# Hosts of the browser push services (Chrome/Edge via FCM, Firefox, Safari, Windows). A leading "*."
# matches any sub-domain. ALONGSIDE_PUSH_HOSTS replaces the list (comma-separated).
DEFAULT_PUSH_HOSTS = (
    "fcm.googleapis.com",
    "*.push.services.mozilla.com",
    "web.push.apple.com",
    "*.push.apple.com",
    "*.notify.windows.com",
)


@dataclass
class DispatchLimits:
    batch_size: int = 200
    workers: int = 8  # concurrent sends; the work is waiting on the network
    max_attempts: int = 5
    backoff_seconds: int = 30  # 30 s, 60 s, 120 s, ... capped
    backoff_max_seconds: int = 15 * 60
    claim_timeout: dt.timedelta = field(default_factory=lambda: dt.timedelta(minutes=10))
    request_timeout: float = 10.0
    vapid_lifetime: int = 12 * 60 * 60  # JWT exp; push services accept up to 24 h


@dataclass
class NotifySettings:
    base_url: str = "http://127.0.0.1:5000"
    production: bool = False
    push_hosts: tuple[str, ...] = DEFAULT_PUSH_HOSTS
    allow_local_push: bool = True  # plain http and local hosts for push: tests and development only
    vapid_pem: str = ""
    vapid_subject: str = "mailto:admin@alongside.invalid"
    notify_api_key: str = ""
    notify_base_url: str = "https://api.notifications.service.gov.uk"
    notify_sms_template_id: str = ""
    notify_email_template_id: str = ""
    smtp_url: str = ""
    smtp_from: str = ""
    limits: DispatchLimits = field(default_factory=DispatchLimits)

    def __repr__(self) -> str:  # never show keys, even in a traceback's locals
        return f"<NotifySettings channels={sorted(self.channels())}>"

    def email_transport(self) -> str | None:
        if self.notify_api_key and self.notify_email_template_id:
            return "govuk_notify"
        if self.smtp_url:
            return "smtp"
        return None

    def transport_for(self, channel: str) -> str | None:
        if channel == "webpush":
            return "webpush" if self.vapid_pem else None
        if channel == "sms":
            return "govuk_notify" if self.notify_api_key and self.notify_sms_template_id else None
        if channel == "email":
            return self.email_transport()
        return None

    def channels(self) -> set[str]:
        return {c for c in ("webpush", "sms", "email") if self.transport_for(c)}


_current = NotifySettings()


def configure(settings: NotifySettings) -> None:
    global _current
    _current = settings


def current() -> NotifySettings:
    return _current


def from_config(cfg) -> NotifySettings:
    """Config (typed fields, ALONGSIDE_* already applied) -> settings. Dispatch limits: defaults <-
    ALONGSIDE_REMINDER_WORKERS / _MAX_ATTEMPTS <- the NOTIFY_DISPATCH (or REMINDER_DISPATCH) dict."""
    limits = DispatchLimits()
    for name, key in (("WORKERS", "workers"), ("MAX_ATTEMPTS", "max_attempts")):
        raw = os.environ.get(f"ALONGSIDE_REMINDER_{name}")
        if raw:
            setattr(limits, key, int(raw))
    for key, value in {**cfg.extra.get("REMINDER_DISPATCH", {}), **cfg.extra.get("NOTIFY_DISPATCH", {})}.items():
        if key not in DispatchLimits.__dataclass_fields__:
            raise ValueError(f"unknown dispatch setting {key!r}")
        setattr(limits, key, value)
    hosts = tuple(h.strip().lower() for h in cfg.PUSH_HOSTS.split(",") if h.strip()) or DEFAULT_PUSH_HOSTS
    allow_local = cfg.extra.get("REMINDER_ALLOW_LOCAL_ENDPOINTS", not cfg.is_production)
    return NotifySettings(
        base_url=cfg.BASE_URL, production=cfg.is_production, push_hosts=hosts, allow_local_push=bool(allow_local),
        vapid_pem=cfg.extra.get("VAPID_PEM", ""), vapid_subject=cfg.VAPID_SUBJECT,
        notify_api_key=cfg.NOTIFY_API_KEY, notify_base_url=cfg.NOTIFY_BASE_URL,
        notify_sms_template_id=cfg.NOTIFY_SMS_TEMPLATE_ID, notify_email_template_id=cfg.NOTIFY_EMAIL_TEMPLATE_ID,
        smtp_url=cfg.SMTP_URL, smtp_from=cfg.SMTP_FROM, limits=limits,
    )
