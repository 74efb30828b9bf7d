"""What request logs may say: the method, the path with no query string and with bearer tokens masked, the
status. A query string can hold a name someone searched for (/coordinator/people?q=...), and an invite link's
path is itself the key to it (/r/<token>, /coordinator/invite/<token>).

Two access logs exist: Werkzeug's (the development server, `flask run`) is filtered in place here; gunicorn's,
when it is turned on, goes through `AccessLogger` (`gunicorn --logger-class server.logs.AccessLogger`)."""

from __future__ import annotations

import logging
import re
import uuid

# A path segment that looks like a secret: 24 or more URL-safe characters (every token Alongside makes is
# longer), unless it is a UUID, the opaque record ids that logs are meant to carry.
_SEGMENT = re.compile(r"(?<=/)[A-Za-z0-9_\-.~%]{24,}")
_QUERY = re.compile(r"\?[^\s\"']*")
MASK = "[token]"


def _mask_segment(match: re.Match) -> str:
    text = match.group(0)
    try:
        uuid.UUID(text)
        return text
    except ValueError:
        return MASK


def mask(text: str) -> str:
    """A request line or path as it may be logged."""
    return _SEGMENT.sub(_mask_segment, _QUERY.sub("", text))


class MaskingFilter(logging.Filter):
    """On the 'werkzeug' logger: every request line (and any error message quoting one) is masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask(a) if isinstance(a, str) else a for a in record.args)
        return True


def init_app(app) -> None:
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, MaskingFilter) for f in werkzeug.filters):
        werkzeug.addFilter(MaskingFilter())


try:  # gunicorn is a deployment choice: the class exists only where gunicorn is installed
    from gunicorn.glogging import Logger as _GunicornLogger

    class AccessLogger(_GunicornLogger):
        """gunicorn's logger with masked request lines, paths and no query strings in its access log."""

        def atoms(self, resp, req, environ, request_time):
            atoms = super().atoms(resp, req, environ, request_time)
            for key in ("r", "U"):
                if isinstance(atoms.get(key), str):
                    atoms[key] = mask(atoms[key])
            atoms["q"] = ""
            atoms["f"] = "-"  # the Referer can carry a page's query string too
            return atoms
except ImportError:  # pragma: no cover
    AccessLogger = None
