"""Pages for people supported (/r/...): opt in to reminders with consent (push on this phone, or a text
message number or email address), see what is coming up, the next visit as a calendar file, quiet hours,
stop. No password: a single-use invite link (72 h), then a long-lived random device cookie (only hashes
stored). The blueprint is public as a whole, so every view checks its own token. No names and no health
details on any of these pages, except the person's own goal-step words on their own home page.
The rules live in server/reminders/; these are the views."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

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

from . import notify
from .db import utcnow, write_transaction
from .errors import json_error
from .models import AuditEvent, Consent, Invite, Person, PushSubscription, ReminderDevice
from .notify.subscriptions import save_push_subscription
from .reminders import calendar, schedule, status
from .reminders.consent import CONSENT_TEXT_VERSION, clean_address, find_invite, give_consent, hash_token, withdraw
from .reminders.settings import settings_for, valid_hhmm

bp = Blueprint("person_pages", __name__, url_prefix="/r")

DEVICE_COOKIE = "alongside_reminders"
DEVICE_COOKIE_MAX_AGE = 400 * 24 * 3600  # the longest a browser keeps a cookie
STATIC = Path(__file__).resolve().parent / "static" / "person"


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


def _calm(status: int = 404):
    return make_response(render_template("person/unavailable.html"), status)


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
    settings = settings_for(Person.get_by_id(invite_row.person_id))
    channels = notify.current().channels()
    return render_template("person/consent.html", token=token, vapid_key=_vapid_key(), settings=settings,
                           text_version=CONSENT_TEXT_VERSION, sms="sms" in channels, email="email" in channels,
                           manifest_url=url_for("person_pages.invite_manifest", token=token),
                           expires=_when(invite_row.expires_at))


@bp.post("/<token>/consent")
def consent(token):
    """JSON: {"text_version", "subscription"?, "channel": "sms"|"email"?, "address"?, "label"?}: this phone
    by push, and/or a number or address for text messages or email."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return json_error(400, "bad_request", "Send JSON.")
    if data.get("text_version") != CONSENT_TEXT_VERSION:
        return json_error(409, "consent_text_changed", "The page has changed. Please reload it and read it again.")
    sub, contact = None, None
    if data.get("subscription") is not None:
        try:
            sub = notify.clean_subscription(data.get("subscription"), notify.current())
        except notify.SubscriptionError:
            return json_error(422, "bad_subscription", "This phone could not be set up for reminders.")
    if data.get("channel") is not None:
        channel = data.get("channel")
        if channel not in ("sms", "email") or channel not in notify.current().channels():
            return json_error(422, "validation_failed", "Choose text message or email.",
                               {"channel": ["Not offered here."]})
        try:
            contact = (channel, clean_address(channel, data.get("address")))
        except ValueError as exc:
            return json_error(422, "validation_failed", str(exc), {"address": [str(exc)]})
    if sub is None and contact is None:
        return json_error(422, "bad_subscription", "This phone could not be set up for reminders.")
    label = data.get("label") if isinstance(data.get("label"), str) else ""
    outcome = give_consent(token, sub, label.strip(), CONSENT_TEXT_VERSION, contact=contact)
    if outcome is None:
        return json_error(404, "link_unavailable", "This link cannot be used any more.")
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
    reminders = [{"body": r.body, "when": _when(r.send_at)} for r in status.upcoming(person)]
    has_subscription = PushSubscription.select().where(PushSubscription.device == device.id).exists()
    consent_row = (Consent.select().where(Consent.device == device.id)
                   .order_by(Consent.given_at.desc()).first())
    next_at = calendar.next_visit_time(person)
    return render_template(
        "person/home.html", reminders=reminders, settings=settings_for(person), vapid_key=_vapid_key(),
        has_subscription=has_subscription, on=person.reminders_opt_in,
        channels=status.reminder_status(person)["channels"], channel_names=status.CHANNEL_NAMES,
        consent_when=_when(consent_row.given_at) if consent_row else None,
        next_visit=_when(next_at) if next_at else None, saved=request.args.get("saved") == "1",
    )


@bp.get("/next-visit.ics")
def next_visit_ics():
    """The next visit as a calendar file: works on every phone, with no push at all."""
    device = current_device()
    if device is None:
        return _calm()
    person = Person.get_by_id(device.person_id)
    body = calendar.next_visit_ics(person, request.host)
    if body is None:
        return _calm()
    response = make_response(body)
    response.mimetype = "text/calendar"
    response.headers["Content-Disposition"] = 'attachment; filename="next-visit.ics"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/quiet-hours")
def quiet_hours():
    device = current_device()
    if device is None:
        return _calm()
    start, end = request.form.get("start", ""), request.form.get("end", "")
    if not (valid_hhmm(start) and valid_hhmm(end)):
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
        return json_error(404, "not_found", "This phone is not set up for reminders.")
    body = request.get_json(silent=True)
    try:
        sub = notify.clean_subscription(body.get("subscription") if isinstance(body, dict) else None,
                                        notify.current())
    except notify.SubscriptionError:
        return json_error(422, "bad_subscription", "This phone could not be set up for reminders.")
    with write_transaction():
        person = Person.get_by_id(device.person_id)
        if not person.reminders_opt_in:
            return json_error(409, "reminders_off", "Reminders are off.")
        save_push_subscription(sub, person=person, device=device)
    return jsonify({"ok": True})


@bp.post("/stop")
def stop():
    device = current_device()
    if device is None:
        return _calm()
    with write_transaction():
        withdraw(Person.get_by_id(device.person_id), reason="person_page")
    response = make_response(render_template("person/stopped.html"))
    response.delete_cookie(DEVICE_COOKIE, path="/r/")
    return response
