"""Text that cannot be stored is refused at the door, once for every JSON body, before any view reads it.

JSON may spell a lone UTF-16 surrogate (`"\\ud800"`), and Python's JSON reader turns it (or its raw UTF-8
bytes) into a string no database can store: it used to fail deep inside a write as a 500, and on sync push it
rolled back the whole batch, which the phone then re-sent unchanged for ever. Now any such string anywhere in a
JSON body answers 400 `invalid_text`, naming where it is. Inside a sync push's mutations the engine refuses just
that mutation, with the field and why (schemas.Text), so one broken character never holds back the rest of the
outbox (a serious concern in the same batch, say). Files that carry JSON (the resource directory's import) use
`text_problem()` on what they read."""

from __future__ import annotations

import json
import re

from flask import request

from .errors import ApiError

# Quick test on the raw bytes: an escaped surrogate (\uD800-\uDFFF) or an encoded one (ED A0-BF ..). Most
# bodies have neither and are not parsed here at all; a surrogate *pair* (an emoji) is parsed and passes.
_SUSPECT = re.compile(rb"\\u[dD][89abcdefABCDEF]|\xed[\xa0-\xbf]")
MESSAGE = "This contains a character that cannot be stored (a lone UTF-16 surrogate). Please retype it."


def _bad(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def text_problem(value, path: str = "") -> str | None:
    """The dotted path of the first string (or key) in `value` that cannot be stored, or None."""
    stack = [(value, path)]
    while stack:  # no recursion: a deeply nested body must not exhaust the stack here
        item, where = stack.pop()
        if isinstance(item, str):
            if _bad(item):
                return where or "_body"
        elif isinstance(item, dict):
            for key, child in item.items():
                name = f"{where}.{key}" if where else str(key)
                if _bad(str(key)):
                    return where or "_body"
                stack.append((child, name))
        elif isinstance(item, list):
            stack.extend((child, f"{where}.{i}" if where else str(i)) for i, child in enumerate(item))
    return None


def check_json_body() -> None:
    """before_request: refuse a JSON body holding unstorable text with 400 invalid_text."""
    if not request.is_json:
        return
    raw = request.get_data(cache=True)
    if not raw or not _SUSPECT.search(raw):
        return
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        return  # not JSON at all: the view's own reader answers that
    where = text_problem(document)
    if where is not None and request.endpoint == "sync_api.push" and where.startswith("mutations."):
        return  # inside one mutation: the sync engine refuses that mutation alone, and the rest go on
    if where is not None:
        raise ApiError(400, "invalid_text", MESSAGE, {where: [MESSAGE]})


def init_app(app) -> None:
    app.before_request(check_json_body)
