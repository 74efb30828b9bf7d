"""Devices: a phone registers itself once after sign-in and names itself in every push and pull."""

from __future__ import annotations

from flask_login import current_user
from flask_smorest import Blueprint

from .. import sync
from ..extensions import ErrorSchema
from ..schemas import DeviceCreatedSchema, DeviceCreateSchema

blp = Blueprint("devices_api", __name__, url_prefix="/api/v1/devices", description="Register a field device")


@blp.route("", methods=["POST"])
@blp.arguments(DeviceCreateSchema)
@blp.response(201, DeviceCreatedSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description="Missing or stale CSRF token")
def create_device(args):
    """Register this device for the signed-in user; keep the returned device_id for push and pull."""
    device = sync.register_device(current_user._get_current_object(), args["name"])
    return {"device_id": str(device.uuid)}
