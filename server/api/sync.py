"""Placeholder: the sync API arrives with its issue."""

from flask_smorest import Blueprint

blp = Blueprint("sync_api", __name__, url_prefix="/api/v1/sync")
