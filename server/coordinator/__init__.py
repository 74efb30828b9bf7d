"""Coordinator workspace (server-rendered pages under /coordinator/)."""

from flask import Blueprint

from ..security import require_role_for_blueprint

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator", template_folder="templates")
require_role_for_blueprint(bp, "coordinator", "admin")


@bp.get("/")
def home():
    from flask import render_template_string

    return render_template_string("{% extends 'base.html' %}{% block main %}<h1>Coordinator</h1>{% endblock %}")
