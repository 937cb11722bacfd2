"""The equipment waitlist: a member's wish for a resource, or any unit of a category, over a period."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.bookings import Booking
from app.models.people import Departement, User
from app.models.resources import Category, Resource
from app.models.types import StateEnum, UTCDateTime, state_column


class WishStatus(StateEnum):
    WAITING = "waiting", _l("En attente")
    OFFERED = "offered", _l("Créneau proposé")
    CONFIRMED = "confirmed", _l("Réservé")
    DECLINED = "declined", _l("Refusé")
    LAPSED = "lapsed", _l("Option expirée")
    EXPIRED = "expired", _l("Rien ne s'est libéré")
    WITHDRAWN = "withdrawn", _l("Retiré")


W = WishStatus


class Wish(Model):
    """« Prévenez-moi si cela se libère »: first come, first served, one hold at a time.

    When a matching unit frees, the oldest waiting wish gets a booking in the PROPOSED state
    (it holds the slot under the same no-overlap guarantee as any booking) until it is
    confirmed, declined, or lapses at `offer_expires_at`.
    """

    __tablename__ = "wishes"
    __table_args__ = (
        CheckConstraint("(resource_id IS NULL) <> (category_id IS NULL)", name="resource_or_category"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        # An offer always names its hold and when it lapses; a wish still waiting has none.
        CheckConstraint(
            "status <> 'offered' OR (booking_id IS NOT NULL AND offer_expires_at IS NOT NULL)", name="offer_has_hold"
        ),
        CheckConstraint("status <> 'waiting' OR booking_id IS NULL", name="waiting_has_no_hold"),
    )

    TRANSITIONS: ClassVar[dict[str, tuple[WishStatus, ...]]] = {
        "offer": (W.WAITING,),
        "confirm": (W.OFFERED,),
        "decline": (W.OFFERED,),
        "lapse": (W.OFFERED,),
        "expire": (W.WAITING,),
        "withdraw": (W.WAITING, W.OFFERED),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("resources.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    # A category wish may keep to one département (where the member would pick the unit up).
    departement_code: Mapped[str | None] = mapped_column(ForeignKey("departements.code"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    purpose: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[WishStatus] = mapped_column(
        state_column(WishStatus, name="status", length=16), default=WishStatus.WAITING, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), unique=True)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")
    resource: Mapped[Resource | None] = relationship(lazy="joined")
    category: Mapped[Category | None] = relationship(lazy="joined")
    departement: Mapped[Departement | None] = relationship()
    booking: Mapped[Booking | None] = relationship()

    def can(self, action: str) -> bool:
        return self.status in self.TRANSITIONS[action]

    @property
    def wanted(self) -> str:
        """What is waited for, as the member named it."""
        if self.resource is not None:
            return self.resource.name
        assert self.category is not None
        return str(self.category.name)
