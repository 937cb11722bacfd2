"""The production layout, run for real: gunicorn with three workers on PostgreSQL, Redis as the
limiter's storage, one `flask scheduler` process, a local SMTP server; driven over HTTP.

Runs in the PostgreSQL pass of `make test` (mandatory with CI=true), on a database of its own
(`deploytest` on the same server, dropped and created again at each run) and a Redis database
of its own (TEST_DEPLOY_REDIS_URL, default db 5 of TEST_REDIS_URL's server, flushed). Without
Redis it is skipped, or fails with CI=true. Data is seeded with the tests' factories before
the processes start; every process is stopped at the end, whatever happened.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import redis
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash

from app import create_app, jobs
from app.extensions import db, limiter
from app.models import Booking, BookingStatus, Enrolment, EnrolmentStatus, OutboxMessage, OutboxStatus
from app.services import training
from tests import factories
from tests.conftest import DATABASE_URL, _Collect, free_port, make_test_config
from tests.deploy.processes import alive, app_env, flask_command, run_flask, start, stop, wait_until
from tests.deploy.visitor import Answer, Visitor

pytestmark = pytest.mark.postgres

WORKERS = 3
CLIENTS = 24
CAPACITY = 3
SIGN_UPS = 8
FAILED_LOGINS_ALLOWED = 5
DATABASE_NAME = "deploytest"
_redis_base = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REDIS_URL = os.environ.get("TEST_DEPLOY_REDIS_URL") or urlsplit(_redis_base)._replace(path="/5").geturl()
PARIS = ZoneInfo("Europe/Paris")


@dataclass
class Deployment:
    base_url: str
    env: dict[str, str]
    app: Flask  # on the deployment's database, for seeding and for reading what the workers wrote
    seeded: dict[str, Any]
    mail: list  # what the SMTP server received
    logs: Path
    gunicorn: Any = None
    scheduler: Any = None
    stopped: dict[str, int] = field(default_factory=dict)

    @contextmanager
    def database(self) -> Iterator[Any]:
        with self.app.app_context():
            try:
                yield db.session
            finally:
                db.session.remove()

    def access_log(self) -> list[tuple[int, str, str, int]]:
        """(worker pid, method, path, status) of every request gunicorn answered."""
        lines = (self.logs / "access.log").read_text().splitlines()
        return [(int(p.strip("<>")), m, u, int(s)) for p, m, u, s in (line.split() for line in lines)]

    def worker_pids(self) -> set[int]:
        return {int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", self.log("gunicorn"))}

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")


@contextmanager
def own_limiter() -> Iterator[None]:
    """Apps made here rebind the one shared limiter object: it is given back afterwards."""
    saved = {name: getattr(limiter, name) for name in ("_storage", "_limiter", "_key_prefix")}
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(limiter, name, value)


def recreate_database(url: str) -> None:
    server = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {DATABASE_NAME}"))
    server.dispose()


def redis_or_skip() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and no Redis at {REDIS_URL}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    return client


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:  # refused, reset, or an HTTP error: not serving yet
        return False


def seed(app: Flask, now: datetime) -> dict[str, Any]:
    """Through the factories, on the wall clock the deployment runs on."""
    # A cheap hash of the same password: two dozen logins would otherwise spend seconds of the
    # workers' CPU in scrypt, which is not what this test is about.
    joined = {
        "created_at": now - timedelta(days=30),
        "approved_at": now - timedelta(days=29),
        "password_hash": generate_password_hash(factories.PASSWORD, method="pbkdf2:sha256:1000"),
    }
    with app.app_context():
        session = db.session
        members = [factories.make_user(session, **joined) for _ in range(CLIENTS)]
        free_to_book = factories.make_category(session, needs_approval=False)
        camera = factories.make_resource(session, category=free_to_book, name="Caméra disputée")
        course_start = now + timedelta(days=10)
        course = factories.make_training(
            session,
            trainer=factories.make_user(session, roles={"trainer"}, **joined),
            capacity=CAPACITY,
            starts_at=course_start,
            registration_deadline=course_start - timedelta(days=1),
            created_at=now - timedelta(days=5),
            updated_at=now - timedelta(days=5),
        )
        # A pickup in three hours: the scheduler's first tick finds its reminder due.
        reminded = factories.make_user(session, email="rappel@example.org", **joined)
        pickup = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=3)
        booking = factories.make_booking(
            session,
            resource=factories.make_resource(session, category=free_to_book, name="Micro du rappel"),
            user=reminded,
            starts_at=pickup,
            ends_at=pickup + timedelta(hours=2),
            created_at=now - timedelta(days=2),
            updated_at=now - timedelta(days=2),
        )
        forgetful = factories.make_user(session, email="oubli@example.org", **joined)
        seeded = {
            "members": [member.email for member in members],
            "member_ids": [member.id for member in members],
            "camera": camera.id,
            "course": course.id,
            "reminded_booking": booking.id,
            "reminded_email": reminded.email,
            "forgetful": forgetful.email,
        }
        db.session.remove()
        return seeded


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Iterator[Deployment]:
    from aiosmtpd.controller import Controller

    cache = redis_or_skip()
    logs = tmp_path_factory.mktemp("deployment")
    handler = _Collect()
    smtp = Controller(handler, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        url = make_url(DATABASE_URL).set(database=DATABASE_NAME).render_as_string(hide_password=False)
        credentials_key = Fernet.generate_key().decode()
        port = free_port()
        env = app_env(
            url,
            credentials_key,
            SITE_URL=f"http://127.0.0.1:{port}",
            RATELIMIT_STORAGE_URI=REDIS_URL,
            LOGIN_LIMIT_PER_ACCOUNT=f"{FAILED_LOGINS_ALLOWED} per 10 minutes",
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=str(smtp.port),
            MAIL_FROM="La Malle <no-reply@example.org>",
            # Generous: a loaded machine must not turn a slow answer into a retry, a second email.
            MAIL_TIMEOUT="60",
            UPLOAD_FOLDER=str(logs / "uploads"),
        )
        recreate_database(url)
        migrated = run_flask(env, "db", "upgrade")
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        with own_limiter():
            app = create_app(make_test_config(url, CREDENTIALS_KEY=credentials_key))
        seeded = seed(app, datetime.now(UTC))
        cache.flushdb()
        deployment = Deployment(f"http://127.0.0.1:{port}", env, app, seeded, handler.messages, logs)
        try:
            deployment.scheduler = start(flask_command("scheduler"), env, logs / "scheduler.log")
            deployment.gunicorn = start(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    f"--workers={WORKERS}",
                    f"--bind=127.0.0.1:{port}",
                    f"--access-logfile={logs / 'access.log'}",
                    "--access-logformat=%(p)s %(m)s %(U)s %(s)s",
                    "wsgi:app",
                ],
                env,
                logs / "gunicorn.log",
            )
            wait_until(
                lambda: "Scheduler running" in deployment.log("scheduler"),
                deployment.scheduler,
                logs / "scheduler.log",
                "the scheduler",
            )
            home = deployment.base_url + "/"
            wait_until(lambda: answers(home), deployment.gunicorn, logs / "gunicorn.log", "gunicorn")
            yield deployment
        finally:
            for name in ("gunicorn", "scheduler"):
                process = getattr(deployment, name)
                if process is not None and name not in deployment.stopped:
                    deployment.stopped[name] = stop(process)
            with app.app_context():
                db.engine.dispose()
    finally:
        smtp.stop()
        cache.flushdb()
        cache.close()


def at_once(calls: list[Callable[[], Answer]]) -> list[Answer]:
    """Run every call in a thread of its own, all released at the same instant."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Answer]) -> Answer:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.fixture(scope="module")
def members(deployment) -> list[Visitor]:
    """The seeded members, each logged in from a browser of their own."""

    def logged_in(email: str) -> Visitor:
        visitor = Visitor(deployment.base_url)
        assert visitor.log_in(email, factories.PASSWORD).status == 302
        return visitor

    with ThreadPoolExecutor(max_workers=6) as pool:
        return list(pool.map(logged_in, deployment.seeded["members"]))


def form_time(moment: datetime) -> str:
    return moment.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")


def test_twenty_four_members_booking_one_slot_at_once_leave_exactly_one_booking(deployment, members):
    camera = deployment.seeded["camera"]
    day = (datetime.now(PARIS) + timedelta(days=3)).date()
    start = datetime(day.year, day.month, day.day, 10, tzinfo=PARIS)
    path = f"/bookings/new?resource={camera}"
    slot = {"starts_at": form_time(start), "ends_at": form_time(start + timedelta(hours=2)), "purpose": "Fête"}
    for member in members:
        member.open_form(path)

    results = at_once([lambda m=member: m.post(path, slot) for member in members])

    assert Counter(r.status for r in results) == {302: 1, 200: CLIENTS - 1}
    refused = [r for r in results if r.status == 200]
    assert all("Déjà réservé sur cette période" in r.body for r in refused)
    with deployment.database() as session:
        made = session.scalars(select(Booking).where(Booking.resource_id == camera)).all()
        assert [(b.status, b.starts_at) for b in made] == [(BookingStatus.APPROVED, start.astimezone(UTC))]
        winner = next(r for r in results if r.status == 302)
        assert winner.location and winner.location.endswith(f"/bookings/{made[0].id}")
    # The requests went to several workers, each on its own connection to the database.
    served_by = {pid for pid, method, url, _ in deployment.access_log() if method == "POST" and url == "/bookings/new"}
    assert len(served_by) > 1


def test_sign_ups_past_capacity_seat_the_first_and_queue_the_rest_in_arrival_order(deployment, members):
    course = deployment.seeded["course"]
    page = f"/trainings/{course}"
    signing_up = members[:SIGN_UPS]
    for member in signing_up:
        member.open_form(page)

    results = at_once([lambda m=member: m.post(f"{page}/sign-up", {}) for member in signing_up])

    assert [r.status for r in results] == [302] * SIGN_UPS
    with deployment.database() as session:
        rows = session.scalars(select(Enrolment).where(Enrolment.session_id == course).order_by(Enrolment.id)).all()
        expected = [EnrolmentStatus.REGISTERED] * CAPACITY + [EnrolmentStatus.WAITLISTED] * (SIGN_UPS - CAPACITY)
        assert [r.status for r in rows] == expected  # seats to the first written, the rest waiting
        # The queue goes by arrival: each request's instant (workers may take the lock a few
        # milliseconds out of that order), then the order written.
        arrival = sorted(rows[CAPACITY:], key=lambda r: (r.queued_at, r.id))
        waiting = training.waitlist(session, course)
        assert [e.id for e in waiting] == [r.id for r in arrival]
        positions = training.waitlist_positions(session, waiting)
        assert [positions[e.id] for e in waiting] == list(range(1, SIGN_UPS - CAPACITY + 1))
        shown = {e.user_id: f"— n° {positions[e.id]}<" for e in waiting}
    # Each member's own page tells them where they stand: those waiting see their number.
    by_user = dict(zip(deployment.seeded["member_ids"], members, strict=True))
    for user_id, number in shown.items():
        assert number in by_user[user_id].get(page).body


def test_failed_logins_are_counted_across_workers_and_the_next_attempt_gets_429(deployment):
    email = deployment.seeded["forgetful"]
    visitors = [Visitor(deployment.base_url) for _ in range(FAILED_LOGINS_ALLOWED)]
    for visitor in visitors:
        visitor.open_form("/login")

    failed = at_once([lambda v=visitor: v.post("/login", {"email": email, "password": "faux"}) for visitor in visitors])
    assert [r.status for r in failed] == [200] * FAILED_LOGINS_ALLOWED  # the form again, with its error

    # Even with the right password, from a fresh browser, on whichever worker answers.
    assert Visitor(deployment.base_url).log_in(email, factories.PASSWORD).status == 429

    counted_by = {pid for pid, *request in deployment.access_log() if request == ["POST", "/login", 200]}
    assert len(counted_by) > 1, "the failures all went to one worker: nothing shown about sharing the count"
    cache = redis.Redis.from_url(REDIS_URL)
    assert any(email in key.decode() for key in cache.scan_iter()), "the count is not kept in Redis"
    cache.close()


def test_a_due_reminder_is_delivered_exactly_once(deployment):
    booking_id = deployment.seeded["reminded_booking"]
    key = re.compile(rf"booking:{booking_id}:pickup-reminder:\d{{8}}T\d{{4}}$")

    def delivered() -> list:
        return [m for m in list(deployment.mail) if key.match(str(m["X-LaMalle-Key"]))]

    deadline = time.monotonic() + 60  # the sender runs every 20 s
    while not delivered() and time.monotonic() < deadline and deployment.scheduler.poll() is None:
        time.sleep(0.2)
    assert delivered(), "no reminder arrived:\n" + deployment.log("scheduler")[-4000:]

    # Another process ticks and sends meanwhile (cron's `send-due`): nothing is written or sent twice.
    again = run_flask(deployment.env, "send-due")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "written=0" in again.stdout, again.stdout + again.stderr

    with deployment.database() as session:
        written = select(OutboxMessage).where(OutboxMessage.key.startswith(f"booking:{booking_id}:pickup-reminder:"))
        row = session.scalar(written)
        assert (row.status, row.attempts) == (OutboxStatus.SENT, 1), row.last_error
    assert len(delivered()) == 1, deployment.log("scheduler")[-4000:]
    [message] = delivered()
    assert str(message["X-LaMalle-Key"]) == row.key
    assert message["To"] == deployment.seeded["reminded_email"]
    assert "Demain : retrait de Micro du rappel" in str(message["Subject"])


def test_a_second_scheduler_started_by_mistake_refuses_to_run(deployment):
    second = run_flask(deployment.env, "scheduler", timeout=60)
    assert second.returncode == 1
    assert "Another scheduler is already running on this database" in second.stderr
    assert "PostgreSQL advisory lock" in second.stderr
    assert "Scheduler running" not in second.stdout
    assert deployment.scheduler.poll() is None  # the first one runs on


def test_everything_stops_cleanly_and_leaves_no_process_behind(deployment):
    workers = deployment.worker_pids()
    assert len(workers) >= WORKERS

    deployment.stopped["gunicorn"] = stop(deployment.gunicorn)
    deployment.stopped["scheduler"] = stop(deployment.scheduler)

    assert deployment.stopped == {"gunicorn": 0, "scheduler": 0}
    assert [pid for pid in workers if alive(pid)] == []
    assert "Scheduler stopped." in deployment.log("scheduler")
    # Its lock went with it: the next scheduler may start.
    jobs.acquire_scheduler_lock(deployment.app).release()
