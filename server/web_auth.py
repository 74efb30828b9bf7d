"""The sign-in pages (/login, /logout): the same accounts, sessions, throttling and audit as the app's API.
Step 1 is the email and password. Step 2, where it applies, is a code from an authenticator app (or a recovery
code); a coordinator or admin who has no authenticator yet sets one up as step 2 instead. Between the steps the
browser holds only a signed note of who passed step 1 and when (10 minutes), never a session."""

from __future__ import annotations

import time

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user

from . import totp
from .auth import (
    SignInFailed,
    check_password,
    check_second_step,
    complete_sign_in,
    end_other_sessions,
    end_session,
    second_step_for,
)
from .db import write_transaction
from .models import AuditEvent, User
from .security import safe_next
from .throttle import Throttled

bp = Blueprint("web_auth", __name__)

PENDING = "pending_sign_in"
PENDING_SECONDS = 10 * 60
WRONG = "That email and password do not match an active account."
WRONG_CODE = "That code did not work. Codes change every 30 seconds and each works once; try the newest one."


def _home_for(user) -> str:
    return url_for("coordinator.home") if user.is_coordinator and "coordinator.home" in _endpoints() else "/app/"


def _endpoints():
    from flask import current_app

    return current_app.view_functions


def _pending_user() -> tuple[User | None, dict]:
    """Who passed the password step in this browser in the last 10 minutes, and the note itself."""
    note = session.get(PENDING)
    if not isinstance(note, dict) or time.time() - note.get("at", 0) > PENDING_SECONDS:
        return None, {}
    user = User.get_or_none(User.uuid == note.get("user"))
    if user is None or not user.active:
        return None, {}
    return user, note


def _restart():
    """Step 2 without a fresh step 1 (it took over 10 minutes, or the page was opened directly)."""
    session.pop(PENDING, None)
    if request.method == "GET":
        return redirect(url_for("web_auth.login"))
    return render_template("login.html", next=None, email="", error="Your sign-in took too long. Please start "
                                                                      "again."), 400


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(next_url or _home_for(current_user))
        return render_template("login.html", next=next_url, email="", error=None)
    email = request.form.get("email", "")[:254]
    try:
        user = check_password(email, request.form.get("password", "")[:1024], via="web")
    except SignInFailed:
        return render_template("login.html", next=next_url, email=email, error=WRONG), 401
    except Throttled as exc:
        return _throttled(exc, email, next_url)
    step = second_step_for(user)
    if step is None:
        complete_sign_in(user, "web")
        return redirect(next_url or _home_for(user))
    session.clear()  # nothing of an earlier sign-in survives into this one
    session[PENDING] = {"user": str(user.uuid), "at": time.time(), "next": next_url, "step": step}
    if step == "setup":
        totp.start_setup(user)
        return redirect(url_for("web_auth.login_setup"))
    return redirect(url_for("web_auth.login_code"))


def _throttled(exc: Throttled, email: str, next_url: str | None):
    page = render_template("login.html", next=next_url, email=email, error=exc.message)
    return page, 429, {"Retry-After": str(exc.retry_after)}


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    user, note = _pending_user()
    if user is None or note.get("step") != "code":
        return _restart()
    if request.method == "GET":
        return render_template("login_code.html", error=None)
    try:
        how = check_second_step(user, request.form.get("one_time_code", "")[:40], via="web")
    except SignInFailed:
        return render_template("login_code.html", error=WRONG_CODE), 401
    except Throttled as exc:
        return render_template("login_code.html", error=exc.message), 429, {"Retry-After": str(exc.retry_after)}
    complete_sign_in(user, "web", how)
    left = totp.recovery_codes_left(user)
    target = note.get("next") or _home_for(user)
    if how == "recovery":
        return render_template("login_recovery_used.html", left=left, target=target)
    return redirect(target)


@bp.route("/login/setup", methods=["GET", "POST"])
def login_setup():
    """Step 2 for a coordinator or admin without an authenticator: set one up now (their role requires it)."""
    user, note = _pending_user()
    if user is None or note.get("step") != "setup":
        return _restart()
    secret = totp.pending_secret(user) or totp.start_setup(user)
    error = None
    if request.method == "POST":
        with write_transaction():
            codes = totp.finish_setup(user, request.form.get("one_time_code", "")[:40])
            if codes is not None:
                AuditEvent.record(user, "user.two_step_on", "user", user.uuid, detail="at sign-in")
        if codes is not None:
            complete_sign_in(user, "web", "code")
            with write_transaction():
                end_other_sessions(current_user._get_current_object())
            return render_template("recovery_codes.html", codes=codes, target=note.get("next") or _home_for(user),
                                   first_time=True)
        error = WRONG_CODE
    uri = totp.provisioning_uri(user, secret)
    page = render_template("login_setup.html", qr=totp.qr_svg(uri), key=totp.grouped(secret), error=error)
    return page, 400 if error else 200


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        end_session(current_user._get_current_object())
        logout_user()
    session.clear()
    return redirect(url_for("web_auth.login"))
