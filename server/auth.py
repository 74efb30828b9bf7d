"""Who is signed in: server-side sessions behind flask-login, sign-in and sign-out, and the
idle/absolute limits on coordinator web sessions. Routes live in api/auth.py and web_auth.py."""

from __future__ import annotations

import datetime as dt
import secrets

from flask import current_app, session

from .db import database, utcnow, write_transaction
from .extensions import login_manager
from .models import Device, User, UserSession
from .passwords import hash_password, needs_rehash, verify_password

# Touch last_seen_at at most this often, so reads do not become writes on every request.
LAST_SEEN_RESOLUTION = dt.timedelta(seconds=60)


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def authenticate(email: str, password: str) -> User | None:
    """The user for these credentials, or None. Unknown email and wrong password cost the same."""
    user = User.get_or_none(User.email == normalise_email(email))
    ok = verify_password(user.password_hash if user else None, password or "")
    if not ok or user is None or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        user.save(only=[User.password_hash])
    return user


def start_session(user: User, kind: str = "web") -> UserSession:
    """A fresh server-side session token for every sign-in (never reused across sign-ins)."""
    now = utcnow()
    with write_transaction():
        sess = UserSession.create(
            token=secrets.token_urlsafe(32), user=user, kind=kind, created_at=now, last_seen_at=now
        )
        User.update(last_login_at=now).where(User.id == user.id).execute()
    user.session = sess
    return sess


def end_session(user: User) -> None:
    if user is not None and getattr(user, "session", None) is not None:
        (UserSession.update(revoked_at=utcnow())
         .where((UserSession.id == user.session.id) & UserSession.revoked_at.is_null())
         .execute())


def revoke_all_sessions(user: User) -> int:
    return (UserSession.update(revoked_at=utcnow())
            .where((UserSession.user == user) & UserSession.revoked_at.is_null())
            .execute())


def deactivate_user(user: User, by: User | None = None) -> tuple[int, int]:
    """Stop a user at once: no sign-in, every session ended, every device revoked (so a phone that still
    holds their caseload wipes itself at its next contact). Call inside db.write_transaction().
    Returns (sessions ended, devices revoked)."""
    User.update(active=False).where(User.id == user.id).execute()
    ended = revoke_all_sessions(user)
    revoked = (Device.update(revoked_at=utcnow(), revoked_by=by.id if by else None)
               .where((Device.user == user) & Device.revoked_at.is_null())
               .execute())
    return ended, revoked


def _expired(sess: UserSession, user: User, now: dt.datetime) -> bool:
    """Coordinator pages hold sensitive lists on shared laptops: idle and absolute limits apply to
    web sessions of coordinators. App sessions on phones live longer and are revoked per device."""
    if sess.kind != "web" or not user.is_coordinator:
        return False
    cfg = current_app.config["ALONGSIDE"]
    idle = dt.timedelta(minutes=cfg.COORDINATOR_IDLE_MINUTES)
    absolute = dt.timedelta(hours=cfg.COORDINATOR_ABSOLUTE_HOURS)
    return now - sess.last_seen_at > idle or now - sess.created_at > absolute


@login_manager.user_loader
def load_user(token: str):
    database.connect(reuse_if_open=True)
    sess = (UserSession.select(UserSession, User)
            .join(User)
            .where((UserSession.token == token) & UserSession.revoked_at.is_null())
            .first())
    if sess is None or not sess.user.active:
        return None
    now = utcnow()
    if _expired(sess, sess.user, now):
        UserSession.update(revoked_at=now).where(UserSession.id == sess.id).execute()
        return None
    if now - sess.last_seen_at > LAST_SEEN_RESOLUTION:
        UserSession.update(last_seen_at=now).where(UserSession.id == sess.id).execute()
    user = sess.user
    user.session = sess
    return user


def begin_login(user: User, kind: str) -> None:
    """Start a clean Flask session for this sign-in: a fresh CSRF secret and a fresh session token."""
    from flask_login import login_user

    session.clear()
    session.permanent = True
    start_session(user, kind)
    login_user(user)


def init_app(app) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = None  # the server-side token is the protection; IPs change on phones
