"""Your account (/account/two-step): turn two-step sign-in on, move it to a new phone, get new recovery codes,
or (where the role allows) turn it off. Every change asks for the password again, and for a current code once
it is on, so a session left open on a shared computer cannot change it; a change ends the account's other
sessions. Required for coordinators and admins (auth.second_step_for); offered to peer workers."""

from __future__ import annotations

import time

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from . import totp
from .auth import SignInFailed, check_password, check_second_step, end_other_sessions
from .db import write_transaction
from .models import AuditEvent
from .throttle import Throttled

bp = Blueprint("account", __name__, url_prefix="/account")

REAUTH = "reauthenticated_at"
REAUTH_SECONDS = 10 * 60
WRONG = "That password, or that code, did not work. Codes change every 30 seconds and each works once."


def _me():
    return current_user._get_current_object()


def _page(error=None, status=200):
    me = _me()
    return render_template("account_two_step.html", me=me, on=me.has_two_step, required=not _optional_for(me),
                           left=totp.recovery_codes_left(me) if me.has_two_step else 0, error=error), status


def _optional_for(user) -> bool:
    from flask import current_app

    return not (user.is_coordinator and current_app.config["ALONGSIDE"].TOTP_REQUIRED)


def _reauthenticate() -> tuple[str, int] | None:
    """The password again, and a current code once two-step sign-in is on. None when both are right, else the
    message to show and its status (throttled and audited like a sign-in)."""
    me = _me()
    try:
        check_password(me.email, request.form.get("password", "")[:1024], via="account")
        if me.has_two_step:
            check_second_step(me, request.form.get("one_time_code", "")[:40], via="account")
    except SignInFailed:
        return WRONG, 401
    except Throttled as exc:
        return exc.message, 429
    session[REAUTH] = time.time()
    return None


def _recently_reauthenticated() -> bool:
    return time.time() - session.get(REAUTH, 0) <= REAUTH_SECONDS


def _record(action: str, detail: str = "") -> None:
    me = _me()
    AuditEvent.record(me, action, "user", me.uuid, detail=detail)


@bp.get("/two-step")
def two_step():
    return _page()


@bp.post("/two-step/start")
def start():
    """Turn on, or move to a new phone: after re-authenticating, a new secret waits for its first code."""
    error = _reauthenticate()
    if error:
        return _page(*error)
    totp.start_setup(_me())
    return redirect(url_for("account.setup"))


@bp.route("/two-step/setup", methods=["GET", "POST"])
def setup():
    me = _me()
    secret = totp.pending_secret(me)
    if secret is None or not _recently_reauthenticated():
        flash("Please confirm your password again to set up two-step sign-in.", "error")
        return redirect(url_for("account.two_step"))
    error = None
    if request.method == "POST":
        with write_transaction():
            codes = totp.finish_setup(me, request.form.get("one_time_code", "")[:40])
            if codes is not None:
                _record("user.two_step_on", "new phone" if me.has_two_step else "")
                ended = end_other_sessions(me)
        if codes is not None:
            session.pop(REAUTH, None)
            if ended:
                flash(f"Signed out of {ended} other session(s) of yours.", "ok")
            return render_template("recovery_codes.html", codes=codes, target=url_for("account.two_step"),
                                   first_time=True)
        error = "That code did not work. Type the newest code the app shows for Alongside."
    uri = totp.provisioning_uri(me, secret)
    page = render_template("account_setup.html", qr=totp.qr_svg(uri), key=totp.grouped(secret), error=error)
    return page, 400 if error else 200


@bp.post("/two-step/recovery-codes")
def recovery_codes():
    me = _me()
    if not me.has_two_step:
        return _page("Turn on two-step sign-in first.", 400)
    error = _reauthenticate()
    if error:
        return _page(*error)
    with write_transaction():
        codes = totp.new_recovery_codes(me)
        _record("user.recovery_codes")
    session.pop(REAUTH, None)
    return render_template("recovery_codes.html", codes=codes, target=url_for("account.two_step"), first_time=False)


@bp.post("/two-step/off")
def turn_off():
    me = _me()
    if not _optional_for(me):
        return _page("Coordinators and admins must keep two-step sign-in. To move it to a new phone, choose "
                     "“Set up a new phone”.", 403)
    if not me.has_two_step:
        return redirect(url_for("account.two_step"))
    error = _reauthenticate()
    if error:
        return _page(*error)
    with write_transaction():
        totp.turn_off(me)
        _record("user.two_step_off")
    session.pop(REAUTH, None)
    flash("Two-step sign-in is off. Your password alone now signs you in.", "ok")
    return redirect(url_for("account.two_step"))
