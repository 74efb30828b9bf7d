"""Who is signed in: server-side sessions behind flask-login; the sign-in steps both sign-in routes share
(password, then the second step where it applies), throttled and audited alike; the time-outs that follow a
coordinator's role; and which sessions used which field device. Routes live in api/auth.py and web_auth.py."""

from __future__ import annotations

import datetime as dt
import secrets

from flask import current_app, request, session

from . import throttle, totp
from .db import database, utcnow, write_transaction
from .extensions import login_manager
from .models import AuditEvent, Device, SessionDevice, User, UserSession
from .passwords import hash_password, needs_rehash, verify_password
from .prepared import Prepared

# Touch last_seen_at at most this often, so reads do not become writes on every request.
LAST_SEEN_RESOLUTION = dt.timedelta(seconds=60)


class SignInFailed(Exception):
    """A wrong password or code (one generic message for a wrong password and an unknown email)."""


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def client_address() -> str:
    return request.remote_addr or "unknown"


# --- the sign-in steps -------------------------------------------------------------------------------------

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


def check_password(email: str, password: str, via: str) -> User:
    """The password step, throttled per account and per address before the password is even checked.
    Raises throttle.Throttled or SignInFailed (audited against the account when it exists)."""
    email = normalise_email(email)
    slots = throttle.reserve(throttle.password_rules(email, client_address()))
    user = authenticate(email, password)
    if user is None:
        known = User.get_or_none(User.email == email)
        with write_transaction():
            AuditEvent.record(None, "auth.login_failed", "user", known.uuid if known else "",
                              team=known.team_id if known else None, detail=f"{via}, password")
        raise SignInFailed
    throttle.refund(slots)
    return user


def second_step_for(user: User) -> str | None:
    """'code' when the user has an authenticator; 'setup' when their role requires one they have not set up
    (coordinators and admins, unless ALONGSIDE_TOTP_REQUIRED is off); None when the password is enough."""
    if user.has_two_step:
        return "code"
    if user.is_coordinator and current_app.config["ALONGSIDE"].TOTP_REQUIRED:
        return "setup"
    return None


def check_second_step(user: User, code: str, via: str) -> str:
    """A code from the authenticator or a recovery code, each usable once. Returns 'code' or 'recovery'."""
    slots = throttle.reserve(throttle.second_factor_rules(user, client_address()))
    how = totp.check_code(user, code)
    if how is None:
        with write_transaction():
            AuditEvent.record(None, "auth.login_failed", "user", user.uuid, team=user.team_id, detail=f"{via}, code")
        raise SignInFailed
    throttle.refund(slots)
    return how


def complete_sign_in(user: User, kind: str, how: str = "password") -> None:
    """Start a clean Flask session for this sign-in (a fresh CSRF secret and a fresh session token), audited."""
    from flask_login import login_user

    session.clear()
    session.permanent = True
    detail = {"password": kind, "code": f"{kind}, with code", "recovery": f"{kind}, with a recovery code"}[how]
    start_session(user, kind, detail)
    login_user(user)


# --- sessions ----------------------------------------------------------------------------------------------

def start_session(user: User, kind: str = "web", detail: str | None = None) -> UserSession:
    """A fresh server-side session token for every sign-in (never reused across sign-ins), audited."""
    now = utcnow()
    with write_transaction():
        sess = UserSession.create(
            token=secrets.token_urlsafe(32), user=user, kind=kind, created_at=now, last_seen_at=now
        )
        User.update(last_login_at=now).where(User.id == user.id).execute()
        AuditEvent.record(user, "auth.login", "user", user.uuid, detail=detail or kind)
    user.session = sess
    return sess


def end_session(user: User, retire_devices: bool = False) -> None:
    """Sign out: this session ends. The field app's sign-out also retires every device the session used (the
    phone has wiped its data, after checking nothing is unsynced, so nothing may use that device again); the web
    form's does not, since a browser shares one cookie between the pages and the app and the app must not lose
    unsynced work to a click elsewhere."""
    if user is None or getattr(user, "session", None) is None:
        return
    now = utcnow()
    with write_transaction():
        (UserSession.update(revoked_at=now)
         .where((UserSession.id == user.session.id) & UserSession.revoked_at.is_null())
         .execute())
        retired = 0
        if retire_devices:
            used = SessionDevice.select(SessionDevice.device).where(SessionDevice.session == user.session.id)
            retired = (Device.update(revoked_at=now, revoked_by=user.id)
                       .where(Device.id.in_(used) & Device.revoked_at.is_null())
                       .execute())
        detail = user.session.kind + (f", {retired} device(s) retired" if retired else "")
        AuditEvent.record(user, "auth.logout", "user", user.uuid, detail=detail)


def revoke_all_sessions(user: User) -> int:
    return (UserSession.update(revoked_at=utcnow())
            .where((UserSession.user == user) & UserSession.revoked_at.is_null())
            .execute())


def end_other_sessions(user: User) -> int:
    """Every session of this user but the current one (after the second step is turned on or changed)."""
    current = getattr(user, "session", None)
    query = (UserSession.update(revoked_at=utcnow())
             .where((UserSession.user == user) & UserSession.revoked_at.is_null()))
    if current is not None:
        query = query.where(UserSession.id != current.id)
    return query.execute()


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
    """Coordinators and admins can read a whole team: idle and absolute limits follow the role, whichever way
    they signed in (the /login form or the app). Peer workers' app sessions live longer; their phones lock."""
    if not user.is_coordinator:
        return False
    cfg = current_app.config["ALONGSIDE"]
    idle = dt.timedelta(minutes=cfg.COORDINATOR_IDLE_MINUTES)
    absolute = dt.timedelta(hours=cfg.COORDINATOR_ABSOLUTE_HOURS)
    return now - sess.last_seen_at > idle or now - sess.created_at > absolute


# Every request's first query: built once (prepared.py), as building it cost twenty times running it.
_LIVE_SESSION = Prepared(lambda token: (UserSession.select(UserSession, User).join(User)
                                        .where((UserSession.token == token) & UserSession.revoked_at.is_null())
                                        .limit(1)), token=UserSession.token)
_USES_DEVICE = Prepared(lambda session, device: (SessionDevice.select(SessionDevice.id).where(
    (SessionDevice.session == session) & (SessionDevice.device == device)).limit(1).tuples()),
    session=SessionDevice.session, device=SessionDevice.device)


@login_manager.user_loader
def load_user(token: str):
    database.connect(reuse_if_open=True)
    sess = _LIVE_SESSION.first(token=token)
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


# --- sessions and field devices ----------------------------------------------------------------------------

def use_device(user: User, device: Device) -> None:
    """This session registered or used this device. A device has one live sign-in: when a new sign-in on the
    phone (after "Forgot your PIN", say) first uses it, the phone's earlier session ends."""
    sess = getattr(user, "session", None)
    if sess is None:
        return
    if _USES_DEVICE.first(session=sess.id, device=device.id) is not None:
        return
    with write_transaction():
        SessionDevice.insert(session=sess.id, device=device.id, created_at=utcnow()).on_conflict_ignore().execute()
        earlier = SessionDevice.select(SessionDevice.session).where(
            (SessionDevice.device == device.id) & (SessionDevice.session != sess.id))
        (UserSession.update(revoked_at=utcnow())
         .where(UserSession.id.in_(earlier) & UserSession.revoked_at.is_null())
         .execute())


def has_revoked_device(user: User) -> bool:
    """Has this session registered or used a device that has since been revoked?"""
    sess = getattr(user, "session", None)
    if sess is None:
        return False
    return (SessionDevice.select()
            .join(Device)
            .where((SessionDevice.session == sess.id) & Device.revoked_at.is_null(False))
            .exists())


def end_device_sessions(device: Device) -> int:
    """Revoking a device ends every session that registered or used it. Inside a write transaction."""
    linked = SessionDevice.select(SessionDevice.session).where(SessionDevice.device == device.id)
    return (UserSession.update(revoked_at=utcnow())
            .where(UserSession.id.in_(linked) & UserSession.revoked_at.is_null())
            .execute())


def end_current_session() -> None:
    """End the request's session on the server (a session that showed a revoked device)."""
    from flask_login import current_user, logout_user

    sess = getattr(current_user, "session", None)
    if sess is not None:
        with write_transaction():
            UserSession.update(revoked_at=utcnow()).where(UserSession.id == sess.id).execute()
    logout_user()


def init_app(app) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = None  # the server-side token is the protection; IPs change on phones
    from . import two_step_cli

    two_step_cli.init_app(app)
