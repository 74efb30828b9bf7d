"""Deny by default: the one allow-list of public endpoints, CSRF on every write, role checks, and the
security headers every response carries."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, redirect, request, url_for
from flask_login import current_user

from .errors import ApiError
from .extensions import csrf

# Endpoints anyone may reach. Everything else needs a signed-in user.
PUBLIC_ENDPOINTS = {
    "static",
    "health",
    "favicon",
    "index",  # only redirects: coordinators to their pages, everyone else to the app (which signs in)
    "auth_api.login",
    "auth_api.logout",  # signing out without a session is a harmless no-op
    "web_auth.login",
    "web_auth.login_code",  # step 2 of signing in: guarded by the signed note that step 1 was passed
    "web_auth.login_setup",
    "web_auth.logout",
    "api-docs.openapi_json",
    "coordinator.invite.accept",  # a new user sets their password from a signed, single-use invite link
}
# Blueprints that are public as a whole: the app shell (no data in it) and the person supported's pages,
# which are guarded by their own single-use invite or device cookie instead of a sign-in.
# The Open Referral UK feed guards itself: off, public or behind its own token (a setting; see oruk/feed.py).
PUBLIC_BLUEPRINTS = {"pwa", "person_pages", "oruk_feed"}

# Writes that carry no CSRF token: JSON sign-in (a cross-site form cannot send application/json, and
# there is no session yet to bind a token to) and the person's push subscribe (guarded by its own cookie).
CSRF_EXEMPT_ENDPOINTS = {"auth_api.login"}
CSRF_EXEMPT_BLUEPRINTS: set[str] = set()
# Signing out with no session is a no-op with nothing to protect (a phone whose session already expired).
CSRF_EXEMPT_WHEN_ANONYMOUS = {"auth_api.logout", "web_auth.logout"}

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

CSP = "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
NO_STORE_PREFIXES = ("/api/", "/coordinator", "/login", "/logout", "/r/", "/account")


def is_public(endpoint: str | None) -> bool:
    if endpoint is None:  # no route matched: let the 404/405 handler answer
        return True
    blueprint = endpoint.rsplit(".", 1)[0] if "." in endpoint else None
    return endpoint in PUBLIC_ENDPOINTS or blueprint in PUBLIC_BLUEPRINTS


def _needs_csrf(endpoint: str | None) -> bool:
    if request.method in SAFE_METHODS or endpoint is None:
        return False
    if endpoint in CSRF_EXEMPT_WHEN_ANONYMOUS and not current_user.is_authenticated:
        return False
    blueprint = endpoint.rsplit(".", 1)[0] if "." in endpoint else None
    return endpoint not in CSRF_EXEMPT_ENDPOINTS and blueprint not in CSRF_EXEMPT_BLUEPRINTS


def _named_device_revoked() -> bool:
    """Does this (signed-out) API request name a field device that has been revoked? Revoking a device ends
    its sessions, so the phone's next contact comes without one: it must still learn to wipe itself."""
    from .access import parse_uuid
    from .models import Device

    body = request.get_json(silent=True) if request.is_json else None
    names = [request.headers.get("X-Device-Id"), (request.view_args or {}).get("device_id"),
             body.get("device_id") if isinstance(body, dict) else None]
    ids = [parsed for parsed in (parse_uuid(n) for n in names if isinstance(n, str)) if parsed is not None]
    return bool(ids) and Device.select().where(Device.uuid.in_(ids) & Device.revoked_at.is_null(False)).exists()


def enforce_access():
    endpoint = request.endpoint
    if not is_public(endpoint) and not current_user.is_authenticated:
        if request.path.startswith("/api/"):
            if _named_device_revoked():
                from .api.devices import REVOKED

                raise ApiError(403, "device_revoked", REVOKED)
            raise ApiError(401, "unauthorized", "Please sign in.")
        return redirect(url_for("web_auth.login", next=request.full_path if request.query_string else request.path))
    if _needs_csrf(endpoint):
        csrf.protect()
    return None


def role_required(*roles: str):
    """For a view: the signed-in user must hold one of these roles (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                abort(401)
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def require_role_for_blueprint(bp, *roles: str) -> None:
    """Every route of this blueprint needs one of these roles (checked after deny-by-default)."""

    @bp.before_request
    def _check_role():
        if current_user.is_authenticated and current_user.role not in roles:
            abort(403)


def add_security_headers(response):
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h["X-Content-Type-Options"] = "nosniff"
    h["Referrer-Policy"] = "no-referrer"
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    from flask import current_app

    if request.is_secure or current_app.config["ALONGSIDE"].HTTPS:
        h["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    if request.path.startswith(NO_STORE_PREFIXES):
        h["Cache-Control"] = "no-store"
        h["Pragma"] = "no-cache"
    return response


def init_app(app) -> None:
    cfg = app.config["ALONGSIDE"]
    app.config.update(
        WTF_CSRF_TIME_LIMIT=None,  # valid for the life of the session: a phone may replay its outbox hours later
        WTF_CSRF_CHECK_DEFAULT=False,  # checked in enforce_access, after the sign-in check
        WTF_CSRF_SSL_STRICT=False,  # Referrer-Policy: no-referrer means no Referer to check; the token suffices
        WTF_CSRF_HEADERS=["X-CSRF-Token", "X-CSRFToken"],
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=cfg.HTTPS,
        SESSION_COOKIE_NAME="alongside_session",
    )
    csrf.init_app(app)
    app.before_request(enforce_access)
    from . import json_input

    json_input.init_app(app)  # after the sign-in and CSRF checks: text that cannot be stored is refused
    app.after_request(add_security_headers)


def safe_next(target: str | None, prefix: str = "/") -> str | None:
    """A place on this site to go back to after a form (`next`), or None: a path under `prefix` only, never
    another site (`//evil.example`, `https://...`), so a link cannot send someone away after signing in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith(prefix) or target.startswith("//") or "//" in target:
        return None
    return target
