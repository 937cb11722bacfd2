"""Fixtures of the API tests: personal tokens, and a client that sends them."""

from __future__ import annotations

import pytest
from flask import current_app

from app import entry
from app.db import unit_of_work
from app.extensions import db
from app.services import tokens
from tests import factories

NOW = factories.NOW


def iso(instant) -> str:
    return instant.isoformat()


@pytest.fixture
def make_token(session):
    """`make_token(user)` → the secret of a new personal token of that person."""

    def make(user, name: str = "script"):
        ctx = entry.build(current_app, user, NOW)
        with unit_of_work(db.session):
            return tokens.create(db.session, ctx, name=name).secret

    return make


class Api:
    """The test client, speaking JSON with a bearer token when given one."""

    def __init__(self, client):
        self.client = client

    def call(self, method: str, path: str, *, token: str | None = None, headers=None, **kwargs):
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        return self.client.open(path, method=method, headers=sent, **kwargs)

    def get(self, path: str, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.call("POST", path, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.call("DELETE", path, **kwargs)


@pytest.fixture
def api(client, clock):
    """Calls at NOW (the app's clock fixed), as the service tests' context is."""
    clock(NOW)
    return Api(client)
