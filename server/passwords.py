"""Password hashing (argon2id via argon2-cffi) and the password policy (NIST SP 800-63B: a minimum length, no
composition rules, and a check against what attackers try first: zxcvbn's estimate, which knows the common
passwords, words, names, keyboard runs, dates and l33t spellings, plus this service's own words)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile

MIN_LENGTH = 10
MAX_LENGTH = 256
MIN_SCORE = 3  # zxcvbn: 3 = "safely unguessable" against an online attack, about 10^8 guesses or more
ESTIMATE_CHARS = 100  # zxcvbn slows down on very long input; the first 100 characters decide
SERVICE_WORDS = ["alongside", "peer", "support", "coordinator", "worker", "mental", "health", "wellbeing"]

# A fixed hash to verify against when the email is unknown, so both failures cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-for-timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str, email: str = "", name: str = "") -> str | None:
    """A plain-language reason the password is too weak, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    local = email.split("@", 1)[0].lower()
    if local and len(local) >= 4 and local in password.lower():
        return "Do not use your email address in your password."
    personal = [part for part in [local, *email.lower().replace("@", ".").split("."), *name.lower().split()] if part]
    estimate = zxcvbn(password[:ESTIMATE_CHARS], user_inputs=SERVICE_WORDS + personal)
    if estimate["score"] < MIN_SCORE:
        warning = estimate["feedback"].get("warning") or "It would be found quickly by someone guessing."
        return (f"This password is too easy to guess. {warning.rstrip('.')}. "
                "Try three or four unrelated words, like a short phrase only you would think of.")
    return None
