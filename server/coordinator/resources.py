"""The shared resource directory: list with filters, create, edit, archive and restore. Every change
takes a rev from the change sequence, so the next pull brings it to every worker's phone."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from peewee import fn

from ..db import utcnow, write_transaction
from ..models import Resource
from ..sync.revisions import next_rev
from . import bp
from .access import BadInput, audit, clean_text, get_resource_or_404, parse_page

PAGE_SIZE = 50
LIMITS = {"name": 200, "category": 80, "description": 4000, "address": 1000, "phone": 60, "website": 500,
          "opening_hours": 1000, "area": 120}
LABELS = {"name": "Name", "category": "Category", "description": "Description", "address": "Address",
          "phone": "Phone", "website": "Website", "opening_hours": "Opening hours", "area": "Area"}


def check_website(url: str) -> str:
    if url and not url.lower().startswith(("http://", "https://")):
        raise BadInput("Website: start the address with https:// (or http://).")
    return url


def resource_fields(form) -> dict:
    fields = {key: clean_text(form.get(key), LABELS[key], limit, required=(key == "name"))
              for key, limit in LIMITS.items()}
    fields["website"] = check_website(fields["website"])
    return fields


def categories() -> list[str]:
    rows = (Resource.select(Resource.category)
            .where(~Resource.deleted & (Resource.category != ""))
            .distinct()
            .order_by(Resource.category)
            .tuples())
    return [c for (c,) in rows]


@bp.get("/resources")
def resource_list():
    show = request.args.get("show", "current")
    if show not in ("current", "archived", "all"):
        raise BadInput("Show: choose current, archived or all.")
    category = clean_text(request.args.get("category"), "Category", 80)
    search = clean_text(request.args.get("q"), "Search", 120)
    page = parse_page(request.args.get("page"))
    query = Resource.select().where(~Resource.deleted)
    if show != "all":
        query = query.where(Resource.archived == (show == "archived"))
    if category:
        query = query.where(Resource.category == category)
    if search:
        query = query.where(fn.LOWER(Resource.name).contains(search.lower()))
    rows = list(query.order_by(Resource.category, fn.LOWER(Resource.name), Resource.id)
                .limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE))
    return render_template("coordinator/resources.html", resources=rows[:PAGE_SIZE], more=len(rows) > PAGE_SIZE,
                           page=page, show=show, category=category, q=search, categories=categories(),
                           args={k: v for k, v in request.args.items() if k != "page"})


@bp.route("/resources/new", methods=["GET", "POST"])
def resource_new():
    if request.method == "GET":
        return render_template("coordinator/resource_form.html", resource=None, categories=categories())
    fields = resource_fields(request.form)
    with write_transaction():
        resource = Resource.create(rev=next_rev(), **fields)
        audit("resource.create", "resource", resource.uuid)
    flash(f"{resource.name} added to the directory.", "ok")
    return redirect(url_for("coordinator.resource_list"))


@bp.route("/resources/<resource_id>/edit", methods=["GET", "POST"])
def resource_edit(resource_id):
    resource = get_resource_or_404(resource_id)
    if request.method == "GET":
        return render_template("coordinator/resource_form.html", resource=resource, categories=categories())
    fields = resource_fields(request.form)
    with write_transaction():
        Resource.update(rev=next_rev(), updated_at=utcnow(), **fields).where(Resource.id == resource.id).execute()
        audit("resource.edit", "resource", resource.uuid)
    flash("Resource saved.", "ok")
    return redirect(url_for("coordinator.resource_list"))


@bp.post("/resources/<resource_id>/archive")
def resource_archive(resource_id):
    resource = get_resource_or_404(resource_id)
    archived = request.form.get("archived", "1") == "1"
    if resource.archived != archived:
        with write_transaction():
            (Resource.update(archived=archived, rev=next_rev(), updated_at=utcnow())
             .where(Resource.id == resource.id).execute())
            audit("resource.archive" if archived else "resource.restore", "resource", resource.uuid)
    flash(f"{resource.name} {'archived' if archived else 'restored'}.", "ok")
    return redirect(url_for("coordinator.resource_list"))
