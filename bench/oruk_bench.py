"""Open Referral UK export and import on a directory of N resources (default 2,000) on a temporary SQLite
file: prints seconds and services per second for the JSON export, the tabular package and the JSON import
(all services updated in one transaction). Figures only; nothing here fails on time."""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from server import create_app
    from server.db import write_transaction
    from server.models import Resource, Team, User
    from server.passwords import hash_password
    from server.sync.revisions import next_rev

    folder = tempfile.mkdtemp()
    app = create_app({"TESTING": True, "INSTANCE_PATH": folder, "DATABASE_URL": f"sqlite:///{folder}/b.db",
                      "MAX_REQUEST_BYTES": 64 * 1024 * 1024})
    with app.app_context(), write_transaction():
        team = Team.create(name="Bench")
        User.create(email="c@bench.test", name="C", role="coordinator", team=team,
                    password_hash=hash_password("bench-password-123"))
        for i in range(args.resources):
            Resource.create(name=f"Service {i}", category=f"Category {i % 9}", description="Free, open to all.",
                            address=f"{i} High Street, Northside, NS1 2AB", address_1=f"{i} High Street",
                            city="Northside", county="Greater Manchester", postcode="NS1 2AB", phone="0161 496 0000",
                            opening_hours="Mon-Fri 10:00-16:00", area="Northside", rev=next_rev())
    client = app.test_client()

    def csrf(path: str) -> str:
        return client.get(path).get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]

    client.post("/login", data={"email": "c@bench.test", "password": "bench-password-123",
                                "csrf_token": csrf("/login")})
    token = csrf("/coordinator/resources/import")
    timings: dict[str, list[float]] = {"JSON export": [], "tabular package": [], "JSON import": []}
    doc = b""
    for _ in range(args.runs):
        start = time.perf_counter()
        doc = client.get("/coordinator/resources/export.json").data
        timings["JSON export"].append(time.perf_counter() - start)
        start = time.perf_counter()
        client.get("/coordinator/resources/export-oruk.zip")
        timings["tabular package"].append(time.perf_counter() - start)
        if len(doc) <= 2 * 1024 * 1024:
            start = time.perf_counter()
            response = client.post("/coordinator/resources/import", data={
                "csrf_token": token, "file": (io.BytesIO(doc), "all.json")}, content_type="multipart/form-data")
            assert response.status_code == 200, response.status_code
            timings["JSON import"].append(time.perf_counter() - start)
    print(f"{args.resources} resources; JSON file {len(doc) / 1024:.0f} KB; median of {args.runs} runs")
    for name, values in timings.items():
        if values:
            median = statistics.median(values)
            print(f"  {name:16} {median:6.2f} s  {args.resources / median:7.0f} services/s")
        else:
            print(f"  {name:16} skipped (the file is over the 2 MB import limit)")


if __name__ == "__main__":
    main()
