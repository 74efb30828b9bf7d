"""Pages for people supported (/r/...): opt in to reminders, see upcoming ones, stop them."""

from flask import Blueprint

bp = Blueprint("person_pages", __name__, url_prefix="/r")
