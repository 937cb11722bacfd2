"""Fixtures shared by every test.

The suite runs twice under `make test`: on SQLite (a file, so that threads and processes
share it), then on PostgreSQL when LAMALLE_TEST_DATABASE_URL is set. The schema is built
by the Alembic migrations, as in production; each test starts from empty tables (the
départements, loaded by a migration, stay).
"""

from __future__ import annotations

import os
import socket
import tempfile
from email import message_from_bytes
from email import policy as email_policy

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from app import create_app
from app.extensions import db, limiter
from tests import factories

DATABASE_URL = os.environ.get("LAMALLE_TEST_DATABASE_URL", "")
ON_POSTGRES = DATABASE_URL.startswith("postgresql")
KEPT_TABLES = {
    "departements",
    "training_topics",
    "agenda_themes",
    "guide_pages",
    "guide_revisions",
    "alembic_version",
}  # loaded by migrations


def pytest_report_header(config):
    return f"database: {'PostgreSQL ' + DATABASE_URL if ON_POSTGRES else 'SQLite'}"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "postgres" in item.keywords and not ON_POSTGRES:
            item.add_marker(pytest.mark.skip(reason="runs in the PostgreSQL pass of make test"))
        if "browser" in item.keywords and ON_POSTGRES:
            item.add_marker(pytest.mark.skip(reason="runs in the SQLite pass of make test"))


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if ON_POSTGRES:
        _reset_postgres(DATABASE_URL)
        return DATABASE_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'lamalle-test.sqlite3'}"


def make_test_config(database_url: str, **overrides) -> dict:
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key",
        "CREDENTIALS_KEY": Fernet.generate_key().decode(),
        "WTF_CSRF_ENABLED": False,
        "MAIL_SERVER": "",
        "RATELIMIT_STORAGE_URI": "memory://",
        "SITE_URL": "http://localhost",
        "SERVER_NAME": "localhost",
        # Photos written by tests go to a folder of the run's own, never to instance/.
        "UPLOAD_FOLDER": tempfile.mkdtemp(prefix="lamalle-uploads-"),
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def app(database_url):
    from flask_migrate import upgrade

    app = create_app(make_test_config(database_url))
    with app.app_context():
        upgrade()
    return app


@pytest.fixture
def make_app(app, database_url):
    """Another app on the same database, with other settings (CSRF on, a route of the test's own…)."""
    return lambda **overrides: create_app(
        make_test_config(database_url, CREDENTIALS_KEY=app.config["CREDENTIALS_KEY"], **overrides)
    )


@pytest.fixture(autouse=True)
def session(app):
    """The app's session for the test body; tables emptied afterwards."""
    with app.app_context():
        yield db.session
        db.session.remove()
        _empty_tables()
    limiter.reset()


def _empty_tables() -> None:
    # DELETE in dependency order rather than TRUNCATE … CASCADE, which on PostgreSQL would
    # also empty the kept tables that merely reference a person (guide revisions).
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in KEPT_TABLES]
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE guide_revisions SET author_id = NULL WHERE author_id IS NOT NULL"))
        for table in tables:
            conn.execute(table.delete())


# The kept tables a test may write to (an admin's form, a fuzzer), parents first.
RESTORABLE_TABLES = ("training_topics", "agenda_themes", "guide_pages", "guide_revisions")


@pytest.fixture
def kept_tables_restored(app, session):
    """For tests that write to the tables kept between tests: they are put back as they were."""
    tables = [db.metadata.tables[name] for name in RESTORABLE_TABLES]
    with db.engine.connect() as conn:
        saved = {table.name: [dict(row._mapping) for row in conn.execute(table.select())] for table in tables}
    yield
    db.session.remove()
    _empty_tables()  # first what refers to them (sessions of a new topic, events of a new theme)
    with db.engine.begin() as conn:
        for table in reversed(tables):
            conn.execute(table.delete())
        for table in tables:
            if saved[table.name]:
                conn.execute(table.insert(), saved[table.name])


@pytest.fixture
def ctx(app):
    """A service context: `ctx(actor, now=…)`; NOW (a Monday morning of 2027) unless told."""
    return factories.make_context


@pytest.fixture
def clock(app):
    """The web app's clock, fixed: `clock(instant)`; put back to the wall clock after the test."""

    def set_clock(now):
        app.config["FIXED_NOW"] = now
        return now

    yield set_clock
    app.config.pop("FIXED_NOW", None)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, user, password: str = factories.PASSWORD):
        response = self._client.post("/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, "login failed"
        return response

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def make_user(session):
    return lambda **overrides: factories.make_user(session, **overrides)


@pytest.fixture
def make_category(session):
    return lambda **overrides: factories.make_category(session, **overrides)


@pytest.fixture
def make_resource(session):
    return lambda **overrides: factories.make_resource(session, **overrides)


@pytest.fixture
def make_training(session):
    return lambda **overrides: factories.make_training(session, **overrides)


@pytest.fixture
def make_event(session):
    return lambda **overrides: factories.make_event(session, **overrides)


@pytest.fixture
def make_pickup_point(session):
    return lambda **overrides: factories.make_pickup_point(session, **overrides)


@pytest.fixture
def make_booking(session):
    return lambda **overrides: factories.make_booking(session, **overrides)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Collect:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=email_policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server():
    """A real SMTP server on localhost (aiosmtpd); `.messages` holds what it received."""
    from aiosmtpd.controller import Controller

    handler = _Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    controller.messages = handler.messages
    yield controller
    controller.stop()
