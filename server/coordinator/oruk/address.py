"""UK addresses: finding a postcode in free text and splitting the text into the structured address that
Open Referral UK asks for (line 1, town or city, county, postcode, country)."""

from __future__ import annotations

import re

# The shape of a UK postcode (outward code, space optional, inward code), as Royal Mail publishes it.
POSTCODE = re.compile(
    r"\b(GIR ?0AA|[A-PR-UWYZ](?:[0-9][0-9A-HJKPSTUW]?|[A-HK-Y][0-9][0-9ABEHMNPRVWXY]?) ?[0-9][ABD-HJLNP-UW-Z]{2})\b",
    re.IGNORECASE)
LIMITS = {"address_1": 200, "city": 100, "county": 100, "postcode": 10}


def normalise_postcode(text: str) -> str:
    """'ns12ab' -> 'NS1 2AB'; text that is not a UK postcode is returned as it was."""
    match = POSTCODE.fullmatch(text.strip())
    if not match:
        return text.strip()
    compact = re.sub(r"\s", "", match.group(1)).upper()
    return f"{compact[:-3]} {compact[-3:]}"


def split_address(text: str) -> dict:
    """The structured parts of a free-text address: the postcode where there is one, the last remaining
    part as the town or city, the rest as line 1. Parts that would not fit are left empty."""
    parts = [p.strip() for p in re.split(r"[,\n]", text or "") if p.strip()]
    postcode = ""
    for i in range(len(parts) - 1, -1, -1):
        found = list(POSTCODE.finditer(parts[i]))
        if found:
            postcode = normalise_postcode(found[-1].group(1))
            rest = (parts[i][:found[-1].start()] + parts[i][found[-1].end():]).strip(" ,")
            parts[i:i + 1] = [rest] if rest else []
            break
    city = parts.pop() if len(parts) > 1 else ""
    fields = {"address_1": ", ".join(parts), "city": city, "county": "", "postcode": postcode}
    return {key: value if len(value) <= LIMITS[key] else "" for key, value in fields.items()}


def join_address(parts: dict) -> str:
    """The free-text address that phones show, from the structured one."""
    return ", ".join(parts[k] for k in ("address_1", "city", "county", "postcode") if parts.get(k))
