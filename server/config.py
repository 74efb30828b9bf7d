"""Configuration: typed defaults, overridden by ALONGSIDE_* environment variables, then by the
dict passed to create_app(). Production start fails closed when a secret is missing or weak."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

ENV_PREFIX = "ALONGSIDE_"

# Values that must never be used as a real secret (examples from docs, tests and the demo).
KNOWN_WEAK_SECRETS = {"", "dev", "change-me", "changeme", "secret", "test", "development", "alongside"}


class ConfigError(RuntimeError):
    """Raised at start-up when the configuration cannot be trusted."""


@dataclass
class Config:
    ENV: str = "development"  # development | production
    SECRET_KEY: str = ""  # generated into instance/ on the embedded default
    DATABASE_URL: str = ""  # empty = SQLite file under instance/
    TIMEZONE: str = "Europe/London"
    INSTANCE_PATH: str = ""  # empty = <project>/instance
    LOGIN_FAILURES_PER_MINUTE: int = 5
    VAPID_PRIVATE_KEY: str = ""  # PEM text or a path to a PEM file; generated on the embedded default
    VAPID_SUBJECT: str = "mailto:admin@alongside.invalid"
    MAX_BATCH_MUTATIONS: int = 500
    MAX_REQUEST_BYTES: int = 2 * 1024 * 1024
    AUTO_MIGRATE: bool | None = None  # None = migrate on start on SQLite only
    HTTPS: bool = False  # behind TLS: Secure cookies and HSTS
    PROXY_COUNT: int = 0  # reverse proxies in front (trust that many X-Forwarded-* hops for scheme, host, address)
    BASE_URL: str = "http://127.0.0.1:5000"  # links in SMS and email (push links are paths)
    PUSH_HOSTS: str = ""  # comma-separated push service hosts ("*.example" = sub-domains); empty = built-in list
    NOTIFY_API_KEY: str = ""  # GOV.UK Notify; with a template id below, turns on SMS and/or email
    NOTIFY_BASE_URL: str = "https://api.notifications.service.gov.uk"
    NOTIFY_SMS_TEMPLATE_ID: str = ""  # a Notify template whose whole text is ((body))
    NOTIFY_EMAIL_TEMPLATE_ID: str = ""  # subject ((subject)), text ((body))
    SMTP_URL: str = ""  # smtp://user:pass@host:587 (STARTTLS) or smtps://...:465; email when Notify has none
    SMTP_FROM: str = ""  # the From address for SMTP email
    COORDINATOR_IDLE_MINUTES: int = 30
    COORDINATOR_ABSOLUTE_HOURS: int = 12
    TOTP_REQUIRED: bool = True  # coordinators and admins sign in with an authenticator code; off only in development
    ORUK_FEED: str = "off"  # the directory as an Open Referral UK feed: off | public | token
    ORUK_FEED_TOKEN: str = ""  # the bearer token when ORUK_FEED=token (at least 32 characters)
    # Outcomes, supervision and records (issue 16)
    MHSDS_ORG_ID: str = ""  # the provider's organisation code, in the contacts export (OrgIDProv)
    MHSDS_SITE_ID: str = ""  # the site code of treatment (SiteIDOfTreat)
    MHSDS_TEAM_IDS: str = ""  # "Team name=CODE;Other team=CODE2" (CareProfTeamLocalId; else the team's id)
    SUPERVISION_DUE_DAYS: int = 28  # a worker is due supervision this long after their last session
    RETENTION_YEARS: int = 20  # records kept this long after an engagement closes (NHS Records Management Code)
    # Safety (issue 14): an unacknowledged alert escalates to every coordinator of the team and the admins after
    ALERT_ESCALATE_AFTER_MINUTES: int = 120  # a concern (or a refused visit with a concern)
    LONE_ESCALATE_AFTER_MINUTES: int = 15  # a lone worker overdue, a worker asking for help
    LONE_GRACE_MINUTES: int = 15  # a check-in this long past its expected end prompts the worker's own phone
    TESTING: bool = False
    extra: dict = field(default_factory=dict)

    @classmethod
    def load(cls, overrides: dict | None = None, environ=None) -> Config:
        environ = os.environ if environ is None else environ
        cfg = cls()
        for f in fields(cls):
            if f.name == "extra":
                continue
            raw = environ.get(ENV_PREFIX + f.name)
            if raw is not None:
                setattr(cfg, f.name, _coerce(f.name, raw, getattr(cfg, f.name)))
        for key, value in (overrides or {}).items():
            if hasattr(cfg, key) and key != "extra":
                setattr(cfg, key, value)
            else:
                cfg.extra[key] = value
        return cfg

    @property
    def is_production(self) -> bool:
        return self.ENV == "production"

    @property
    def uses_sqlite(self) -> bool:
        return not self.DATABASE_URL or self.DATABASE_URL.startswith("sqlite")

    def instance_dir(self, default: str) -> Path:
        return Path(self.INSTANCE_PATH or default)

    def check_production(self) -> None:
        """Fail closed: production never runs on generated or default secrets."""
        if not self.is_production:
            return
        problems = []
        if self.SECRET_KEY.strip().lower() in KNOWN_WEAK_SECRETS or len(self.SECRET_KEY) < 32:
            problems.append("ALONGSIDE_SECRET_KEY must be set to a random value of at least 32 characters")
        if not self.VAPID_PRIVATE_KEY.strip():
            problems.append("ALONGSIDE_VAPID_PRIVATE_KEY must be set (PEM text or a path to a PEM file)")
        if not self.TOTP_REQUIRED:
            problems.append("ALONGSIDE_TOTP_REQUIRED must stay on: coordinators and admins need two-step sign-in")
        if (self.NOTIFY_API_KEY or self.SMTP_URL) and not self.BASE_URL.startswith("https://"):
            problems.append("ALONGSIDE_BASE_URL must be the https:// address people reach the service at")
        if self.SMTP_URL and not self.SMTP_FROM:
            problems.append("ALONGSIDE_SMTP_FROM must be set with ALONGSIDE_SMTP_URL")
        if not self.DATABASE_URL:
            problems.append("ALONGSIDE_DATABASE_URL must be set (postgresql://... for many users)")
        if problems:
            raise ConfigError("Alongside will not start in production:\n  - " + "\n  - ".join(problems))


def _coerce(name: str, raw: str, default):
    if isinstance(default, bool) or default is None and name == "AUTO_MIGRATE":
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigError(f"{ENV_PREFIX}{name} must be a whole number, not {raw!r}") from exc
    return raw
