"""Login throttling shared between workers through Redis (RATELIMIT_STORAGE_URI)."""

import os
import uuid

import pytest
import redis

from app.extensions import limiter
from tests.factories import PASSWORD

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_limits():
    """Settings for apps counting in Redis under keys of this test's own; only those are deleted.

    The Redis database may be shared (other runs, other projects): nothing else in it is touched.
    """
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"no Redis at {REDIS_URL}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"lamalle-test-{uuid.uuid4().hex}"
    # Flask-Limiter keeps its storage and key prefix on the one limiter object every app of
    # the test session shares: the apps below point it at Redis, so it is given back after,
    # and the reset that follows each test never reaches Redis.
    saved = {name: getattr(limiter, name) for name in ("_storage", "_limiter", "_key_prefix")}
    limiter._key_prefix = ""  # the first app's RATELIMIT_KEY_PREFIX is the one kept
    try:
        yield {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix}
    finally:
        for name, value in saved.items():
            setattr(limiter, name, value)
        for key in client.scan_iter(match=f"*{prefix}*"):
            client.delete(key)
        client.close()


def test_two_workers_share_one_failed_login_count(make_app, make_user, redis_limits):
    first_worker = make_app(**redis_limits).test_client()
    second_worker = make_app(**redis_limits).test_client()
    user = make_user()
    for client in (first_worker, second_worker, first_worker, second_worker, first_worker):
        assert client.post("/login", data={"email": user.email, "password": "faux"}).status_code == 200
    # Five failures spread over two processes: the account is now locked on both.
    response = second_worker.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 429


def test_the_counts_live_under_this_runs_own_keys(make_app, make_user, redis_limits):
    worker = make_app(**redis_limits).test_client()
    worker.post("/login", data={"email": make_user().email, "password": "faux"})
    client = redis.Redis.from_url(REDIS_URL)
    mine = list(client.scan_iter(match=f"*{redis_limits['RATELIMIT_KEY_PREFIX']}*"))
    client.close()
    assert mine, "the failed login was not counted under the test's prefix"
