"""The directory as a read-only Open Referral UK 3.0 API, so another system can read it as an ORUK feed:
GET /api/oruk/v3/ (about), /services (pages of services, `page` and `per_page`), /services/<id> (one
service in full). A setting (ORUK_FEED) turns it off (the default), opens it to anyone, or puts it behind
a bearer token (ORUK_FEED_TOKEN). No person's data is in the directory; reads are not audited."""

from __future__ import annotations

import hmac
import math
import uuid as uuidlib

from flask import Blueprint, current_app, request

from ...config import ConfigError
from ...errors import ApiError
from ...models import Resource
from .service import PROFILE_URL, VERSION, service_json, service_list_item

bp = Blueprint("oruk_feed", __name__, url_prefix="/api/oruk/v3")
MODES = ("off", "public", "token")
DEFAULT_PER_PAGE, MAX_PER_PAGE = 50, 200


def check_setting(cfg) -> None:
    """Start-up check: a known mode, and a token worth the name when the feed is behind one."""
    if cfg.ORUK_FEED not in MODES:
        raise ConfigError(f"ALONGSIDE_ORUK_FEED must be one of {', '.join(MODES)}, not {cfg.ORUK_FEED!r}")
    if cfg.ORUK_FEED == "token" and len(cfg.ORUK_FEED_TOKEN) < 32:
        raise ConfigError("ALONGSIDE_ORUK_FEED_TOKEN must be a random value of at least 32 characters")


@bp.before_request
def _guard():
    cfg = current_app.config["ALONGSIDE"]
    if cfg.ORUK_FEED == "off":
        raise ApiError(404, "not_found", "This server does not publish its directory as an Open Referral UK feed.")
    if cfg.ORUK_FEED == "token":
        given = request.headers.get("Authorization", "")
        expected = f"Bearer {cfg.ORUK_FEED_TOKEN}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise ApiError(401, "unauthorized", "Send the feed's token as: Authorization: Bearer <token>.")


def _whole(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(400, "bad_request", f"{name} must be a whole number from {low} to {high}.",
                       {name: [f"Use a whole number from {low} to {high}."]})
    return int(raw)


def _published():
    return Resource.select().where(~Resource.deleted)


@bp.get("/")
def about():
    return {"version": VERSION, "profile": PROFILE_URL,
            "openapi_url": "https://raw.githubusercontent.com/OpenReferralUK/uk-profile/main/schema/openapi.json"}


@bp.get("/services")
def services():
    per_page = _whole("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    page = _whole("page", 1, 1, 1_000_000)
    total = _published().count()
    pages = max(1, math.ceil(total / per_page))
    rows = list(_published().order_by(Resource.id).limit(per_page).offset((page - 1) * per_page))
    return {"total_items": total, "total_pages": pages, "page_number": page, "size": len(rows),
            "first_page": page == 1, "last_page": page >= pages, "empty": not rows,
            "contents": [service_list_item(r) for r in rows]}


@bp.get("/services/<service_id>")
def service(service_id):
    try:
        wanted = uuidlib.UUID(service_id)
    except ValueError:
        raise ApiError(404, "not_found", "No such service.") from None
    resource = _published().where(Resource.uuid == wanted).first()
    if resource is None:
        raise ApiError(404, "not_found", "No such service.")
    return service_json(resource)

