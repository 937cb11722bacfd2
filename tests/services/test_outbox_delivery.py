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
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from app.i18n import utcnow
from app.models import OutboxMessage
from app.services import mail, outbox
from tests.conftest import _Collect, free_port

ROOT = Path(__file__).resolve().parents[2]


def queue_many(session, n: int, now) -> list[str]:
    keys = [f"test:{i}:reminder" for i in range(n)]
    for key in keys:
        outbox.queue(
            session, key=key, to=f"{key.replace(':', '-')}@example.org", subject="Rappel", body_text="Bonjour", now=now
        )
    session.commit()
    return keys


def received_keys(smtp_server) -> Counter:
    return Counter(str(m["X-LaMalle-Key"]) for m in smtp_server.messages)


def settings_for(port: int, timeout: float = 5) -> mail.MailSettings:
    return mail.MailSettings("127.0.0.1", port, False, "", "", "La Malle <no-reply@example.org>", timeout)


def send(session, port: int, now) -> outbox.SendReport:
    settings = settings_for(port)
    return outbox.send_due(session, deliver=lambda m: mail.send(settings, m), sender=settings.sender, now=now)


def test_smtp_down_for_the_first_attempts_then_up_delivers_each_email_exactly_once(session):
    from aiosmtpd.controller import Controller

    now = utcnow()
    keys = queue_many(session, 5, now)
    port = free_port()  # nothing listens there yet

    first = send(session, port, now)
    assert (first.sent, first.retried) == (0, 5)
    assert send(session, port, now + timedelta(seconds=30)).retried == 0  # backing off: not due yet
    second = send(session, port, now + timedelta(minutes=1, seconds=1))
    assert second.retried == 5  # still down; next try in 2 minutes

    handler = _Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        third = send(session, port, now + timedelta(minutes=3, seconds=2))
        assert third.sent == 5
        assert send(session, port, now + timedelta(hours=1)).sent == 0
    finally:
        controller.stop()
    assert Counter(str(m["X-LaMalle-Key"]) for m in handler.messages) == Counter(keys)
    session.rollback()
    rows = session.scalars(select(OutboxMessage)).all()
    assert {r.status for r in rows} == {"sent"} and {r.attempts for r in rows} == {3}


def test_a_row_that_keeps_failing_is_marked_failed_and_an_admin_retry_sends_it(session, smtp_server):
    now = utcnow()
    queue_many(session, 1, now)
    dead = free_port()
    moment = now
    for _ in range(outbox.MAX_ATTEMPTS):
        send(session, dead, moment)
        moment += outbox.LONGEST_RETRY + timedelta(minutes=1)
    session.rollback()
    row = session.scalar(select(OutboxMessage))
    assert row.status == "failed" and row.attempts == outbox.MAX_ATTEMPTS and "ConnectionRefused" in row.last_error
    outbox.retry(session, row.id, moment)
    assert send(session, smtp_server.port, moment).sent == 1
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
    """Takes 20 ms per message, so that two senders are surely at work at the same time."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.02)
        return await super().handle_DATA(server, session, envelope)


def test_two_sender_processes_at_once_send_every_email_exactly_once(app, session):
    from aiosmtpd.controller import Controller

    keys = queue_many(session, 150, utcnow() - timedelta(seconds=5))
    handler = _SlowCollect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        senders = [_sender(app, controller.port), _sender(app, controller.port)]
        outputs = [proc.communicate(timeout=180)[0].decode() for proc in senders]
    finally:
        controller.stop()
    assert [proc.returncode for proc in senders] == [0, 0], outputs
    assert Counter(str(m["X-LaMalle-Key"]) for m in handler.messages) == Counter(keys)
    sent_by = [int(out.split("sent=")[1].split()[0]) for out in outputs]
    assert sum(sent_by) == 150
    assert min(sent_by) > 0, f"the two senders did not overlap: {sent_by}"


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


def test_a_sender_killed_between_claim_and_send_loses_nothing_and_duplicates_no_key(app, session, smtp_server):
    keys = queue_many(session, 4, utcnow() - timedelta(seconds=5))
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
    # A restarted sender, once the dead one's lease has run out, sends everything.
    report = send(session, smtp_server.port, utcnow() + outbox.LEASE + timedelta(seconds=5))
    assert report.sent == 4
    assert received_keys(smtp_server) == Counter(keys)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 4
    assert set(session.scalars(select(OutboxMessage.key))) == set(keys)


def test_writing_the_same_reminder_twice_keeps_one_row(session):
    now = utcnow()
    assert outbox.queue(session, key="booking:1:pickup", to="a@example.org", subject="s", body_text="b", now=now)
    assert not outbox.queue(session, key="booking:1:pickup", to="a@example.org", subject="s", body_text="b", now=now)
    session.commit()
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
    assert row.status == "pending" and row.to_address == user.email


def test_approval_and_promotion_emails_carry_the_event(session, make_user, make_resource, make_training):
    import icalendar

    from app.services import booking, training

    member = make_user()
    host = make_user(hosts=("31",))
    resource = make_resource(departement_code="31")
    now = utcnow()
    made = booking.create(
        session,
        actor=member,
        resource=resource,
        starts_at=now + timedelta(days=2),
        ends_at=now + timedelta(days=3),
        purpose="",
        now=now,
    )
    booking.approve(session, actor=host, booking=made, now=now)
    mail_row = session.scalar(select(OutboxMessage).where(OutboxMessage.key == f"booking:{made.id}:approved"))
    uids = {str(e["UID"]) for e in icalendar.Calendar.from_ical(mail_row.ics).walk("VEVENT")}
    assert f"booking-{made.id}@localhost" in uids
    message = mail.build(mail_row, "La Malle <x@example.org>")
    parts = [part.get_content_type() for part in message.walk()]
    assert {"text/plain", "text/html", "text/calendar"} <= set(parts)

    course = make_training(capacity=1, starts_at=now + timedelta(days=5))
    first, second = make_user(), make_user()
    seat = training.sign_up(session, actor=first, training=course, now=now)
    training.sign_up(session, actor=second, training=course, now=now)
    training.cancel_enrolment(session, actor=first, enrolment=seat, now=now)
    promoted = session.scalar(select(OutboxMessage).where(OutboxMessage.key.like("enrolment:%:promoted:%")))
    assert promoted.to_address == second.email and "BEGIN:VEVENT" in promoted.ics
