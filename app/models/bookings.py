"""Bookings of resources."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.people import User
from app.models.resources import Resource
from app.models.types import UTCDateTime


class BookingStatus(enum.StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    PICKED_UP = "picked_up"
    RETURNED = "returned"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


# A booking in one of these states keeps the resource (buffer included) from anyone else.
HOLDING_STATUSES = (BookingStatus.REQUESTED, BookingStatus.APPROVED, BookingStatus.PICKED_UP)
HOLDING_SQL = "status IN ('requested', 'approved', 'picked_up')"


class Condition(enum.StrEnum):
    OK = "ok"
    INCOMPLETE = "incomplete"
    DAMAGED = "damaged"


class Booking(db.Model):
    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("held_until >= ends_at", name="held_until_after_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # End plus the category's turnaround buffer, fixed when the booking is made so that a
    # later rule change never makes two stored bookings overlap.
    held_until: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(16), default=BookingStatus.REQUESTED.value, index=True)
    purpose: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Grows with every change, for iCal SEQUENCE.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handed_over_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    condition: Mapped[str | None] = mapped_column(String(16))
    condition_note: Mapped[str | None] = mapped_column(Text)

    resource: Mapped[Resource] = relationship(lazy="joined")
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")

    @property
    def is_holding(self) -> bool:
        return self.status in HOLDING_STATUSES

    def overlaps(self, starts_at: datetime, held_until: datetime) -> bool:
        return self.starts_at < held_until and starts_at < self.held_until
