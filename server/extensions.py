"""Flask extension objects, created unbound here and bound in create_app (so any module may import them)."""

from flask_login import LoginManager
from flask_smorest import Api
from flask_wtf import CSRFProtect
from marshmallow import Schema, fields

login_manager = LoginManager()
csrf = CSRFProtect()


class ErrorSchema(Schema):
    """The one error shape of the JSON API (errors.py builds it), as the OpenAPI document shows it."""

    code = fields.String()
    message = fields.String()
    errors = fields.Dict()


class AlongsideApi(Api):
    ERROR_SCHEMA = ErrorSchema  # flask-smorest's default documents {"code": int, "status"}: not our shape


api = AlongsideApi()
