"""Benchmark: a seeded data set, a load driver, a report.

    make bench                                   # SQLite in a temporary folder
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test make bench   # drops that schema!

Figures are wall-clock medians on this machine, to compare one change with another; they are
never asserted by the tests.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_app, entry
from app.db import unit_of_work
from app.extensions import db
from app.models import Booking
from app.services import booking, catalogue, feeds
from tests import factories

FEED_ITEMS = 2000
ROUNDS = 7


def median_ms(action, rounds: int = ROUNDS) -> float:
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL")
    folder = tempfile.mkdtemp()
    if url:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{folder}/bench.sqlite3"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "CREDENTIALS_KEY": Fernet.generate_key().decode(),
            "SERVER_NAME": "localhost",
            "SITE_URL": "http://localhost",
            "RATELIMIT_ENABLED": False,
        }
    )
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        session = db.session
        member = factories.make_user(session)
        category = factories.make_category(session, min_lead_hours=0, max_advance_days=3650)
        codes = ["09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"]
        resources = [
            factories.make_resource(session, category=category, departement_code=codes[i % 13]) for i in range(200)
        ]
        base = datetime.now(UTC) + timedelta(days=1)
        # A third of the items are bookings of physical items, each with its pickup and return.
        for n in range(FEED_ITEMS // 3 + 1):
            start = base + timedelta(days=n // 200 * 3)
            session.add(
                Booking(
                    resource_id=resources[n % 200].id,
                    user_id=member.id,
                    starts_at=start,
                    ends_at=start + timedelta(days=1),
                    held_until=start + timedelta(days=1),
                    status="approved",
                    purpose="Banc d'essai",
                    created_at=base,
                    updated_at=base,
                    sequence=0,
                )
            )
        session.commit()
        with unit_of_work(session):
            token = feeds.new_token(session, entry.build(app, member))
        member_id, category_id, first_resource_id = member.id, category.id, resources[0].id

    client = app.test_client()
    body = client.get(f"/feeds/me/{token}.ics").data
    events = body.count(b"BEGIN:VEVENT")
    feed_ms = median_ms(lambda: client.get(f"/feeds/me/{token}.ics"))
    etag = client.get(f"/feeds/me/{token}.ics").headers["ETag"]
    not_modified_ms = median_ms(lambda: client.get(f"/feeds/me/{token}.ics", headers={"If-None-Match": etag}))
    catalogue_ms = median_ms(lambda: client.get("/resources?free_from=2030-01-10T09:00&free_until=2030-01-12T18:00"))
    calendar_ms = median_ms(lambda: client.get(f"/resources/{first_resource_id}"))

    with app.app_context():
        session = db.session
        from app.models import User

        actor = session.get(User, member_id)
        free = list(session.scalars(catalogue.search(session, catalogue.ResourceFilter(category_id=category_id))))
        slot = iter(range(10_000))

        def create_one():
            n = next(slot)
            start = datetime.now(UTC) + timedelta(days=3000 + n)
            with unit_of_work(session):
                booking.create(
                    session,
                    entry.build(app, actor),
                    resource=free[n % len(free)],
                    starts_at=start,
                    ends_at=start + timedelta(hours=5),
                    purpose="",
                )

        create_ms = median_ms(create_one, rounds=21)

    kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"La Malle benchmark on {kind} (median of {ROUNDS} runs)")
    print(f"  personal feed, {events} events ({len(body) // 1024} KiB): {feed_ms:8.1f} ms")
    print(f"  same feed, 304 on its ETag:                  {not_modified_ms:8.1f} ms")
    print(f"  catalogue, free between two dates (200 res): {catalogue_ms:8.1f} ms")
    print(f"  resource page with its month calendar:       {calendar_ms:8.1f} ms")
    print(f"  booking created (checks + insert, median 21): {create_ms:7.1f} ms")


if __name__ == "__main__":
    main()
