"""Secrets kept under instance/ on the embedded default: the Flask secret key and the VAPID key pair.
They are generated once (file mode 0600) and read back on every start; production supplies its own."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def load_or_create_secret_key(instance: Path) -> str:
    path = instance / "secret_key"
    if not path.exists():
        try:
            _write_private(path, secrets.token_urlsafe(48).encode())
        except FileExistsError:  # another process won the race; read theirs
            pass
    return path.read_text().strip()


def load_or_create_vapid_pem(instance: Path) -> str:
    path = instance / "vapid_private.pem"
    if not path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            _write_private(path, pem)
        except FileExistsError:
            pass
    return path.read_text()


def read_vapid_pem(value: str) -> str:
    """The configured VAPID key: PEM text itself, or the path of a PEM file."""
    if "-----BEGIN" in value:
        return value
    return Path(value).read_text()


def vapid_public_key_b64(pem: str) -> str:
    """The application server key the browser needs: an uncompressed P-256 point, base64url."""
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    raw = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
