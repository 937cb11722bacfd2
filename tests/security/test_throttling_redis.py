"""Login throttling shared between workers through Redis (RATELIMIT_STORAGE_URI)."""

import os

import pytest
import redis

from tests.factories import PASSWORD

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_url():
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"no Redis at {REDIS_URL}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()


def test_two_workers_share_one_failed_login_count(make_app, make_user, redis_url):
    first_worker = make_app(RATELIMIT_STORAGE_URI=redis_url).test_client()
    second_worker = make_app(RATELIMIT_STORAGE_URI=redis_url).test_client()
    user = make_user()
    for client in (first_worker, second_worker, first_worker, second_worker, first_worker):
        assert client.post("/login", data={"email": user.email, "password": "faux"}).status_code == 200
    # Five failures spread over two processes: the account is now locked on both.
    response = second_worker.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
