"""What the sync engine raises: a whole request refused (SyncError), or one mutation refused (Rejected)."""

from __future__ import annotations


class SyncError(Exception):
    """A whole request is refused (unknown or revoked device): the view answers status/code/message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Rejected(Exception):
    """One mutation is refused; the rest of the batch goes on. `errors` names each field and why."""

    def __init__(self, code: str, errors: dict):
        super().__init__(code)
        self.code, self.errors = code, errors
