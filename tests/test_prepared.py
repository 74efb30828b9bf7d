"""server/prepared.py: a query built once and run again with new values gives what peewee's own query gives."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from server import sync
from server.db import utcnow, write_transaction
from server.models import Device, User, UserSession
from server.prepared import Prepared

SESSION = Prepared(lambda token: (UserSession.select(UserSession, User).join(User)
                                  .where((UserSession.token == token) & UserSession.revoked_at.is_null()).limit(1)),
                   token=UserSession.token)
DEVICE = Prepared(lambda uuid, user: Device.select().where((Device.uuid == uuid) & (Device.user == user)),
                  uuid=Device.uuid, user=Device.user)


def test_rows_are_the_model_instances_peewees_own_query_gives(worker, make_user):
    other = make_user(role="peer_worker")
    with write_transaction():
        tokens = [UserSession.create(user=u, token=f"token-{u.id}", kind="device").token for u in (worker, other)]
    for token in tokens + tokens:  # run again: the built query is reused
        mine = SESSION.first(token=token)
        theirs = (UserSession.select(UserSession, User).join(User)
                  .where((UserSession.token == token) & UserSession.revoked_at.is_null()).first())
        assert mine.__data__ == theirs.__data__ and mine.user.__data__ == theirs.user.__data__
        assert isinstance(mine.created_at, dt.datetime) and isinstance(mine.user.uuid, uuid.UUID)
    assert SESSION.first(token="no such token") is None
    with write_transaction():
        UserSession.update(revoked_at=utcnow()).where(UserSession.token == tokens[0]).execute()
    assert SESSION.first(token=tokens[0]) is None


def test_each_value_is_converted_by_its_field(worker, make_user):
    device = sync.register_device(worker, "Phone")
    for given in (device.uuid, str(device.uuid), device.uuid.hex):  # as a device names itself, or as stored
        assert [d.id for d in DEVICE.rows(uuid=given, user=worker)] == [device.id]
        assert [d.id for d in DEVICE.rows(uuid=given, user=worker.id)] == [device.id]
    assert list(DEVICE.rows(uuid=device.uuid, user=make_user(role="peer_worker"))) == []
    assert list(DEVICE.rows(uuid=uuid.uuid4(), user=worker)) == []


def test_a_value_written_into_the_sql_is_refused(app):
    inlined = Prepared(lambda token: UserSession.select().where(UserSession.token == "fixed"), token=UserSession.token)
    with pytest.raises(RuntimeError, match="each value as a parameter"):
        inlined.first(token="anything")


def test_an_update_runs_with_its_values_and_says_how_many_rows_it_changed(worker):
    seen = Prepared(lambda device, now: Device.update(last_seen_at=now, last_sync_at=now).where(Device.id == device),
                    device=Device.id, now=Device.last_seen_at)
    first, second = sync.register_device(worker, "Phone"), sync.register_device(worker, "Tablet")
    when = dt.datetime(2026, 11, 30, 9, 15, 30, 123456)
    with write_transaction():
        assert seen.execute(device=first.id, now=when) == 1
        assert seen.execute(device=-1, now=when) == 0
    again = Device.get_by_id(first.id)
    assert again.last_seen_at == when and again.last_sync_at == when
    assert Device.get_by_id(second.id).last_sync_at is None
