"""Alongside: the Flask application factory. Reads like a table of contents:
config -> database -> errors -> auth -> security -> notify, reminders -> blueprints -> cli."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from .config import Config, ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    cfg = Config.load(config)
    cfg.check_production()
    app = Flask(__name__, instance_path=str(cfg.instance_dir(str(PROJECT_ROOT / "instance"))))
    _load_secrets(app, cfg)
    app.config["ALONGSIDE"] = cfg
    app.config.update(
        SECRET_KEY=cfg.SECRET_KEY,
        TESTING=cfg.TESTING,
        MAX_CONTENT_LENGTH=cfg.MAX_REQUEST_BYTES,
        PERMANENT_SESSION_LIFETIME=60 * 60 * 24 * 30,
        API_TITLE="Alongside API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        JSON_SORT_KEYS=False,
    )
    if cfg.PROXY_COUNT > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = cfg.PROXY_COUNT
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)
    if not app.logger.handlers or cfg.TESTING:
        logging.basicConfig(level=logging.INFO)
    from . import logs

    logs.init_app(app)  # request logs: no query strings, tokens masked

    from . import auth as auth_module
    from . import db, errors, extensions, security

    database = db.make_database(cfg.DATABASE_URL, Path(app.instance_path))
    db.bind(database)
    if cfg.AUTO_MIGRATE if cfg.AUTO_MIGRATE is not None else cfg.uses_sqlite:
        db.upgrade()
    db.init_app(app)
    extensions.api.init_app(app)
    errors.init_app(app)  # after the API, so its one error shape replaces flask-smorest's
    auth_module.init_app(app)
    security.init_app(app)
    from . import local_time, notify, reminders

    notify.init_app(app)  # the channel layer's settings: channels, push hosts, dispatch limits
    local_time.configure(app.config["ALONGSIDE"].TIMEZONE)  # the one time zone: display and scheduling
    reminders.init_app(app)  # reminder templates; commands
    from . import safety

    safety.init_app(app)  # staff alerts: escalation delays, alert templates
    _register_blueprints(app)
    from . import cli

    cli.init_app(app)
    return app


def _load_secrets(app: Flask, cfg: Config) -> None:
    """Embedded default: generate missing secrets once under instance/. Production: supplied or refused."""
    from . import instance_keys

    instance = Path(app.instance_path)
    if not cfg.SECRET_KEY:
        if cfg.is_production:
            raise ConfigError("ALONGSIDE_SECRET_KEY must be set in production")
        cfg.SECRET_KEY = instance_keys.load_or_create_secret_key(instance)
    if cfg.VAPID_PRIVATE_KEY:
        cfg.extra["VAPID_PEM"] = instance_keys.read_vapid_pem(cfg.VAPID_PRIVATE_KEY)
    else:
        cfg.extra["VAPID_PEM"] = instance_keys.load_or_create_vapid_pem(instance)
    cfg.extra["VAPID_PUBLIC_KEY"] = instance_keys.vapid_public_key_b64(cfg.extra["VAPID_PEM"])


def _register_blueprints(app: Flask) -> None:
    from flask import redirect
    from flask_login import current_user

    from . import account, coordinator, person_pages, pwa_static, web_auth
    from .api import register_api

    register_api(app)
    app.register_blueprint(web_auth.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(pwa_static.bp)
    app.register_blueprint(coordinator.bp)
    from .coordinator.oruk import feed as oruk_feed

    oruk_feed.check_setting(app.config["ALONGSIDE"])
    app.register_blueprint(oruk_feed.bp)
    app.register_blueprint(person_pages.bp)

    @app.get("/healthz", endpoint="health")
    def health():
        return {"status": "ok"}

    @app.get("/")
    def index():
        coordinator = current_user.is_authenticated and current_user.is_coordinator
        return redirect("/coordinator/" if coordinator else "/app/")
