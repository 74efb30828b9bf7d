"""Helpers for the sync tests (test_sync_*.py): mutation builders, caseload set-up, a device over HTTP."""

from __future__ import annotations

import gzip
import json
import uuid

from helpers import api_login

from server.db import write_transaction
from server.models import Person, Resource


def new_id() -> str:
    return str(uuid.uuid4())


def mutation(entity, record_id, fields=None, op="upsert", base_rev=None, mid=None) -> dict:
    return {"id": mid or new_id(), "entity": entity, "record_id": str(record_id), "op": op,
            "base_rev": base_rev, "fields": fields or {}}


def visit_fields(person_id, **extra) -> dict:
    return {"person_id": str(person_id), "started_at": "2026-11-20T10:00:00+00:00", **extra}


def person_on_caseload(worker, name="Sam", by=None) -> Person:
    """A person in the worker's team, assigned to the worker (as a coordinator would)."""
    with write_transaction():
        from server.sync.revisions import next_rev

        person = Person.create(team=worker.team_id, display_name=name, rev=next_rev())
        person.assign_to(worker, by)
    return person


def make_resource(name="Food bank") -> Resource:
    from server.sync.revisions import next_rev

    with write_transaction():
        return Resource.create(name=name, rev=next_rev())


def read_json(response):
    data = response.get_data()
    if response.headers.get("Content-Encoding") == "gzip":
        data = gzip.decompress(data)
    return json.loads(data)


class HttpDevice:
    """A phone over HTTP: signs in, registers, pushes and pulls, and keeps a local copy of what it pulled."""

    def __init__(self, client, user, name="phone"):
        self.client = client
        self.user = user
        self.csrf = api_login(client, user)
        response = client.post("/api/v1/devices", json={"name": name}, headers={"X-CSRF-Token": self.csrf})
        assert response.status_code == 201, response.get_json()
        self.device_id = response.get_json()["device_id"]
        self.cursor = 0
        self.records: dict[tuple[str, str], dict] = {}

    def push(self, mutations, expect=200):
        response = self.client.post("/api/v1/sync/push", json={"device_id": self.device_id, "mutations": mutations},
                                    headers={"X-CSRF-Token": self.csrf})
        assert response.status_code == expect, response.get_json()
        return response.get_json()["results"] if expect == 200 else response.get_json()

    def pull_page(self, cursor=None, limit=500, **headers):
        response = self.client.get(f"/api/v1/sync/pull?cursor={self.cursor if cursor is None else cursor}"
                                   f"&limit={limit}", headers={"X-Device-Id": self.device_id, **headers})
        return response

    def pull_all(self, limit=500) -> list[dict]:
        """Pull until `more` is false, applying each page like the PWA does; returns every change seen."""
        seen = []
        while True:
            response = self.pull_page(limit=limit)
            assert response.status_code == 200, response.get_data()[:300]
            page = read_json(response)
            for item in page["purge"]:
                self.records.pop((item["entity"], item["record_id"]), None)
            for change in page["changes"]:
                key = (change["entity"], change["record_id"])
                if change["deleted"]:
                    self.records.pop(key, None)
                else:
                    self.records[key] = change
                seen.append(change)
            assert page["cursor"] >= self.cursor or not page["changes"]
            self.cursor = page["cursor"]
            if not page["more"]:
                return seen

    def ids(self, entity) -> set[str]:
        return {rid for (ent, rid) in self.records if ent == entity}
