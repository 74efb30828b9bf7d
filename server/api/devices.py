"""Placeholder: the devices API arrives with its issue."""

from flask_smorest import Blueprint

blp = Blueprint("devices_api", __name__, url_prefix="/api/v1/devices")
