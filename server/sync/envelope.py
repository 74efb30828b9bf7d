"""One pushed mutation's envelope (id, entity, record_id, op, base_rev, fields): loaded through MutationSchema
(a fast path compiled from it takes the plainly valid case), refusals worded as {field: [reason]}, and a digest
of its content, so a mutation id used again for other content is refused instead of silently dropped."""

from __future__ import annotations

import hashlib
import json
import uuid as uuidlib
from dataclasses import dataclass

import orjson
from marshmallow import ValidationError

from ..schemas import PULL_ONLY_ENTITIES, MutationSchema
from .errors import Rejected
from .rules import compile_schema

_SCHEMA = MutationSchema()
_FAST = compile_schema(_SCHEMA)
COORDINATOR_ONLY = ("assignment", "caseload")


@dataclass(slots=True)
class Mutation:
    id: uuidlib.UUID
    entity: str
    record_id: uuidlib.UUID
    op: str
    base_rev: int | None
    fields: dict
    digest: str
    checked: dict | None = None  # fields loaded ahead, as for a new record (see push.Batch)


def shown_id(raw) -> str | None:
    """The mutation id to echo in a refusal of an envelope that did not load."""
    raw_id = raw.get("id") if isinstance(raw, dict) else None
    return raw_id if isinstance(raw_id, str) and len(raw_id) <= 64 else None


def load(raw) -> Mutation:
    """The envelope, or Rejected with each field's reason (code forbidden for entities devices only receive)."""
    if isinstance(raw, dict) and raw.get("entity") in PULL_ONLY_ENTITIES + COORDINATOR_ONLY:
        reason = ("Only a coordinator can assign caseloads." if raw["entity"] in COORDINATOR_ONLY
                  else "Resources, reviews and supervision are kept by coordinators; devices only receive them.")
        raise Rejected("forbidden", {"entity": [reason]})
    loaded = _FAST(raw)
    if loaded is None:
        try:
            loaded = _SCHEMA.load(raw)
        except ValidationError as exc:
            raise Rejected("invalid", messages(exc.messages)) from None
    return Mutation(loaded["id"], loaded["entity"], loaded["record_id"], loaded["op"], loaded["base_rev"],
                    loaded["fields_"], digest(loaded))


def digest(loaded: dict) -> str:
    """What the mutation says, as a short hash: the same content always gives the same digest."""
    content = [loaded["entity"], str(loaded["record_id"]), loaded["op"], loaded["base_rev"], loaded["fields_"]]
    try:
        data = orjson.dumps(content, option=orjson.OPT_SORT_KEYS, default=str)
    except TypeError:  # text orjson will not write (a lone surrogate): the slower, lenient encoder
        data = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def messages(raw_messages) -> dict:
    """marshmallow messages -> {field: [reason, ...]}."""
    if isinstance(raw_messages, list):
        return {"_schema": [str(m) for m in raw_messages]}
    out = {}
    for key, value in raw_messages.items():
        if isinstance(value, dict):
            for sub_key, sub_value in messages(value).items():
                out[f"{key}.{sub_key}" if key not in ("fields", "_schema") else sub_key] = sub_value
        elif isinstance(value, list):
            out[str(key)] = [str(v) if not isinstance(v, dict) else json.dumps(v) for v in value]
        else:
            out[str(key)] = [str(value)]
    return out
