"""One error shape for the JSON API: {"code", "message", "errors"}; calm HTML pages elsewhere.
A 500 is logged with its traceback but answers without internals."""

from __future__ import annotations

from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    500: "server_error",
    503: "busy",
}

MESSAGES = {
    400: "The request could not be read.",
    401: "Please sign in.",
    403: "You do not have access to this.",
    404: "Not found.",
    405: "This method is not allowed here.",
    409: "This clashes with something that already exists.",
    413: "The request is too large.",
    415: "Send JSON with Content-Type: application/json.",
    422: "Some fields need attention.",
    429: "Too many attempts. Please wait a minute and try again.",
    500: "Something went wrong on our side. Nothing you sent was lost; please try again.",
    503: "Alongside is busy just now. Nothing you sent was lost; please try again in a moment.",
}


class ApiError(HTTPException):
    """Raise from any API view for a specific code: ApiError(403, "device_revoked", "...")."""

    def __init__(self, status: int, code: str | None = None, message: str | None = None, errors=None,
                 retry_after: int | None = None):
        super().__init__(description=message or MESSAGES.get(status, ""))
        self.code = status
        self.api_code = code or CODES.get(status, "error")
        self.errors = errors or {}
        self.retry_after = retry_after


def wants_json() -> bool:
    """The API, and any request that sent JSON (a script, e.g. the person's consent page), gets JSON errors."""
    return request.path.startswith("/api/") or request.is_json


def error_body(status: int, code: str | None = None, message: str | None = None, errors=None) -> dict:
    return {
        "code": code or CODES.get(status, "error"),
        "message": message or MESSAGES.get(status, "Error."),
        "errors": errors or {},
    }


def json_error(status: int, code: str | None = None, message: str | None = None, errors=None):
    """The one error shape as a JSON response, for views that answer JSON outside /api/ (the person's pages)."""
    response = jsonify(error_body(status, code, message, errors))
    response.status_code = status
    return response


def _render(status: int, code=None, message=None, errors=None, headers=None):
    if wants_json():
        response = json_error(status, code, message, errors)
    else:
        html = render_template("error.html", status=status, message=message or MESSAGES.get(status, "Error."))
        response = html, status
        from flask import make_response

        response = make_response(response)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def handle_http_exception(exc: HTTPException):
    status = exc.code or 500
    if isinstance(exc, ApiError):
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return _render(status, exc.api_code, exc.description, exc.errors, headers)
    errors = None
    code = None
    message = None
    data = getattr(exc, "data", None)  # webargs / flask-smorest put validation messages here
    if isinstance(data, dict) and "messages" in data:
        errors = data["messages"]
        # webargs nests by location ("json", "query"); flatten the single-location case
        if isinstance(errors, dict) and len(errors) == 1 and next(iter(errors)) in ("json", "query", "headers"):
            errors = next(iter(errors.values()))
        if isinstance(errors, list):  # e.g. ["Invalid JSON body."]: keep `errors` an object, as documented
            errors = {"_body": errors}
        status = 422 if status == 400 else status
    if status == 429:
        code, message = "too_many_requests", MESSAGES[429]
    headers = {}
    if status == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
        headers["Allow"] = ", ".join(exc.valid_methods)
    retry = exc.get_headers() if status == 429 else []
    headers.update({k: v for k, v in retry if k.lower() == "retry-after"})
    return _render(status, code, message, errors, headers)


def handle_csrf_error(exc: CSRFError):
    return _render(403, "csrf_failed", "Your session's security token is missing or out of date. Please reload.")


def handle_unexpected(exc: Exception):
    # HTTPExceptions are routed to handle_http_exception; anything else is a bug: log it, answer calmly.
    from flask import current_app

    if isinstance(exc, HTTPException):
        return handle_http_exception(exc)
    if isinstance(exc, RecursionError) and request.is_json:  # JSON nested deeper than the parser goes
        return _render(400, "bad_request", "The request is nested too deeply to read.")
    if _busy(exc):  # not a bug: every writer or connection was taken for longer than we wait
        current_app.logger.warning("Busy on %s %s: %s", request.method, request.url_rule or request.path,
                                   type(exc).__name__)
        return _render(503, headers={"Retry-After": "5"})
    current_app.logger.exception("Unhandled error on %s %s", request.method, request.url_rule or request.path)
    return _render(500)


def _busy(exc: Exception) -> bool:
    """The database could not be had in time: SQLite's write lock (db.WRITE_WAIT_SECONDS), or no free pooled
    PostgreSQL connection. The transaction rolled back, so the client simply tries again."""
    import peewee
    from playhouse.pool import MaxConnectionsExceeded

    if isinstance(exc, MaxConnectionsExceeded):
        return True
    return isinstance(exc, peewee.OperationalError) and "database is locked" in str(exc)


def init_app(app) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(InternalServerError, lambda e: _render(500))
    app.register_error_handler(Exception, handle_unexpected)
