"""0077: the dispatcher pass's search for alerts nobody acknowledged (safety.alerts.escalate_due) reads an index
that starts with the three "still open" columns, so a year of resolved alerts is never walked (the 0070 index on
(escalated_at, escalate_at) visits every alert that was resolved without escalating: 45 ms with 20,000 of them;
bench/README.md, Lone working). Lone working's own searches use check_in (status, expected_end_at) from 0076."""


def up(migrator, db):
    db.execute_sql('CREATE INDEX IF NOT EXISTS "staff_alert_open_due" ON "staff_alert" '
                   '("resolved_at", "acknowledged_at", "escalated_at", "escalate_at")')
