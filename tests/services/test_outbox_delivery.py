"""Emails are never lost and never sent twice: a real SMTP server (aiosmtpd), real processes.

Runs in both passes: on SQLite the senders serialise on BEGIN IMMEDIATE, on PostgreSQL they
claim with FOR UPDATE SKIP LOCKED.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import jobs
from app.db import unit_of_work
from app.models import OutboxMessage, OutboxStatus
from app.services import mail, outbox
from app.services.errors import Forbidden
from tests.conftest import _Collect, free_port
from tests.factories import NOW

ROOT = Path(__file__).resolve().parents[2]
# Rows a sender process (on the wall clock) finds due whenever the test runs.
LONG_AGO = datetime(2020, 1, 6, 9, 0, tzinfo=UTC)


def queue_many(session, n: int, now) -> list[str]:
    keys = [f"test:{i}:reminder" for i in range(n)]
    with unit_of_work(session):
        for key in keys:
            outbox.queue(
                session,
                key=key,
                to=f"{key.replace(':', '-')}@example.org",
                subject="Rappel",
                body_text="Bonjour",
                now=now,
            )
    return keys


def received_keys(smtp_server) -> Counter:
    return Counter(str(m["X-LaMalle-Key"]) for m in smtp_server.messages)


def settings_for(port: int, timeout: float = 5) -> mail.MailSettings:
    return mail.MailSettings("127.0.0.1", port, False, "", "", "La Malle <no-reply@example.org>", timeout)


@pytest.fixture
def send(session, ctx):
    """`send(port, now)`: one run of the sender job, at `now`, to the SMTP server on `port`."""

    def run(port: int, now) -> outbox.SendReport:
        settings = settings_for(port)
        return jobs.send_due(session, ctx(now=now), deliver=lambda m: mail.send(settings, m), sender=settings.sender)

    return run


def test_smtp_down_for_the_first_attempts_then_up_delivers_each_email_exactly_once(session, send):
    from aiosmtpd.controller import Controller

    now = NOW
    keys = queue_many(session, 5, now)
    port = free_port()  # nothing listens there yet

    first = send(port, now)
    assert (first.sent, first.retried) == (0, 5)
    assert send(port, now + timedelta(seconds=30)).retried == 0  # backing off: not due yet
    second = send(port, now + timedelta(minutes=1, seconds=1))
    assert second.retried == 5  # still down; next try in 2 minutes

    handler = _Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        third = send(port, now + timedelta(minutes=3, seconds=2))
        assert third.sent == 5
        assert send(port, now + timedelta(hours=1)).sent == 0
    finally:
        controller.stop()
    assert Counter(str(m["X-LaMalle-Key"]) for m in handler.messages) == Counter(keys)
    session.rollback()
    rows = session.scalars(select(OutboxMessage)).all()
    assert {r.status for r in rows} == {OutboxStatus.SENT} and {r.attempts for r in rows} == {3}


def test_a_row_that_keeps_failing_is_marked_failed_and_an_admin_retry_sends_it(
    session, ctx, send, smtp_server, make_user
):
    now = NOW
    queue_many(session, 1, now)
    dead = free_port()
    moment = now
    for _ in range(outbox.MAX_ATTEMPTS):
        send(dead, moment)
        moment += outbox.LONGEST_RETRY + timedelta(minutes=1)
    session.rollback()
    row = session.scalar(select(OutboxMessage))
    assert row.status == OutboxStatus.FAILED and row.attempts == outbox.MAX_ATTEMPTS
    assert "ConnectionRefused" in row.last_error
    with unit_of_work(session):
        outbox.retry(session, ctx(make_user(roles={"admin"}), now=moment), row.id)
    assert send(smtp_server.port, moment).sent == 1
    assert len(smtp_server.messages) == 1


def _sender_env(app, port: int, timeout: str = "10") -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAMALLE_", "FLASK_"))}
    env.update(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        SECRET_KEY="test-secret-key",
        CREDENTIALS_KEY=app.config["CREDENTIALS_KEY"],
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(port),
        MAIL_TIMEOUT=timeout,
        SITE_URL="http://localhost",
    )
    return env


def _sender(app, port: int, timeout: str = "10") -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "send-due"],
        cwd=ROOT,
        env=_sender_env(app, port, timeout),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


class _SlowCollect(_Collect):
    """Takes 20 ms per message, so that the two senders are likely at work at the same time."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.02)
        return await super().handle_DATA(server, session, envelope)


def test_two_sender_processes_at_once_send_every_email_exactly_once(app, session):
    from aiosmtpd.controller import Controller

    keys = queue_many(session, 150, LONG_AGO)
    handler = _SlowCollect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        senders = [_sender(app, controller.port), _sender(app, controller.port)]
        outputs = [proc.communicate(timeout=180)[0].decode() for proc in senders]
    finally:
        controller.stop()
    assert [proc.returncode for proc in senders] == [0, 0], outputs
    # Whichever sender took which rows, and whether or not they overlapped: each email
    # arrived exactly once, none is left behind, and each row says it was sent once.
    assert Counter(str(m["X-LaMalle-Key"]) for m in handler.messages) == Counter(keys)
    sent_by = [int(out.split("sent=")[1].split()[0]) for out in outputs]
    assert sum(sent_by) == 150
    session.rollback()
    rows = session.scalars(select(OutboxMessage)).all()
    assert {(r.status, r.attempts, r.claimed_until) for r in rows} == {(OutboxStatus.SENT, 1, None)}


class BlackHoleSmtp:
    """Accepts connections and never answers: a sender talking to it hangs until killed."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.port = self.socket.getsockname()[1]
        self.held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        try:
            while True:
                conn, _ = self.socket.accept()
                self.held.append(conn)
        except OSError:
            return

    def close(self):
        for conn in self.held:
            conn.close()
        self.socket.close()


def test_a_sender_killed_between_claim_and_send_loses_nothing_and_duplicates_no_key(app, session, send, smtp_server):
    keys = queue_many(session, 4, LONG_AGO)
    hole = BlackHoleSmtp()
    try:
        victim = _sender(app, hole.port, timeout="120")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            session.rollback()
            claimed = session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.claimed_until.is_not(None))
            )
            if claimed == 4 and hole.held:
                break
            time.sleep(0.1)
        assert claimed == 4, "the sender never claimed the rows"
        os.kill(victim.pid, signal.SIGKILL)  # dies with the rows claimed, nothing sent
        victim.wait(timeout=30)
    finally:
        hole.close()

    session.rollback()
    lease_ends = session.scalar(select(func.max(OutboxMessage.claimed_until)))
    assert send(smtp_server.port, lease_ends - timedelta(seconds=1)).sent == 0  # the dead one's lease holds
    session.rollback()
    # A restarted sender, once the dead one's lease has run out, sends everything.
    report = send(smtp_server.port, lease_ends + timedelta(seconds=1))
    assert report.sent == 4
    assert received_keys(smtp_server) == Counter(keys)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 4
    assert set(session.scalars(select(OutboxMessage.key))) == set(keys)


def test_writing_the_same_reminder_twice_keeps_one_row(session):
    with unit_of_work(session):
        assert outbox.queue(session, key="booking:1:pickup", to="a@example.org", subject="s", body_text="b", now=NOW)
        assert not outbox.queue(
            session, key="booking:1:pickup", to="a@example.org", subject="s", body_text="b", now=NOW
        )
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_a_hanging_smtp_server_never_blocks_a_web_request(make_app, make_user, session):
    hole = BlackHoleSmtp()
    try:
        app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=hole.port, MAIL_TIMEOUT=600)
        user = make_user()
        response = app.test_client().post("/password/forgot", data={"email": user.email})
        assert response.status_code == 302
        assert hole.held == []  # the request never spoke to the SMTP server
    finally:
        hole.close()
    session.rollback()
    row = session.scalar(select(OutboxMessage))
    assert row.status == OutboxStatus.PENDING and row.to_address == user.email


def test_approval_and_promotion_emails_carry_the_event(session, ctx, make_user, make_resource, make_training):
    import icalendar

    from app.services import booking, training

    member = make_user()
    host = make_user(hosts=("31",))
    resource = make_resource(departement_code="31")
    with unit_of_work(session):
        made = booking.create(
            session,
            ctx(member),
            resource=resource,
            starts_at=NOW + timedelta(days=2),
            ends_at=NOW + timedelta(days=3),
            purpose="",
        )
    with unit_of_work(session):
        booking.approve(session, ctx(host), booking=made)
    mail_row = session.scalar(select(OutboxMessage).where(OutboxMessage.key == f"booking:{made.id}:approved"))
    uids = {str(e["UID"]) for e in icalendar.Calendar.from_ical(mail_row.ics).walk("VEVENT")}
    assert f"booking-{made.id}@localhost" in uids
    message = mail.build(mail_row, "La Malle <x@example.org>")
    parts = [part.get_content_type() for part in message.walk()]
    assert {"text/plain", "text/html", "text/calendar"} <= set(parts)

    course = make_training(capacity=1, starts_at=NOW + timedelta(days=5))
    first, second = make_user(), make_user()
    with unit_of_work(session):
        seat = training.sign_up(session, ctx(first), training=course)
        training.sign_up(session, ctx(second), training=course)
    with unit_of_work(session):
        training.cancel_enrolment(session, ctx(first), enrolment=seat)
    promoted = session.scalar(select(OutboxMessage).where(OutboxMessage.key.like("enrolment:%:promoted:%")))
    assert promoted.to_address == second.email and "BEGIN:VEVENT" in promoted.ics


def _failed_row(session) -> OutboxMessage:
    queue_many(session, 1, NOW)
    with unit_of_work(session):
        row = session.scalar(select(OutboxMessage))
        row.status, row.attempts = OutboxStatus.FAILED, outbox.MAX_ATTEMPTS
    return row


def test_only_an_admin_may_send_a_failed_email_again(session, ctx, make_user):
    row = _failed_row(session)
    for someone in (None, make_user(), make_user(hosts=("31",))):
        with pytest.raises(Forbidden), unit_of_work(session):
            outbox.retry(session, ctx(someone), row.id)
        assert session.get(OutboxMessage, row.id).status == OutboxStatus.FAILED
    with unit_of_work(session):
        outbox.retry(session, ctx(make_user(roles={"admin"})), row.id)
    assert (row.status, row.attempts, row.next_attempt_at) == (OutboxStatus.PENDING, 0, NOW)


def test_claims_are_committed_before_anything_is_sent(session, ctx):
    keys = queue_many(session, 3, NOW)
    seen_claimed = []

    def deliver(message):
        # What another sender would see now: the rows already leased, so it leaves them.
        with unit_of_work(session):
            seen_claimed.append(outbox.claim(session, ctx(now=NOW), limit=10).ids)

    report = jobs.send_due(session, ctx(now=NOW), deliver=deliver, sender="x@example.org")
    assert report.sent == 3 and seen_claimed == [[], [], []]
    assert set(session.scalars(select(OutboxMessage.key).where(OutboxMessage.status == OutboxStatus.SENT))) == set(keys)


class _VerySlowCollect(_Collect):
    """An SMTP server slow enough for a batch of a few emails to outlast a short lease."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.4)
        return await super().handle_DATA(server, session, envelope)


def test_a_batch_slowed_past_its_lease_is_never_sent_again_by_a_second_sender(app, session):
    from aiosmtpd.controller import Controller

    from app.extensions import db
    from tests.factories import ctx

    keys = queue_many(session, 6, LONG_AGO)
    session.commit()
    handler = _VerySlowCollect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings = settings_for(controller.port)
    lease = timedelta(seconds=1)  # six emails at 0.4 s each outlast it: the second sender finds rows to take

    def sender(delay: float) -> None:
        time.sleep(delay)
        with app.app_context():
            try:
                jobs.send_due(
                    db.session,
                    ctx(now=datetime.now(UTC)),
                    deliver=lambda m: mail.send(settings, m),
                    sender=settings.sender,
                    lease=lease,
                    clock=lambda: datetime.now(UTC),
                )
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sender, args=(delay,)) for delay in (0, 1.3)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        controller.stop()
    assert Counter(str(m["X-LaMalle-Key"]) for m in handler.messages) == Counter(keys)
