"""Placeholder: the invites API arrives with its issue."""

from flask_smorest import Blueprint

blp = Blueprint("invites_api", __name__, url_prefix="/api/v1/invites")
