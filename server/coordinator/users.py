"""Users and devices: admins manage everyone; coordinators manage their own team's peer workers (never another
coordinator or an admin, whose account could read the team). Create a user with an initial password or an
invite link, change role (and team, for admins), deactivate (which ends every session and revokes their
devices), reset two-step sign-in, see each user's devices with their last sync, revoke a device (every sign-in
that used it ends; the sync engine answers device_revoked and the phone wipes itself)."""

from __future__ import annotations

import secrets

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from peewee import IntegrityError, fn

from .. import totp
from ..auth import deactivate_user, end_device_sessions, normalise_email, revoke_all_sessions
from ..db import utcnow, write_transaction
from ..models import ROLES, Device, Team, User
from ..passwords import hash_password, password_problem
from . import bp
from .access import (
    BadInput,
    audit,
    clean_text,
    get_device_or_404,
    get_team_or_404,
    get_user_or_404,
    is_admin,
    parse_page,
    teams_in_scope,
    users,
)
from .invites import invite_url

PAGE_SIZE = 100
ROLE_LABELS = {"peer_worker": "Peer worker", "coordinator": "Coordinator", "admin": "Admin"}


def roles_i_can_give() -> tuple[str, ...]:
    return ROLES if is_admin() else ("peer_worker",)


def can_manage(user: User) -> bool:
    """Admins manage everyone; a coordinator only peer workers (of their own team: lookups are team-scoped)."""
    return is_admin() or user.role == "peer_worker"


def check_can_manage(user: User) -> None:
    """Refuse (403) what can_manage() refuses; nobody demotes or locks out themselves (not_myself)."""
    if not can_manage(user):
        abort(403)


def not_myself(user: User, what: str) -> None:
    if user.id == current_user.id:
        raise BadInput(f"You cannot {what} your own account. Ask another coordinator or an admin.")


@bp.get("/users")
def user_list():
    page = parse_page(request.args.get("page"))
    show = request.args.get("show", "active")
    if show not in ("active", "inactive", "all"):
        raise BadInput("Show: choose active, inactive or all.")
    query = users()
    if show != "all":
        query = query.where(User.active == (show == "active"))
    device_count = (Device.select(fn.COUNT(Device.id))
                    .where((Device.user == User.id) & Device.revoked_at.is_null()))
    last_sync = Device.select(fn.MAX(Device.last_sync_at)).where(Device.user == User.id)
    rows = list(query.select_extend(device_count.alias("devices"), last_sync.alias("last_sync"))
                .order_by(fn.LOWER(User.name), User.id).limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE))
    teams = {t.id: t.name for t in Team.select()}
    return render_template("coordinator/users.html", users=rows[:PAGE_SIZE], more=len(rows) > PAGE_SIZE, page=page,
                           show=show, teams=teams, role_labels=ROLE_LABELS, admin=is_admin())


def _new_user_fields(form) -> dict:
    email = normalise_email(form.get("email"))
    if "@" not in email or " " in email or len(email) > 254 or email.startswith("@") or email.endswith("@"):
        raise BadInput("Email: please give a valid email address.")
    role = form.get("role", "")
    if role not in roles_i_can_give():
        raise BadInput("Role: choose peer worker, coordinator or admin." if is_admin() else
                       "Role: coordinators add peer workers; ask an admin to add a coordinator.")
    if is_admin():
        team = get_team_or_404(form.get("team")) if form.get("team") else None
        if team is None and role != "admin":
            raise BadInput("Team: peer workers and coordinators need a team.")
    else:
        team = current_user.team
        if team is None:
            raise BadInput("You are not in a team, so you cannot add users. Ask an admin.")
    return {"email": email, "name": clean_text(form.get("name"), "Name", 120, required=True), "role": role,
            "team": team}


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    if request.method == "GET":
        return render_template("coordinator/user_form.html", roles=roles_i_can_give(), role_labels=ROLE_LABELS,
                               teams=list(teams_in_scope()) if is_admin() else [], admin=is_admin())
    fields = _new_user_fields(request.form)
    invite = request.form.get("method", "invite") == "invite"
    if invite:
        password_hash = hash_password(secrets.token_urlsafe(32))  # unusable until the invite is accepted
    else:
        password = request.form.get("password", "")
        if password != request.form.get("password_again", ""):
            raise BadInput("The two passwords are not the same.")
        problem = password_problem(password, fields["email"])
        if problem:
            raise BadInput(f"Password: {problem}")
        password_hash = hash_password(password)
    if User.get_or_none(User.email == fields["email"]) is not None:
        raise BadInput("There is already an account with that email address.")
    try:
        with write_transaction():
            user = User.create(password_hash=password_hash, **fields)
            audit("user.create", "user", user.uuid, team=user.team_id, detail=f"role {user.role}")
    except IntegrityError as exc:
        raise BadInput("There is already an account with that email address.") from exc
    if invite:
        return render_template("coordinator/user_invite.html", user=user, link=invite_url(user))
    flash(f"Account for {user.name} created. Give them their password in person.", "ok")
    return redirect(url_for("coordinator.user_detail", user_id=user.uuid))


@bp.get("/users/<user_id>")
def user_detail(user_id):
    user = get_user_or_404(user_id)
    devices = list(Device.select().where(Device.user == user).order_by(Device.created_at.desc()))
    return render_template("coordinator/user_detail.html", user=user, devices=devices, roles=roles_i_can_give(),
                           role_labels=ROLE_LABELS, teams=list(teams_in_scope()) if is_admin() else [],
                           admin=is_admin(), can_manage=can_manage(user),
                           recovery_left=totp.recovery_codes_left(user) if user.has_two_step else 0)


@bp.post("/users/<user_id>/role")
def user_role(user_id):
    user = get_user_or_404(user_id)
    not_myself(user, "change the role of")
    check_can_manage(user)
    role = request.form.get("role", "")
    if role not in roles_i_can_give():
        raise BadInput("Role: choose one of the roles offered.")
    team = user.team
    if is_admin() and "team" in request.form:
        team = get_team_or_404(request.form["team"]) if request.form["team"] else None
    if team is None and role != "admin":
        raise BadInput("Team: peer workers and coordinators need a team.")
    with write_transaction():
        User.update(role=role, team=team).where(User.id == user.id).execute()
        audit("user.role", "user", user.uuid, team=team.id if team else None, detail=f"role {role}")
    flash(f"{user.name} is now a {ROLE_LABELS[role].lower()}.", "ok")
    return redirect(url_for("coordinator.user_detail", user_id=user.uuid))


def _deactivate_page(user: User, status: int = 200, problem: str = ""):
    devices = list(Device.select().where((Device.user == user) & Device.revoked_at.is_null())
                   .order_by(Device.created_at.desc()))
    return render_template("coordinator/user_deactivate.html", user=user, devices=devices, problem=problem), status


@bp.get("/users/<user_id>/deactivate")
def user_deactivate_confirm(user_id):
    """The confirmation step: what deactivating does (sessions end, phones wiped with anything not yet
    synced), then a form that says so explicitly."""
    user = get_user_or_404(user_id)
    not_myself(user, "deactivate")
    check_can_manage(user)
    if not user.active:
        flash(f"{user.name} is already deactivated.", "ok")
        return redirect(url_for("coordinator.user_detail", user_id=user.uuid))
    return _deactivate_page(user)


@bp.post("/users/<user_id>/deactivate")
def user_deactivate(user_id):
    """Acts only with the confirmation page's explicit `confirm=yes`: a bare POST (an old form, a stray
    click, a script) shows the confirmation again and changes nothing."""
    user = get_user_or_404(user_id)
    not_myself(user, "deactivate")
    check_can_manage(user)
    if not user.active:
        flash(f"{user.name} is already deactivated.", "ok")
        return redirect(url_for("coordinator.user_detail", user_id=user.uuid))
    if request.form.get("confirm") != "yes":
        return _deactivate_page(user, 400, "Nothing has changed yet. Please confirm below.")
    with write_transaction():
        ended, wiped = deactivate_user(user, by=current_user._get_current_object())
        audit("user.deactivate", "user", user.uuid, team=user.team_id, detail=f"sessions {ended}, devices {wiped}")
    flash(f"{user.name} can no longer sign in. {ended} session(s) ended, {wiped} device(s) will be wiped.", "ok")
    return redirect(url_for("coordinator.user_detail", user_id=user.uuid))


@bp.post("/users/<user_id>/reactivate")
def user_reactivate(user_id):
    user = get_user_or_404(user_id)
    check_can_manage(user)
    with write_transaction():
        User.update(active=True).where(User.id == user.id).execute()
        audit("user.reactivate", "user", user.uuid, team=user.team_id)
    flash(f"{user.name} can sign in again.", "ok")
    return redirect(url_for("coordinator.user_detail", user_id=user.uuid))


@bp.post("/users/<user_id>/invite")
def user_reinvite(user_id):
    """A fresh invite link; any earlier link stops working because the password hash changes."""
    user = get_user_or_404(user_id)
    not_myself(user, "re-invite")
    check_can_manage(user)
    with write_transaction():
        User.update(password_hash=hash_password(secrets.token_urlsafe(32))).where(User.id == user.id).execute()
        revoke_all_sessions(user)
        audit("user.invite", "user", user.uuid, team=user.team_id)
    user = User.get_by_id(user.id)
    return render_template("coordinator/user_invite.html", user=user, link=invite_url(user))


@bp.post("/users/<user_id>/two-step/reset")
def user_two_step_reset(user_id):
    """Lost phone and recovery codes: remove their authenticator; they set up a new one at their next sign-in
    (coordinators and admins must). Their sessions end, so the reset cannot be used while signed in."""
    user = get_user_or_404(user_id)
    not_myself(user, "reset two-step sign-in for")
    check_can_manage(user)
    with write_transaction():
        totp.turn_off(user)
        ended = revoke_all_sessions(user)
        audit("user.two_step_reset", "user", user.uuid, team=user.team_id, detail=f"sessions {ended}")
    flash(f"Two-step sign-in reset for {user.name}. They set it up again when they next sign in.", "ok")
    return redirect(url_for("coordinator.user_detail", user_id=user.uuid))


def _revoke_page(device: Device, status: int = 200, problem: str = ""):
    return render_template("coordinator/device_revoke.html", device=device, owner=device.user,
                           problem=problem), status


@bp.get("/devices/<device_id>/revoke")
def device_revoke_confirm(device_id):
    """The confirmation step: revoking wipes the phone at its next contact, with anything on it not yet synced
    (a lost or stolen phone, or one handed back). Looking changes nothing."""
    device = get_device_or_404(device_id)
    check_can_manage(device.user)
    if device.revoked_at is not None:
        flash(f"“{device.name}” is already revoked.", "ok")
        return redirect(url_for("coordinator.user_detail", user_id=device.user.uuid))
    return _revoke_page(device)


@bp.post("/devices/<device_id>/revoke")
def device_revoke(device_id):
    """Acts only with the confirmation page's explicit `confirm=yes`, as deactivating does: a stray click on an
    old one-click form shows the confirmation again and wipes nothing."""
    device = get_device_or_404(device_id)
    check_can_manage(device.user)
    if device.revoked_at is None:
        if request.form.get("confirm") != "yes":
            return _revoke_page(device, 400, "Nothing has changed yet. Please confirm below.")
        with write_transaction():
            (Device.update(revoked_at=utcnow(), revoked_by=current_user.id)
             .where(Device.id == device.id).execute())
            ended = end_device_sessions(device)
            audit("device.revoke", "device", device.uuid, team=device.user.team_id, detail=f"sessions {ended}")
    flash(f"“{device.name}” is revoked: its next contact wipes the data on it.", "ok")
    return redirect(url_for("coordinator.user_detail", user_id=device.user.uuid))


@bp.post("/teams/new")
def team_new():
    """Admins add teams (coordinators work within their own)."""
    if not is_admin():
        abort(403)
    name = clean_text(request.form.get("name"), "Team name", 120, required=True)
    if Team.get_or_none(fn.LOWER(Team.name) == name.lower()) is not None:
        raise BadInput("There is already a team with that name.")
    try:
        with write_transaction():
            team = Team.create(name=name)
            audit("team.create", "team", team.uuid, team=team.id)
    except IntegrityError as exc:
        raise BadInput("There is already a team with that name.") from exc
    flash(f"Team “{name}” added. Add its coordinator and workers next.", "ok")
    return redirect(url_for("coordinator.user_list"))


@bp.post("/users/<user_id>/work-phone")
def user_work_phone(user_id):
    """The work phone number coordinators call for lone-working follow-up (issue 14): set by a coordinator
    for their team's workers, by anyone for their own account, and by the worker in the field app."""
    from ..work_phone import PhoneError, clean_work_phone

    user = get_user_or_404(user_id)
    if user.id != current_user.id:
        check_can_manage(user)
    try:
        phone = clean_work_phone(request.form.get("work_phone", ""))
    except PhoneError as exc:
        raise BadInput(str(exc)) from exc
    with write_transaction():
        User.update(work_phone=phone).where(User.id == user.id).execute()
        audit("user.work_phone", "user", user.uuid, team=user.team_id)
    flash(f"Work phone for {user.name} {'saved' if phone else 'removed'}.", "ok")
    return redirect(url_for("coordinator.user_detail", user_id=user.uuid))
