"""Coordinator workspace: server-rendered pages under /coordinator/ for review and feedback, concerns,
caseloads, reports and exports, the resource directory, users and devices, and the audit trail.
Each area is its own module; team scoping lives in access.py."""

from __future__ import annotations

from importlib import import_module

from flask import Blueprint, render_template

from ..security import require_role_for_blueprint
from .access import BadInput, to_local

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator", template_folder="templates")
require_role_for_blueprint(bp, "coordinator", "admin")


@bp.before_request
def _refuse_nul_characters():
    """A NUL character cannot be stored (PostgreSQL refuses it in text): refuse it clearly, once, here."""
    from flask import request

    for values in (request.args, request.form):
        for _name, items in values.lists():
            if any("\x00" in item for item in items):
                raise BadInput("Some of what you sent contains a character that cannot be stored (NUL).")


@bp.errorhandler(BadInput)
def _bad_input(exc: BadInput):
    return render_template("coordinator/bad_input.html", message=str(exc)), 400


@bp.app_template_filter("local")
def _local_filter(value, fmt: str = "%d %b %Y %H:%M"):
    """A stored UTC time shown in the organisation's time zone."""
    local = to_local(value)
    return local.strftime(fmt) if local else ""


@bp.app_template_filter("day")
def _day_filter(value, fmt: str = "%d %b %Y"):
    return value.strftime(fmt) if value else ""


@bp.app_template_filter("concern_words")
def _concern_words(code) -> str:
    """One set of words for concern levels everywhere: "Some concern", "Serious concern" (codes.py)."""
    from ..codes import CONCERN_WORDS

    return CONCERN_WORDS.get(code, code or "")


@bp.context_processor
def _navigation():
    from ..codes import CONCERN_OUTCOMES
    from .alerts import open_alert_count
    from .concerns import open_concern_count

    return {"open_concerns": open_concern_count(), "open_alerts": open_alert_count(),
            "concern_outcomes": CONCERN_OUTCOMES}


@bp.get("/")
def home():
    from .dashboard import summary

    return render_template("coordinator/home.html", summary=summary())


from . import audit, caseloads, concerns, exports, hsds, reminders, reports, resources, review, users  # noqa: E402,F401
from .invites import invite_bp  # noqa: E402

bp.register_blueprint(invite_bp)

from . import outcomes_views, records, supervision  # noqa: E402,F401 - issue 16

__import__(f"{__name__}.lone_working")  # issue 14, lone working: "Out on visits"
import_module(".alerts", __name__)  # issue 14: staff alerts (a call, so other branches' imports merge cleanly)
