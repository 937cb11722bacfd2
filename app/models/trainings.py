"""Training sessions, their topics and who signed up."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ColumnElement,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model, db
from app.models.people import Departement, User
from app.models.resources import Category
from app.models.types import ICalTouched, StateEnum, UTCDateTime, state_column


class EnrolmentStatus(StateEnum):
    REGISTERED = "registered", _l("Inscrit·e")
    WAITLISTED = "waitlisted", _l("Liste d'attente")
    CANCELLED = "cancelled", _l("Annulée")
    ATTENDED = "attended", _l("Présent·e")


E = EnrolmentStatus
# Holding a seat: counted against capacity.
SEATED = (E.REGISTERED, E.ATTENDED)


class TrainingTopic(Model):
    __tablename__ = "training_topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # Shown to English readers; empty = the French name.
    name_en: Mapped[str] = mapped_column(String(120), default="", server_default="")
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


session_trainers = Table(
    "training_session_trainers",
    db.metadata,
    Column("session_id", ForeignKey("training_sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id"), primary_key=True),
)

session_categories = Table(
    "training_session_categories",
    db.metadata,
    Column("session_id", ForeignKey("training_sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("categories.id"), primary_key=True),
)


class TrainingSession(ICalTouched, Model):
    __tablename__ = "training_sessions"
    __table_args__ = (
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("registration_deadline <= starts_at", name="deadline_before_start"),
        CheckConstraint("mode IN ('online', 'in_person')", name="known_mode"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("training_topics.id"), index=True)
    title: Mapped[str] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown, sanitised when shown
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    mode: Mapped[str] = mapped_column(String(10))
    video_link: Mapped[str | None] = mapped_column(String(500))
    place: Mapped[str | None] = mapped_column(String(200))
    departement_code: Mapped[str | None] = mapped_column(ForeignKey("departements.code"), index=True)
    capacity: Mapped[int] = mapped_column(Integer)
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    registration_deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    level: Mapped[str] = mapped_column(String(10), default="beginner")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    # Sessions created together as a series share this key (the first session's id).
    series_key: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    topic: Mapped[TrainingTopic] = relationship(lazy="joined")
    departement: Mapped[Departement | None] = relationship(lazy="joined")
    trainers: Mapped[list[User]] = relationship(secondary=session_trainers, lazy="selectin", order_by=User.display_name)
    advised_categories: Mapped[list[Category]] = relationship(secondary=session_categories, lazy="selectin")

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    def is_trainer(self, user: User) -> bool:
        return any(t.id == user.id for t in self.trainers)


class Enrolment(ICalTouched, Model):
    __tablename__ = "enrolments"
    # One person, one enrolment per session: a cancelled one is reused if they come back.
    __table_args__ = (UniqueConstraint("session_id", "user_id", name="uq_enrolments_session_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[EnrolmentStatus] = mapped_column(state_column(EnrolmentStatus, name="status", length=12), index=True)
    # The waitlist is first come, first served: ordered by this instant, then by id.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Which states each action may start from.
    TRANSITIONS: ClassVar[dict[str, tuple[EnrolmentStatus, ...]]] = {
        "cancel": (E.REGISTERED, E.WAITLISTED),
        "promote": (E.WAITLISTED,),
        "attendance": (E.REGISTERED, E.ATTENDED),
        "sign-up": (E.CANCELLED,),  # coming back after cancelling reuses the row
    }
    sequence: Mapped[int] = mapped_column(Integer, default=0)

    session: Mapped[TrainingSession] = relationship(lazy="joined")
    user: Mapped[User] = relationship(lazy="joined")

    def can(self, action: str) -> bool:
        return self.status in self.TRANSITIONS[action]

    @hybrid_property
    def is_seated(self) -> bool:
        return self.status in SEATED

    @is_seated.inplace.expression
    @classmethod
    def _is_seated_sql(cls) -> ColumnElement[bool]:
        return cls.status.in_(SEATED)
