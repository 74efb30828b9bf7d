"""The sync engine, free of Flask (DESIGN.md, "Sync contract"): push applies a device's mutations at most once,
in order, authorised and with conflicts kept per field; pull answers changes in scope, paged by rev.

    scope.py      who may see which person (the one rule: a predicate and a query)
    revisions.py  the change counter and stamp_change(): how every synced write is stamped
    rules.py      field rules from the schemas: published to the phone, and a fast check
    envelope.py   a mutation's envelope and its content digest
    push.py       a batch, at most once, in order; handlers.py per entity; writes.py, bulk.py
    pull.py       pages of changes; pull_queries.py holds the SQL
    wire.py       records as they travel
    devices.py    field devices
"""

from .devices import device_for, register_device, touch_device
from .errors import Rejected, SyncError
from .pull import pull_changes
from .push import apply_batch

__all__ = ["Rejected", "SyncError", "apply_batch", "device_for", "pull_changes", "register_device", "touch_device"]
