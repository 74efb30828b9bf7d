"""Sign-in for the field app: login, logout, me (the contract in DESIGN.md). The steps, throttling and audit are
auth.py's, shared with the /login form."""

from __future__ import annotations

from flask import session
from flask_login import current_user, logout_user
from flask_smorest import Blueprint
from flask_wtf.csrf import generate_csrf
from marshmallow import Schema, fields, validate

from ..auth import SignInFailed, check_password, check_second_step, complete_sign_in, end_session, second_step_for
from ..errors import ApiError
from ..extensions import ErrorSchema
from ..schemas import Text
from ..throttle import Throttled

blp = Blueprint("auth_api", __name__, url_prefix="/api/v1/auth", description="Sign-in for the field app")

WRONG = "That email and password do not match an active account."


class LoginSchema(Schema):
    email = Text(required=True, validate=validate.Length(min=1, max=254))  # Text: no NUL, which PostgreSQL refuses
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    one_time_code = fields.String(validate=validate.Length(max=40), metadata={
        "description": "The 6-digit code from the user's authenticator app, or one of their recovery codes; "
                       "needed when the first answer was 401 second_step_required"})


class UserSchema(Schema):
    id = fields.String()
    name = fields.String()
    role = fields.String()


class SessionSchema(Schema):
    user = fields.Nested(UserSchema)
    csrf_token = fields.String()


def throttled(exc: Throttled) -> ApiError:
    return ApiError(429, "too_many_requests", exc.message, retry_after=exc.retry_after)


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, SessionSchema)
@blp.alt_response(401, schema=ErrorSchema, description="invalid_credentials (the same answer for a wrong password "
                  "and an unknown email); second_step_required (send one_time_code too); invalid_code")
@blp.alt_response(403, schema=ErrorSchema, description="second_step_setup_required: a coordinator or admin must "
                  "first set up an authenticator app by signing in at /login")
@blp.alt_response(429, schema=ErrorSchema, description="Too many failed attempts for this account or address: "
                  "the message and Retry-After say how long to wait (the right password waits too)")
def login(args):
    """Sign in with email and password (and a one-time code where two-step sign-in applies); answers with the
    user and the CSRF token for writes."""
    try:
        user = check_password(args["email"], args["password"], via="app")
        step = second_step_for(user)
        how = "password"
        if step == "setup":
            raise ApiError(403, "second_step_setup_required",
                           "Your account needs two-step sign-in. Sign in once at /login on a computer to set up "
                           "an authenticator app, then sign in here.")
        if step == "code":
            if not args.get("one_time_code"):
                raise ApiError(401, "second_step_required",
                               "Enter the 6-digit code from your authenticator app, or a recovery code.",
                               {"one_time_code": ["Needed for this account."]})
            try:
                how = check_second_step(user, args["one_time_code"], via="app")
            except SignInFailed as exc:
                raise ApiError(401, "invalid_code", "That code did not work. Codes change every 30 seconds; "
                                                    "each works once.") from exc
    except SignInFailed as exc:
        raise ApiError(401, "invalid_credentials", WRONG) from exc
    except Throttled as exc:
        raise throttled(exc) from exc
    complete_sign_in(user, "app", how)
    return {"user": user.public(), "csrf_token": generate_csrf()}


@blp.route("/logout", methods=["POST"])
@blp.response(204)
def logout():
    """End this session on the server (and retire the field device it used: the phone wipes itself on signing
    out); a replayed copy of the cookie is then useless."""
    if current_user.is_authenticated:
        end_session(current_user._get_current_object(), retire_devices=True)
        logout_user()
    session.clear()


@blp.route("/me", methods=["GET"])
@blp.response(200, SessionSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
def me():
    """The signed-in user and a CSRF token for writes."""
    return {"user": current_user.public(), "csrf_token": generate_csrf()}
