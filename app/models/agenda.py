"""The regional agenda of science events, and the partners' calendars it imports."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.people import Departement, Organisation
from app.models.types import UTCDateTime


class EventStatus(enum.StrEnum):
    PROPOSED = "proposed"
    PUBLISHED = "published"
    REFUSED = "refused"
    CANCELLED = "cancelled"


class AgendaTheme(db.Model):
    __tablename__ = "agenda_themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(80))


event_themes = Table(
    "agenda_event_themes",
    db.metadata,
    Column("event_id", ForeignKey("agenda_events.id", ondelete="CASCADE"), primary_key=True),
    Column("theme_id", ForeignKey("agenda_themes.id"), primary_key=True),
)


class AgendaSource(db.Model):
    """A partner's public calendar (an address fetched daily, or files uploaded by an admin)."""

    __tablename__ = "agenda_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    url: Mapped[str | None] = mapped_column(String(1000))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    departement_code: Mapped[str | None] = mapped_column(ForeignKey("departements.code"))
    # Events from a trusted source are published at once; others wait for moderation.
    trusted: Mapped[bool] = mapped_column(Boolean, default=False)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_report: Mapped[str | None] = mapped_column(Text)  # JSON, see services/agenda_import.py

    organisation: Mapped[Organisation | None] = relationship()


class AgendaEvent(db.Model):
    __tablename__ = "agenda_events"
    __table_args__ = (
        CheckConstraint("ends_at >= starts_at", name="ends_after_start"),
        UniqueConstraint("source_id", "source_uid", name="uq_agenda_events_source_uid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    organiser_name: Mapped[str] = mapped_column(String(200), default="")
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    departement_code: Mapped[str | None] = mapped_column(ForeignKey("departements.code"), index=True)
    town: Mapped[str] = mapped_column(String(200), default="")
    link: Mapped[str | None] = mapped_column(String(1000))
    # Space-separated: scolaires, grand_public, neophytes, amateurs.
    audiences: Mapped[str] = mapped_column(String(100), default="")
    region_supported: Mapped[bool] = mapped_column(Boolean, default=False)
    campaign: Mapped[str | None] = mapped_column(String(10))  # "rentree" or "ete"
    status: Mapped[str] = mapped_column(String(10), index=True)
    refusal_reason: Mapped[str | None] = mapped_column(String(500))
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_sources.id"), index=True)
    source_uid: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sequence: Mapped[int] = mapped_column(Integer, default=0)

    departement: Mapped[Departement | None] = relationship(lazy="joined")
    themes: Mapped[list[AgendaTheme]] = relationship(secondary=event_themes, lazy="selectin")
