"""La Malle as the bench serves it: the real factory, on the bench's database.

The settings come from the environment that bench/run.py gives (BENCH_DATABASE_URL and the
keys), never from instance/config.py, which may point at a real database."""

from __future__ import annotations

import os

from app import create_app

app = create_app(
    {
        "SQLALCHEMY_DATABASE_URI": os.environ["BENCH_DATABASE_URL"],
        "SECRET_KEY": os.environ["BENCH_SECRET_KEY"],
        "CREDENTIALS_KEY": os.environ["BENCH_CREDENTIALS_KEY"],
        "SITE_URL": os.environ.get("BENCH_SITE_URL", "http://127.0.0.1"),
        # wrk asks from one address: the feeds' and the API's per-address limits would answer 429
        # after a second or two. The limiter still counts every request, as it does in production.
        "FEED_RATE_LIMIT": "1000000 per minute",
        "API_RATE_LIMIT": "1000000 per minute",
    }
)
