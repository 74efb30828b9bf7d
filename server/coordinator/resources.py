"""The shared resource directory: list with filters, create, edit, archive and restore. Every change
takes a rev from the change sequence, so the next pull brings it to every worker's phone."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from peewee import fn

from ..db import write_transaction
from ..models import Resource
from ..sync.revisions import stamp_new, stamp_values
from . import bp
from .access import BadInput, audit, clean_text, get_resource_or_404, link_args, parse_page
from .oruk import schedules as schedules_mod
from .oruk.address import POSTCODE, join_address, normalise_postcode

PAGE_SIZE = 50
LIMITS = {"name": 200, "category": 80, "description": 4000, "address": 1000, "phone": 60, "website": 500,
          "opening_hours": 1000, "area": 120}
FORM_LIMITS = {"name": 200, "category": 80, "description": 4000, "phone": 60, "website": 500,
               "opening_hours": 1000, "area": 120, "organization_name": 200, "organization_description": 4000,
               "address_1": 200, "city": 100, "county": 100, "postcode": 10}
LABELS = {"name": "Name", "category": "Category", "description": "Description", "phone": "Phone",
          "website": "Website", "opening_hours": "Opening hours in words", "area": "Area",
          "organization_name": "Organisation", "organization_description": "About the organisation",
          "address_1": "Address line", "city": "Town or city", "county": "County", "postcode": "Postcode"}
STATUS_LABELS = {"active": "Open", "temporarily closed": "Temporarily closed", "inactive": "Not running",
                 "defunct": "Closed for good"}
LOCATION_LABELS = {"physical": "A place people visit", "postal": "A postal address only",
                   "virtual": "Online or by phone only"}


def check_website(url: str) -> str:
    if url and not url.lower().startswith(("http://", "https://")):
        raise BadInput("Website: start the address with https:// (or http://).")
    return url


def resource_fields(form, current: Resource | None = None) -> dict:
    """The resource's fields from the form; the free-text address phones show is made from the parts."""
    fields = {key: clean_text(form.get(key), LABELS[key], limit, required=(key == "name"))
              for key, limit in FORM_LIMITS.items()}
    fields["website"] = check_website(fields["website"])
    if fields["postcode"]:
        fields["postcode"] = normalise_postcode(fields["postcode"])
        if not POSTCODE.fullmatch(fields["postcode"]):
            raise BadInput("Postcode: that is not a UK postcode (like NS1 2AB).")
    status = form.get("status") or "active"
    location_type = form.get("location_type") or "physical"
    if status not in Resource.STATUSES:
        raise BadInput("Status: choose one of the options.")
    if location_type not in Resource.LOCATION_TYPES:
        raise BadInput("Where: choose one of the options.")
    try:
        schedules = schedules_mod.from_form(form, schedules_mod.load(current.schedules) if current else [])
    except schedules_mod.ScheduleError as exc:
        raise BadInput(f"Opening times: {exc}") from exc
    fields.update(Resource.status_values(status), location_type=location_type,
                  schedules=schedules_mod.dump(schedules), address=join_address(fields))
    if current is not None and current.address_parts() == [p for p in (
            fields["address_1"], fields["city"], fields["county"], fields["postcode"]) if p]:
        fields["address"] = current.address  # unchanged place: keep the wording phones show
    return fields


def categories() -> list[str]:
    rows = (Resource.select(Resource.category)
            .where(~Resource.deleted & (Resource.category != ""))
            .distinct()
            .order_by(Resource.category)
            .tuples())
    return [c for (c,) in rows]


def _form(resource: Resource | None):
    week, others = schedules_mod.split_for_form(schedules_mod.load(resource.schedules) if resource else [])
    return render_template("coordinator/resource_form.html", resource=resource, categories=categories(),
                           days=schedules_mod.DAYS, week=week, other_schedules=schedules_mod.describe(others),
                           statuses=STATUS_LABELS, location_types=LOCATION_LABELS)


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
                           args=link_args(request.args))


@bp.route("/resources/new", methods=["GET", "POST"])
def resource_new():
    if request.method == "GET":
        return _form(None)
    fields = resource_fields(request.form)
    with write_transaction():
        resource = Resource.create(**fields, **stamp_new(Resource))
        audit("resource.create", "resource", resource.uuid)
    flash(f"{resource.name} added to the directory.", "ok")
    return redirect(url_for("coordinator.resource_list"))


@bp.route("/resources/<resource_id>/edit", methods=["GET", "POST"])
def resource_edit(resource_id):
    resource = get_resource_or_404(resource_id)
    if request.method == "GET":
        return _form(resource)
    fields = resource_fields(request.form, resource)
    with write_transaction():
        Resource.update(**fields, **stamp_values(resource, ())).where(Resource.id == resource.id).execute()
        audit("resource.edit", "resource", resource.uuid)
    flash("Resource saved.", "ok")
    return redirect(url_for("coordinator.resource_list"))


@bp.post("/resources/<resource_id>/archive")
def resource_archive(resource_id):
    resource = get_resource_or_404(resource_id)
    archived = request.form.get("archived", "1") == "1"
    if resource.archived != archived:
        with write_transaction():
            (Resource.update(**Resource.status_values("inactive" if archived else "active"),
                             **stamp_values(resource, ()))
             .where(Resource.id == resource.id).execute())
            audit("resource.archive" if archived else "resource.restore", "resource", resource.uuid)
    flash(f"{resource.name} {'archived' if archived else 'restored'}.", "ok")
    return redirect(url_for("coordinator.resource_list"))
