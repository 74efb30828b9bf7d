"""Sign-in for the field app: login, logout, me (the contract in DESIGN.md)."""

from __future__ import annotations

from flask import request
from flask_login import current_user, logout_user
from flask_smorest import Blueprint
from flask_wtf.csrf import generate_csrf
from marshmallow import Schema, fields, validate

from ..auth import authenticate, begin_login, end_session, normalise_email
from ..errors import ApiError
from ..extensions import limiter
from ..schemas import Text

blp = Blueprint("auth_api", __name__, url_prefix="/api/v1/auth", description="Sign-in for the field app")


class LoginSchema(Schema):
    email = Text(required=True, validate=validate.Length(min=1, max=254))  # Text: no NUL, which PostgreSQL refuses
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class UserSchema(Schema):
    id = fields.String()
    name = fields.String()
    role = fields.String()


class SessionSchema(Schema):
    user = fields.Nested(UserSchema)
    csrf_token = fields.String()


def _email_key() -> str:
    data = request.get_json(silent=True)
    email = data.get("email") if isinstance(data, dict) else None
    return "login-email:" + normalise_email(email if isinstance(email, str) else "")


def _failed(response) -> bool:
    return response.status_code == 401


def login_limits():
    from flask import current_app

    return f"{current_app.config['ALONGSIDE'].LOGIN_FAILURES_PER_MINUTE}/minute"


@blp.route("/login", methods=["POST"])
@limiter.limit(login_limits, deduct_when=_failed)  # per address (the limiter's default key)
@limiter.limit(login_limits, key_func=_email_key, deduct_when=_failed)  # per account
@blp.arguments(LoginSchema)
@blp.response(200, SessionSchema)
@blp.alt_response(401, description="Wrong email or password (the same answer for both)")
@blp.alt_response(429, description="Too many failed attempts")
def login(args):
    """Sign in with email and password; answers with the user and the CSRF token for writes."""
    user = authenticate(args["email"], args["password"])
    if user is None:
        raise ApiError(401, "invalid_credentials", "That email and password do not match an active account.")
    begin_login(user, kind="app")
    return {"user": user.public(), "csrf_token": generate_csrf()}


@blp.route("/logout", methods=["POST"])
@blp.response(204)
def logout():
    """End this session on the server; a replayed copy of the cookie is then useless."""
    if current_user.is_authenticated:
        end_session(current_user._get_current_object())
        logout_user()
    from flask import session

    session.clear()


@blp.route("/me", methods=["GET"])
@blp.response(200, SessionSchema)
@blp.alt_response(401, description="Not signed in")
def me():
    """The signed-in user and a CSRF token for writes."""
    return {"user": current_user.public(), "csrf_token": generate_csrf()}
