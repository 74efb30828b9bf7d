"""Serves the field app (pwa/) at /app/: static files only, no data, so it is public.
In-app paths (/app/p/<id> ...) get the shell; sw.js is stamped with a hash of the shell so that any
change to the app makes browsers see a new service worker (and offer the update)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, send_from_directory

bp = Blueprint("pwa", __name__, url_prefix="/app")

PWA_DIR = Path(__file__).resolve().parent.parent / "pwa"
VERSION_PLACEHOLDER = "__SHELL_VERSION__"
MIME = {
    ".webmanifest": "application/manifest+json",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
_version_cache: dict[str, str] = {}


def shell_version() -> str:
    """A short hash over every file of the app (except sw.js itself, which carries it)."""
    if _version_cache.get("v") and not current_app.debug:
        return _version_cache["v"]
    digest = hashlib.sha256()
    for path in sorted(PWA_DIR.rglob("*")):
        if path.is_file() and path.name != "sw.js":
            digest.update(str(path.relative_to(PWA_DIR)).encode())
            digest.update(path.read_bytes())
    _version_cache["v"] = digest.hexdigest()[:12]
    return _version_cache["v"]


def _static(filename: str) -> Response:
    response = send_from_directory(PWA_DIR, filename, max_age=0, conditional=True)
    suffix = Path(filename).suffix
    if suffix in MIME:
        response.headers["Content-Type"] = MIME[suffix]
    # Revalidate every time: the service worker is the cache; HTTP caching must not hand it stale files.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/")
def shell():
    return _static("index.html")


@bp.get("/sw.js")
def service_worker():
    text = (PWA_DIR / "sw.js").read_text(encoding="utf-8").replace(VERSION_PLACEHOLDER, shell_version())
    response = Response(text, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/app/"
    return response


@bp.get("/<path:filename>")
def asset(filename: str):
    target = (PWA_DIR / filename).resolve()
    if PWA_DIR not in target.parents:
        abort(404)
    if target.is_file():
        return _static(filename)
    if "." in filename.rsplit("/", 1)[-1]:
        abort(404)  # a missing file, not an in-app path
    return _static("index.html")  # an in-app path: the shell routes it
