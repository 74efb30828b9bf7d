"""0090: visits stored under a wrong activity location code get the right one, by the words the worker chose
(server/codes.py): "Community venue" B01 -> N03, "Cafe or public place" E01 -> N02, "Other place" A04 -> X01.
Each changed visit takes a new rev from the change counter (500 visits a rev), so every phone holding it
pulls the right code on its next sync. Frozen here: do not import server.models."""

import datetime as dt

MAPPING = {"B01": "N03", "E01": "N02", "A04": "X01"}
CHUNK = 500


def up(migrator, db):
    p = db.param
    olds = ", ".join([p] * len(MAPPING))
    select = f"SELECT id FROM visit WHERE location_type IN ({olds}) ORDER BY id"  # noqa: S608 - placeholders only
    ids = [row[0] for row in db.execute_sql(select, list(MAPPING)).fetchall()]
    if not ids:
        return
    chunks = [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]
    # The counter row is locked until this migration's transaction commits, as for any synced write.
    # Only placeholders ({p}, marks) are put into this SQL; every value travels as a parameter.
    db.execute_sql(f"UPDATE change_counter SET value = value + {p} WHERE name = {p}",  # noqa: S608
                   (len(chunks), "changes"))
    (last,) = db.execute_sql(f"SELECT value FROM change_counter WHERE name = {p}",  # noqa: S608
                             ("changes",)).fetchone()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(" ")
    for n, chunk in enumerate(chunks):
        rev = last - len(chunks) + 1 + n
        marks = ", ".join([p] * len(chunk))
        for old, new in MAPPING.items():
            db.execute_sql(f"UPDATE visit SET location_type = {p}, rev = {p}, updated_at = {p} "  # noqa: S608
                           f"WHERE location_type = {p} AND id IN ({marks})", [new, rev, now, old, *chunk])
