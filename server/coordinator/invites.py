"""Invite links for new accounts: a signed, expiring token bound to the account's current password hash,
so it works once (setting the password changes the hash) and a re-invite voids older links. The accept
page is public (listed in security.PUBLIC_ENDPOINTS); everything else here needs a coordinator."""

from __future__ import annotations

import hashlib

from flask import Blueprint, current_app, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..auth import revoke_all_sessions
from ..db import write_transaction
from ..models import AuditEvent, User
from ..passwords import hash_password, password_problem

invite_bp = Blueprint("invite", __name__, url_prefix="/invite")
MAX_AGE_SECONDS = 7 * 24 * 3600
SALT = "alongside-user-invite"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:20]


def invite_url(user: User) -> str:
    token = _serializer().dumps([str(user.uuid), _fingerprint(user)])
    return url_for("coordinator.invite.accept", token=token, _external=True)


def user_for_token(token: str) -> User | None:
    try:
        user_id, fingerprint = _serializer().loads(token, max_age=MAX_AGE_SECONDS)
    except (BadSignature, ValueError, TypeError):
        return None
    user = User.get_or_none(User.uuid == user_id) if isinstance(user_id, str) and len(user_id) == 36 else None
    if user is None or not user.active or _fingerprint(user) != fingerprint:
        return None
    return user


@invite_bp.route("/<token>", methods=["GET", "POST"])
def accept(token):
    user = user_for_token(token[:500])
    if user is None:
        return render_template("coordinator/invite_accept.html", user=None, error=None), 404
    if request.method == "GET":
        return render_template("coordinator/invite_accept.html", user=user, error=None)
    password = request.form.get("password", "")[:1024]
    error = password_problem(password, user.email)
    if not error and password != request.form.get("password_again", ""):
        error = "The two passwords are not the same."
    if error:
        return render_template("coordinator/invite_accept.html", user=user, error=error), 400
    with write_transaction():
        User.update(password_hash=hash_password(password)).where(User.id == user.id).execute()
        revoke_all_sessions(user)
        AuditEvent.record(user, "user.accept_invite", "user", user.uuid, team=user.team_id)
    return render_template("coordinator/invite_accept.html", user=user, error=None, done=True)
