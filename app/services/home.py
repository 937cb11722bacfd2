"""The page each person lands on after logging in: what is theirs to do or to expect, by role.

A member sees their next pickups and returns, bookings running, trainings and waitlist positions;
a host, today at their desk with counts; a trainer, their next sessions; an admin, accounts
waiting for approval and emails that failed. Someone with several roles sees each part.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select

from app.db import DbSession
from app.models import (
    Booking,
    BookingStatus,
    Enrolment,
    EnrolmentStatus,
    OutboxMessage,
    OutboxStatus,
    TrainingSession,
    User,
    Wish,
)
from app.models.trainings import session_trainers
from app.services import desk, training, waitlist
from app.services.context import ServiceContext

S = BookingStatus
# How far ahead a member's and a trainer's lists look.
AHEAD = timedelta(days=60)
# Enough lines to act on; the full lists are one click away.
LIMIT = 8


@dataclass
class MemberPart:
    to_pick_up: list[Booking]  # approved, not yet handed over, starting within AHEAD
    to_return: list[Booking]  # in the member's hands
    waiting_approval: list[Booking]
    running: list[Booking]  # online accounts and other items without a handover, now in their period
    trainings: list[Enrolment]  # seated or waitlisted, sessions not yet over
    positions: dict[int, int]  # enrolment id → waitlist position
    wishes: list[Wish]  # equipment waitlist: waiting or offered

    @property
    def is_empty(self) -> bool:
        return not (
            self.to_pick_up or self.to_return or self.waiting_approval or self.running or self.trainings or self.wishes
        )


@dataclass
class HostPart:
    codes: list[str]
    requests: list[Booking]
    pickups_today: list[Booking]
    returns_today: list[Booking]
    late: list[Booking]


@dataclass
class TrainerPart:
    sessions: list[TrainingSession]
    seats: dict[int, tuple[int, int]]  # session id → (seated, waitlisted)


@dataclass
class AdminPart:
    pending_accounts: list[User]
    pending_count: int
    failed_emails: list[OutboxMessage]
    failed_count: int


@dataclass
class Home:
    now: datetime
    member: MemberPart
    host: HostPart | None = None
    trainer: TrainerPart | None = None
    admin: AdminPart | None = None


def _member(session: DbSession, ctx: ServiceContext) -> MemberPart:
    now, user = ctx.now, ctx.user
    mine = select(Booking).where(Booking.user_id == user.id)  # an item late by months is still to return

    def fetch(*where: ColumnElement[bool], order: Any = Booking.starts_at) -> list[Booking]:
        return list(session.scalars(mine.where(*where).order_by(order, Booking.id).limit(LIMIT)).unique())

    approved = fetch(Booking.status == S.APPROVED, Booking.ends_at > now, Booking.starts_at < now + AHEAD)
    enrolments = list(
        session.scalars(
            select(Enrolment)
            .join(TrainingSession, TrainingSession.id == Enrolment.session_id)
            .where(
                Enrolment.user_id == user.id,
                Enrolment.status.in_((EnrolmentStatus.REGISTERED, EnrolmentStatus.WAITLISTED)),
                TrainingSession.ends_at > now,
            )
            .order_by(TrainingSession.starts_at, Enrolment.id)
            .limit(LIMIT)
        ).unique()
    )
    return MemberPart(
        to_pick_up=[b for b in approved if b.resource.category.needs_pickup],
        running=[b for b in approved if not b.resource.category.needs_pickup and b.starts_at <= now],
        to_return=fetch(Booking.status == S.PICKED_UP, order=Booking.ends_at),
        waiting_approval=fetch(Booking.status.in_((S.REQUESTED, S.PROPOSED)), Booking.ends_at > now),
        trainings=enrolments,
        positions=training.waitlist_positions(session, enrolments),
        wishes=waitlist.of_member(session, ctx)[:LIMIT],
    )


def _host(session: DbSession, ctx: ServiceContext) -> HostPart:
    view = desk.overview(session, ctx, codes=sorted(ctx.user.host_codes))
    return HostPart(
        codes=view.codes,
        requests=view.requests,
        pickups_today=view.pickups_today,
        returns_today=view.returns_today,
        late=view.late,
    )


def _trainer(session: DbSession, ctx: ServiceContext) -> TrainerPart:
    sessions = list(
        session.scalars(
            select(TrainingSession)
            .join(session_trainers, session_trainers.c.session_id == TrainingSession.id)
            .where(
                session_trainers.c.user_id == ctx.user.id,
                TrainingSession.ends_at > ctx.now,
                TrainingSession.starts_at < ctx.now + AHEAD,
            )
            .order_by(TrainingSession.starts_at, TrainingSession.id)
            .limit(LIMIT)
        ).unique()
    )
    return TrainerPart(sessions=sessions, seats=training.seat_counts(session, [s.id for s in sessions]))


def _admin(session: DbSession) -> AdminPart:
    waiting = User.approved_at.is_(None)
    failed = OutboxMessage.status == OutboxStatus.FAILED
    return AdminPart(
        pending_accounts=list(
            session.scalars(select(User).where(waiting).order_by(User.created_at, User.id).limit(LIMIT))
        ),
        pending_count=session.scalar(select(func.count()).select_from(User).where(waiting)) or 0,
        failed_emails=list(
            session.scalars(select(OutboxMessage).where(failed).order_by(OutboxMessage.id.desc()).limit(LIMIT))
        ),
        failed_count=session.scalar(select(func.count()).select_from(OutboxMessage).where(failed)) or 0,
    )


def for_person(session: DbSession, ctx: ServiceContext) -> Home:
    """The acting person's home, each of their roles with its part."""
    user = ctx.user
    return Home(
        now=ctx.now,
        member=_member(session, ctx),
        host=_host(session, ctx) if user.is_host else None,
        trainer=_trainer(session, ctx) if user.is_trainer else None,
        admin=_admin(session) if user.is_admin else None,
    )
