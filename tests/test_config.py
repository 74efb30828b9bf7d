"""The factory and configuration: env overrides, generated secrets, fail-closed production start."""

import os
import stat

import pytest

from server import create_app
from server.config import Config, ConfigError


def test_env_overrides_with_prefix():
    cfg = Config.load(environ={"ALONGSIDE_TIMEZONE": "Europe/Dublin", "ALONGSIDE_MAX_BATCH_MUTATIONS": "50",
                               "ALONGSIDE_HTTPS": "true"})
    assert cfg.TIMEZONE == "Europe/Dublin"
    assert cfg.MAX_BATCH_MUTATIONS == 50
    assert cfg.HTTPS is True
    assert Config.load(environ={}).TIMEZONE == "Europe/London"


def test_bad_number_in_env_is_a_clear_error():
    with pytest.raises(ConfigError, match="ALONGSIDE_MAX_BATCH_MUTATIONS must be a whole number"):
        Config.load(environ={"ALONGSIDE_MAX_BATCH_MUTATIONS": "lots"})


def test_overrides_dict_wins_over_env():
    cfg = Config.load({"TIMEZONE": "UTC"}, environ={"ALONGSIDE_TIMEZONE": "Europe/Paris"})
    assert cfg.TIMEZONE == "UTC"


def test_embedded_default_generates_secrets_once_with_0600(tmp_path):
    instance = tmp_path / "instance"
    app = create_app({"INSTANCE_PATH": str(instance), "TESTING": True})
    key_file, vapid_file = instance / "secret_key", instance / "vapid_private.pem"
    for path in (key_file, vapid_file):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert app.secret_key == key_file.read_text().strip() and len(app.secret_key) >= 48
    public = app.config["ALONGSIDE"].extra["VAPID_PUBLIC_KEY"]
    again = create_app({"INSTANCE_PATH": str(instance), "TESTING": True})
    assert again.secret_key == app.secret_key
    assert again.config["ALONGSIDE"].extra["VAPID_PUBLIC_KEY"] == public
    assert (instance / "alongside.db").exists()  # SQLite created and migrated on start


@pytest.mark.parametrize("secret", ["", "change-me", "dev", "short-but-not-default"])
def test_production_refuses_missing_or_weak_secret(tmp_path, secret):
    with pytest.raises(ConfigError, match="ALONGSIDE_SECRET_KEY"):
        create_app({"ENV": "production", "SECRET_KEY": secret, "INSTANCE_PATH": str(tmp_path),
                    "VAPID_PRIVATE_KEY": "x", "DATABASE_URL": "postgresql://x/y"})
    assert not (tmp_path / "secret_key").exists()  # nothing generated in production


def test_production_refuses_missing_vapid_and_database(tmp_path):
    with pytest.raises(ConfigError) as info:
        create_app({"ENV": "production", "SECRET_KEY": "k" * 40, "INSTANCE_PATH": str(tmp_path)})
    assert "ALONGSIDE_VAPID_PRIVATE_KEY" in str(info.value)
    assert "ALONGSIDE_DATABASE_URL" in str(info.value)


def test_production_starts_with_real_secrets(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    app = create_app({"ENV": "production", "SECRET_KEY": "k" * 40, "VAPID_PRIVATE_KEY": pem,
                      "INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/p.db"})
    assert app.config["ALONGSIDE"].is_production
    assert len(app.config["ALONGSIDE"].extra["VAPID_PUBLIC_KEY"]) == 87  # 65-byte point, base64url


def test_unsupported_database_url_is_refused(tmp_path):
    with pytest.raises(ValueError, match="Unsupported database URL"):
        create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "mysql://x/y", "SECRET_KEY": "k" * 40})


def test_wsgi_module_only_builds_the_app():
    source = open(os.path.join(os.path.dirname(__file__), "..", "wsgi.py")).read()
    code = [line for line in source.splitlines() if line.strip() and not line.startswith(('"""', "#"))]
    assert code == ["from server import create_app", "app = create_app()"]


def test_proxy_count_trusts_forwarded_headers(tmp_path):
    from flask import request

    app = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True, "SECRET_KEY": "k" * 40, "PROXY_COUNT": 1})

    @app.get("/healthz-where", endpoint="health_where")
    def where():
        return {"url": request.host_url, "addr": request.remote_addr}

    from server.security import PUBLIC_ENDPOINTS

    PUBLIC_ENDPOINTS.add("health_where")
    try:
        body = app.test_client().get("/healthz-where", headers={
            "X-Forwarded-Proto": "https", "X-Forwarded-Host": "alongside.example.org", "X-Forwarded-For": "203.0.113.9",
        }).get_json()
    finally:
        PUBLIC_ENDPOINTS.discard("health_where")
    assert body == {"url": "https://alongside.example.org/", "addr": "203.0.113.9"}
    plain = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True, "SECRET_KEY": "k" * 40})
    assert plain.wsgi_app.__class__.__name__ != "ProxyFix"
