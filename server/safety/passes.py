"""What every dispatcher pass runs before it sends: each function takes the pass's time and returns how many
things it did. `safety` registers escalation; lone working appends its overdue check."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from .alerts import escalate_due

log = logging.getLogger("alongside.safety")

PASSES: list[Callable[[dt.datetime], int]] = [escalate_due]


def run_passes(now: dt.datetime) -> dict[str, int]:
    """Each registered pass once; one failing does not stop the others (nor the sending after them)."""
    done = {}
    for check in PASSES:
        name = getattr(check, "__name__", "pass")
        try:
            done[name] = check(now)
        except Exception as exc:  # noqa: BLE001 - the type only: never a value that could carry a name
            log.error("safety pass %s failed: %s", name, type(exc).__name__)
            done[name] = 0
    return done
