"""Helpers shared by test modules (import them: `from helpers import api_login`)."""

from __future__ import annotations

import re

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
PASSWORD = "correct-horse-battery"


def api_login(client, user_or_email, password=PASSWORD) -> str:
    """Sign in through the JSON API; returns the CSRF token for later writes."""
    email = user_or_email if isinstance(user_or_email, str) else user_or_email.email
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["csrf_token"]


def form_login(client, user_or_email, password=PASSWORD):
    """Sign in through the /login form (coordinator pages); returns the response."""
    email = user_or_email if isinstance(user_or_email, str) else user_or_email.email
    page = client.get("/login")
    token = csrf_from_html(page.get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def csrf_from_html(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no csrf_token field on the page"
    return match.group(1)




def end_sessions(user) -> None:
    """End every session of this user on the server, as a time-out would (signing out on purpose also retires
    the field devices the session used)."""
    from server.db import utcnow, write_transaction
    from server.models import UserSession

    with write_transaction():
        UserSession.update(revoked_at=utcnow()).where(UserSession.user == user.id).execute()


def create_as_was(model, **values):
    """A row of `model` in a database migrated only part of the way: only the columns its table has yet (a
    migration test that writes old data with today's model would name columns a later migration adds).
    Returns an instance holding just the id, enough to refer to it."""
    import peewee

    database = model._meta.database
    present = {c.name for c in database.get_columns(model._meta.table_name)}
    row = {}
    for name, field in model._meta.fields.items():
        if field.column_name not in present or isinstance(field, peewee.AutoField):
            continue
        if name in values:
            value = values[name]
        elif field.default is not None:
            value = field.default() if callable(field.default) else field.default
        else:
            continue
        if isinstance(value, peewee.Model):
            value = value.id
        row[field.column_name] = field.db_value(value)
    table = peewee.Table(model._meta.table_name, columns=["id", *row])
    cursor = database.execute(table.insert(row).returning(table.id))
    return model(id=cursor.fetchone()[0])
