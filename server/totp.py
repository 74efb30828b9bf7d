"""Two-step sign-in: time-based codes from an authenticator app (RFC 6238 through pyotp, QR code by segno) and
one-time recovery codes. Who must use it is decided in auth.second_step_for(); the pages are in web_auth.py and
account.py.

The secret is stored sealed (AES-GCM under a key derived from the app's secret key, bound to the user's id), so a
copy of the database alone does not give anyone codes. Changing ALONGSIDE_SECRET_KEY therefore voids every
authenticator: people then sign in with a recovery code, or an admin resets their two-step sign-in."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import secrets

import pyotp
import segno
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

from .db import utcnow, write_transaction
from .models import RecoveryCode, User

ISSUER = "Alongside"
VALID_WINDOW = 1  # the code before and after the current one too: phone clocks drift
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud and typed from paper
RECOVERY_LENGTH = 16  # 16 characters of 31: 79 random bits, so a plain SHA-256 of each is enough
SEALED_PREFIX = "v1:"


# --- the secret, sealed ----------------------------------------------------------------------------------

def _key() -> bytes:
    secret = current_app.secret_key
    secret = secret.encode() if isinstance(secret, str) else secret
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"alongside totp secret v1").derive(secret)


def seal(user: User, secret: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key()).encrypt(nonce, secret.encode("ascii"), str(user.uuid).encode())
    return SEALED_PREFIX + base64.b64encode(nonce + sealed).decode("ascii")


def unseal(user: User, value: str | None) -> str | None:
    """The base32 secret, or None when there is none or it cannot be opened (the secret key changed)."""
    if not value or not value.startswith(SEALED_PREFIX):
        return None
    try:
        raw = base64.b64decode(value[len(SEALED_PREFIX):])
        return AESGCM(_key()).decrypt(raw[:12], raw[12:], str(user.uuid).encode()).decode("ascii")
    except Exception:  # noqa: BLE001 - InvalidTag, bad base64: the secret is unusable either way
        return None


# --- setting up ------------------------------------------------------------------------------------------

def start_setup(user: User, secret: str | None = None) -> str:
    """A new secret waiting for its first code (any earlier one waiting is replaced); returns it."""
    secret = secret or pyotp.random_base32()
    with write_transaction():
        User.update(totp_pending=seal(user, secret)).where(User.id == user.id).execute()
    user.totp_pending = seal(user, secret)
    return secret


def pending_secret(user: User) -> str | None:
    fresh = User.get_by_id(user.id)
    return unseal(fresh, fresh.totp_pending)


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """An inline SVG (the strict CSP refuses data: images), named for screen readers."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, border=4, dark="#000", light="#fff", svgclass="qr",
                                                omitsize=True, title="QR code for your authenticator app")
    return svg.replace("<svg ", '<svg role="img" aria-label="QR code for your authenticator app" ', 1)


def grouped(secret: str) -> str:
    """The key as people type it: groups of four."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def finish_setup(user: User, code: str) -> list[str] | None:
    """The first code from the new secret turns two-step sign-in on (replacing any earlier authenticator) and
    returns fresh recovery codes; None when the code is wrong. Call inside write_transaction()."""
    secret = pending_secret(user)
    step = _matching_step(secret, code, None) if secret else None
    if step is None:
        return None
    User.update(totp_secret=seal(user, secret), totp_pending=None, totp_enabled_at=utcnow(),
                totp_last_step=step).where(User.id == user.id).execute()
    return new_recovery_codes(user)


def enable_now(user: User) -> None:
    """Turn two-step sign-in on with a new secret without a first code (the demo accounts only)."""
    User.update(totp_secret=seal(user, pyotp.random_base32()), totp_pending=None, totp_enabled_at=utcnow(),
                totp_last_step=None).where(User.id == user.id).execute()


def turn_off(user: User) -> None:
    """No authenticator, no recovery codes (the admin's reset, or a peer worker's choice). Inside a transaction."""
    User.update(totp_secret=None, totp_pending=None, totp_enabled_at=None,
                totp_last_step=None).where(User.id == user.id).execute()
    RecoveryCode.delete().where(RecoveryCode.user == user.id).execute()


# --- checking a code -------------------------------------------------------------------------------------

def _clean_code(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").lower()


def _matching_step(secret: str, code: str, last_step: int | None) -> int | None:
    code = _clean_code(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(dt.datetime.now(dt.UTC))
    for step in range(now - VALID_WINDOW, now + VALID_WINDOW + 1):
        if (last_step is None or step > last_step) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def check_code(user: User, code: str) -> str | None:
    """'code' or 'recovery' when this code signs the user in (each works once), else None."""
    fresh = User.get_by_id(user.id)
    secret = unseal(fresh, fresh.totp_secret)
    if secret:
        step = _matching_step(secret, code, fresh.totp_last_step)
        if step is not None:
            with write_transaction():
                used = (User.update(totp_last_step=step)
                        .where((User.id == user.id)
                               & (User.totp_last_step.is_null() | (User.totp_last_step < step)))
                        .execute())
            return "code" if used else None
    return "recovery" if use_recovery_code(user, code) else None


# --- recovery codes --------------------------------------------------------------------------------------

def _hash(code: str) -> str:
    return hashlib.sha256(_clean_code(code).encode()).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    """Replace every recovery code of this user with ten new ones, shown once. Inside a transaction."""
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
             for _ in range(RECOVERY_CODES)]
    RecoveryCode.delete().where(RecoveryCode.user == user.id).execute()
    RecoveryCode.insert_many([{"user": user.id, "code_hash": _hash(c), "created_at": utcnow()}
                              for c in codes]).execute()
    return ["-".join(c[i:i + 4] for i in range(0, RECOVERY_LENGTH, 4)) for c in codes]


def use_recovery_code(user: User, code: str) -> bool:
    cleaned = _clean_code(code)
    if len(cleaned) != RECOVERY_LENGTH:
        return False
    with write_transaction():
        used = (RecoveryCode.update(used_at=utcnow())
                .where((RecoveryCode.user == user.id) & (RecoveryCode.code_hash == _hash(cleaned))
                       & RecoveryCode.used_at.is_null())
                .execute())
    return bool(used)


def recovery_codes_left(user: User) -> int:
    return (RecoveryCode.select()
            .where((RecoveryCode.user == user.id) & RecoveryCode.used_at.is_null())
            .count())


def current_code(user: User) -> str | None:
    """The code the user's authenticator shows now (the development-only `two-step code` command)."""
    fresh = User.get_by_id(user.id)
    secret = unseal(fresh, fresh.totp_secret)
    return pyotp.TOTP(secret).now() if secret else None
