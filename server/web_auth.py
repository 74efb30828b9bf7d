"""The sign-in form for coordinator pages (/login, /logout): the same accounts and sessions as the API."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, logout_user

from .api.auth import _failed, login_limits
from .auth import authenticate, begin_login, end_session, normalise_email
from .extensions import limiter

bp = Blueprint("web_auth", __name__)


def _form_email_key() -> str:
    return "login-email:" + normalise_email(request.form.get("email", ""))


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _home_for(user) -> str:
    return url_for("coordinator.home") if user.is_coordinator and "coordinator.home" in _endpoints() else "/app/"


def _endpoints():
    from flask import current_app

    return current_app.view_functions


def _form_failed(response) -> bool:
    return _failed(response)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limits, deduct_when=_form_failed, methods=["POST"])
@limiter.limit(login_limits, key_func=_form_email_key, deduct_when=_form_failed, methods=["POST"])
def login():
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(next_url or _home_for(current_user))
        return render_template("login.html", next=next_url, email="", error=None)
    email = request.form.get("email", "")[:254]
    user = authenticate(email, request.form.get("password", "")[:1024])
    if user is None:
        error = "That email and password do not match an active account."
        return render_template("login.html", next=next_url, email=email, error=error), 401
    begin_login(user, kind="web")
    return redirect(next_url or _home_for(user))


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        end_session(current_user._get_current_object())
        logout_user()
    from flask import session

    session.clear()
    return redirect(url_for("web_auth.login"))
