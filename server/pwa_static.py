"""Serves the field app (pwa/) at /app/: static files only, no data, so it is public."""

from flask import Blueprint

bp = Blueprint("pwa", __name__, url_prefix="/app")
