"""Pages for people supported (/r/...): opt in to reminders with consent, see upcoming ones, set quiet
hours, stop them. No password: a single-use invite link (72 h) and then a long-lived random device
cookie (only hashes stored). The blueprint is public as a whole, so every view checks its own token.
No names and no health details on any of these pages."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import ipaddress
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from . import reminder_schedule as schedule
from .db import utcnow, write_transaction
from .models import AuditEvent, Consent, Invite, Person, PushSubscription, ReminderDevice
from .sync.revisions import next_rev

bp = Blueprint("person_pages", __name__, url_prefix="/r")

INVITE_LIFETIME = dt.timedelta(hours=72)
DEVICE_COOKIE = "alongside_reminders"
DEVICE_COOKIE_MAX_AGE = 400 * 24 * 3600  # the longest a browser keeps a cookie
STATIC = Path(__file__).resolve().parent / "static" / "person"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- invites, consent, withdrawal: plain functions (the invites API uses them too) -----------

def create_invite(person: Person, by, now: dt.datetime | None = None) -> tuple[str, Invite]:
    """A single-use link for 72 hours; only the token's hash is kept. Inside a write transaction."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    invite = Invite.create(token_hash=hash_token(token), person=person, created_by=by,
                           created_at=now, expires_at=now + INVITE_LIFETIME)
    AuditEvent.record(by, "reminders.invite", "person", person.uuid)
    return token, invite


def find_invite(token: str, now: dt.datetime | None = None) -> Invite | None:
    """The invite for this token if it is unused and unexpired; None for anything else."""
    if not token or len(token) > 100:
        return None
    invite = Invite.get_or_none(Invite.token_hash == hash_token(token))
    now = now or utcnow()
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        return None
    return invite


class SubscriptionError(ValueError):
    pass


def _b64url(value, size: int | None = None) -> bytes:
    if not isinstance(value, str) or len(value) > 200:
        raise SubscriptionError("bad key")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise SubscriptionError("bad key") from exc
    if size is not None and len(raw) != size:
        raise SubscriptionError("bad key")
    return raw


def clean_subscription(data, allow_local: bool) -> dict:
    """A browser PushSubscription's JSON, checked: an https push service (plain http and private
    addresses only outside production, for tests), a P-256 point and a 16-byte auth secret."""
    if not isinstance(data, dict) or not isinstance(data.get("keys"), dict):
        raise SubscriptionError("subscription missing")
    endpoint = data.get("endpoint")
    if not isinstance(endpoint, str) or len(endpoint) > 2000:
        raise SubscriptionError("bad endpoint")
    parts = urlsplit(endpoint)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise SubscriptionError("bad endpoint")
    if not allow_local:
        if parts.scheme != "https" or parts.hostname == "localhost":
            raise SubscriptionError("bad endpoint")
        try:
            address = ipaddress.ip_address(parts.hostname)
        except ValueError:
            address = None  # a host name, as push services use
        if address is not None and not address.is_global:
            raise SubscriptionError("bad endpoint")
    p256dh = data["keys"].get("p256dh")
    auth = data["keys"].get("auth")
    point = _b64url(p256dh, 65)
    if point[0] != 4:
        raise SubscriptionError("bad key")
    _b64url(auth, 16)
    return {"endpoint": endpoint, "p256dh": p256dh, "auth": auth}


def save_subscription(person: Person, device: ReminderDevice, sub: dict) -> PushSubscription:
    """Insert or move (same endpoint) a subscription to this person and device."""
    endpoint_hash = hash_token(sub["endpoint"])
    row = PushSubscription.get_or_none(PushSubscription.endpoint_hash == endpoint_hash)
    if row is None:
        return PushSubscription.create(person=person, device=device, endpoint=sub["endpoint"],
                                       endpoint_hash=endpoint_hash, p256dh=sub["p256dh"], auth=sub["auth"])
    row.person, row.device, row.p256dh, row.auth = person, device, sub["p256dh"], sub["auth"]
    row.save()
    return row


def _set_opt_in(person: Person, value: bool) -> None:
    if person.reminders_opt_in == value:
        return
    person.reminders_opt_in = value
    person.rev = next_rev()  # devices learn of it on their next pull
    person.updated_at = utcnow()
    person.save(only=[Person.reminders_opt_in, Person.rev, Person.updated_at])


def give_consent(token: str, sub: dict, label: str, text_version: str) -> tuple[str, ReminderDevice] | None:
    """Use the invite (once), record consent, keep the subscription, turn reminders on and schedule
    them. Returns (device cookie token, device), or None when the invite is no longer usable."""
    now = utcnow()
    with write_transaction():
        used = (Invite.update(used_at=now)
                .where((Invite.token_hash == hash_token(token)) & Invite.used_at.is_null()
                       & (Invite.expires_at > now))
                .execute())
        if used != 1:
            return None
        invite = Invite.get(Invite.token_hash == hash_token(token))
        person = Person.get_by_id(invite.person_id)
        cookie = secrets.token_urlsafe(32)
        device = ReminderDevice.create(token_hash=hash_token(cookie), person=person, label=label[:80],
                                       last_seen_at=now)
        Consent.create(person=person, device=device, text_version=text_version, given_at=now)
        save_subscription(person, device, sub)
        _set_opt_in(person, True)
        schedule.refresh_person(person)
        AuditEvent.record(None, "reminders.consent", "person", person.uuid, team=person.team_id,
                          detail=f"text {text_version}")
    return cookie, device


def withdraw(person: Person, actor=None) -> None:
    """Stop all reminders: subscriptions removed, devices revoked, consent withdrawn, pending
    reminders cancelled. Call inside a write transaction."""
    now = utcnow()
    PushSubscription.delete().where(PushSubscription.person == person.id).execute()
    (ReminderDevice.update(revoked_at=now)
     .where((ReminderDevice.person == person.id) & ReminderDevice.revoked_at.is_null()).execute())
    (Consent.update(withdrawn_at=now)
     .where((Consent.person == person.id) & Consent.withdrawn_at.is_null()).execute())
    _set_opt_in(person, False)
    schedule.cancel_pending(person)
    AuditEvent.record(actor, "reminders.withdraw", "person", person.uuid, team=person.team_id)


# --- the device cookie -------------------------------------------------------------------------

def current_device() -> ReminderDevice | None:
    token = request.cookies.get(DEVICE_COOKIE, "")
    if not token or len(token) > 100:
        return None
    device = ReminderDevice.get_or_none(ReminderDevice.token_hash == hash_token(token))
    if device is None or device.revoked_at is not None:
        return None
    return device


def _set_device_cookie(response, token: str) -> None:
    response.set_cookie(DEVICE_COOKIE, token, max_age=DEVICE_COOKIE_MAX_AGE, path="/r/", httponly=True,
                        samesite="Lax", secure=current_app.config["ALONGSIDE"].HTTPS)


def _allow_local_endpoints() -> bool:
    cfg = current_app.config["ALONGSIDE"]
    return bool(cfg.extra.get("REMINDER_ALLOW_LOCAL_ENDPOINTS", not cfg.is_production))


def _calm(status: int = 404):
    return make_response(render_template("person/unavailable.html"), status)


def _json_error(status: int, code: str, message: str):
    response = jsonify({"code": code, "message": message, "errors": {}})
    response.status_code = status
    return response


def _vapid_key() -> str:
    return current_app.config["ALONGSIDE"].extra["VAPID_PUBLIC_KEY"]


def _when(value: dt.datetime) -> str:
    local = schedule.to_local(value)
    return f"{local.strftime('%A')} {local.day} {local.strftime('%B')}, {local.strftime('%H:%M')}"


# --- views ---------------------------------------------------------------------------------

@bp.get("/sw.js")
def service_worker():
    """The person's own tiny service worker, scope /r/ (separate from the field app's)."""
    response = send_file(STATIC / "sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/r/"
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    return _manifest(url_for("person_pages.home"))


@bp.get("/<token>/manifest.webmanifest")
def invite_manifest(token):
    # iPhone: "Add to Home Screen" from the invite page must open the invite again, inside the app.
    return _manifest(url_for("person_pages.invite", token=token))


def _manifest(start_url: str):
    response = jsonify({
        "name": "Alongside reminders",
        "short_name": "Reminders",
        "start_url": start_url,
        "scope": "/r/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#2f5d50",
        "icons": [{"src": url_for("static", filename="person/icon.svg"), "sizes": "any",
                   "type": "image/svg+xml"}],
    })
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/vapid-public-key")
def vapid_public_key():
    """The application server key the browser subscribes with (public by nature)."""
    return jsonify({"public_key": _vapid_key()})


@bp.get("/<token>")
def invite(token):
    invite_row = find_invite(token)
    if invite_row is None:
        device = current_device()
        if device is not None:  # the home-screen app reopening its (now used) invite link
            used = Invite.get_or_none(Invite.token_hash == hash_token(token))
            if used is not None and used.person_id == device.person_id:
                return redirect(url_for("person_pages.home"))
        return _calm()
    settings = schedule.settings_for(Person.get_by_id(invite_row.person_id))
    return render_template("person/consent.html", token=token, vapid_key=_vapid_key(), settings=settings,
                           text_version=schedule.CONSENT_TEXT_VERSION,
                           manifest_url=url_for("person_pages.invite_manifest", token=token),
                           expires=_when(invite_row.expires_at))


@bp.post("/<token>/consent")
def consent(token):
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return _json_error(400, "bad_request", "Send JSON.")
    if data.get("text_version") != schedule.CONSENT_TEXT_VERSION:
        return _json_error(409, "consent_text_changed", "The page has changed. Please reload it and read it again.")
    try:
        sub = clean_subscription(data.get("subscription"), _allow_local_endpoints())
    except SubscriptionError:
        return _json_error(422, "bad_subscription", "This phone could not be set up for reminders.")
    label = data.get("label") if isinstance(data.get("label"), str) else ""
    outcome = give_consent(token, sub, label.strip(), schedule.CONSENT_TEXT_VERSION)
    if outcome is None:
        return _json_error(404, "link_unavailable", "This link cannot be used any more.")
    cookie, _device = outcome
    response = jsonify({"ok": True, "next": url_for("person_pages.home")})
    _set_device_cookie(response, cookie)
    return response


@bp.get("/")
def home():
    device = current_device()
    if device is None:
        return _calm()
    person = Person.get_by_id(device.person_id)
    now = utcnow()
    if device.last_seen_at is None or now - device.last_seen_at > dt.timedelta(hours=1):
        with write_transaction():
            ReminderDevice.update(last_seen_at=now).where(ReminderDevice.id == device.id).execute()
    settings = schedule.settings_for(person)
    reminders = [{"body": r.body, "when": _when(r.send_at)} for r in schedule.upcoming(person)]
    has_subscription = PushSubscription.select().where(PushSubscription.device == device.id).exists()
    consent_row = (Consent.select().where(Consent.device == device.id)
                   .order_by(Consent.given_at.desc()).first())
    return render_template(
        "person/home.html", reminders=reminders, settings=settings, vapid_key=_vapid_key(),
        has_subscription=has_subscription, on=person.reminders_opt_in,
        consent_when=_when(consent_row.given_at) if consent_row else None,
        saved=request.args.get("saved") == "1",
    )


@bp.post("/quiet-hours")
def quiet_hours():
    device = current_device()
    if device is None:
        return _calm()
    start, end = request.form.get("start", ""), request.form.get("end", "")
    if not (schedule.valid_hhmm(start) and schedule.valid_hhmm(end)):
        return make_response(render_template("person/unavailable.html", bad_request=True), 400)
    with write_transaction():
        person = Person.get_by_id(device.person_id)
        schedule.update_settings(person, quiet_hours_start=start, quiet_hours_end=end)
        AuditEvent.record(None, "reminders.quiet_hours", "person", person.uuid, team=person.team_id)
    return redirect(url_for("person_pages.home", saved=1))


@bp.post("/subscription")
def subscription():
    """The page keeps this phone's current subscription on file (push services rotate them)."""
    device = current_device()
    if device is None:
        return _json_error(404, "not_found", "This phone is not set up for reminders.")
    try:
        sub = clean_subscription((request.get_json(silent=True) or {}).get("subscription"),
                                 _allow_local_endpoints())
    except (SubscriptionError, AttributeError):
        return _json_error(422, "bad_subscription", "This phone could not be set up for reminders.")
    with write_transaction():
        person = Person.get_by_id(device.person_id)
        if not person.reminders_opt_in:
            return _json_error(409, "reminders_off", "Reminders are off.")
        save_subscription(person, device, sub)
    return jsonify({"ok": True})


@bp.post("/stop")
def stop():
    device = current_device()
    if device is None:
        return _calm()
    with write_transaction():
        withdraw(Person.get_by_id(device.person_id))
    response = make_response(render_template("person/stopped.html"))
    response.delete_cookie(DEVICE_COOKIE, path="/r/")
    return response



