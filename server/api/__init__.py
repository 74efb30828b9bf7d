"""JSON API blueprints (flask-smorest), all under /api/v1."""


def register_api(app) -> None:
    from ..extensions import api
    from . import auth, devices, invites, sync

    for module in (auth, devices, sync, invites):
        api.register_blueprint(module.blp)
    from . import lone_working  # issue 14

    api.register_blueprint(lone_working.blp)
