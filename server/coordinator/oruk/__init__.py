"""Open Referral UK 3.0 (HSDS 3.0 plus the UK rules) for the resource directory: shape (what both official
schemas allow), address (UK postcodes), schedules, service (export), mapping (import of one service), reader
(import files), tabular (the CSV data package), feed (the read-only ORUK API)."""
