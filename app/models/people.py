"""Départements, structures and people, with their roles."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Column, ForeignKey, String, Table, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model, db
from app.models.types import UTCDateTime


class Role(enum.StrEnum):
    MEMBER = "member"
    HOST = "host"
    TRAINER = "trainer"
    ADMIN = "admin"


class OrganisationKind(enum.StrEnum):
    ASSOCIATION = "association"
    UNIVERSITY = "university"
    RESEARCH = "research"
    ACADEMY = "academy"
    MUSEUM = "museum"
    PUBLIC_BODY = "public_body"
    FOUNDATION = "foundation"
    COMPANY = "company"


class Departement(Model):
    __tablename__ = "departements"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)

    hosts: Mapped[list[User]] = relationship(
        secondary="host_departements", back_populates="hosted_departements", order_by="User.display_name"
    )

    @property
    def label(self) -> str:
        return f"{self.code} – {self.name}"

    def __repr__(self) -> str:
        return f"<Departement {self.code}>"


class Organisation(Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default=OrganisationKind.ASSOCIATION.value)
    # A structure typed in at registration waits for an admin to confirm it.
    confirmed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    departement_code: Mapped[str | None] = mapped_column(ForeignKey("departements.code"))

    departement: Mapped[Departement | None] = relationship()


host_departements = Table(
    "host_departements",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("departement_code", ForeignKey("departements.code"), primary_key=True),
)


class UserRole(Model):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased by the service, so the unique constraint is case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(30))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    departement_code: Mapped[str | None] = mapped_column(ForeignKey("departements.code"))
    locale: Mapped[str] = mapped_column(String(5), default="fr")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    feed_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Reminder kinds this person turned off, space-separated (see services/reminders.py).
    reminder_opt_outs: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Part of the id Flask-Login keeps in the session and the "remember me" cookie: renewed at
    # logout and at every password change, it ends every session and cookie issued before.
    login_token: Mapped[str] = mapped_column(String(32), default="", server_default="")

    organisation: Mapped[Organisation | None] = relationship()
    departement: Mapped[Departement | None] = relationship()
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    hosted_departements: Mapped[list[Departement]] = relationship(
        secondary=host_departements, back_populates="hosts", lazy="selectin", order_by=Departement.code
    )

    def get_id(self) -> str:
        return f"{self.id}.{self.login_token}"

    def renew_login_token(self) -> None:
        self.login_token = secrets.token_urlsafe(16)

    # Flask-Login reads is_active; a deactivated account cannot log in at all.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def roles(self) -> set[str]:
        return {row.role for row in self.role_rows}

    def has_role(self, role: Role | str) -> bool:
        return str(role) in self.roles

    @property
    def is_admin(self) -> bool:
        return self.has_role(Role.ADMIN)

    @property
    def is_host(self) -> bool:
        return self.has_role(Role.HOST) and bool(self.hosted_departements)

    @property
    def is_trainer(self) -> bool:
        return self.has_role(Role.TRAINER)

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None

    @property
    def host_codes(self) -> set[str]:
        return {d.code for d in self.hosted_departements} if self.has_role(Role.HOST) else set()

    def wants(self, reminder_kind: str) -> bool:
        return reminder_kind not in (self.reminder_opt_outs or "").split()

    def hosts(self, departement_code: str) -> bool:
        return departement_code in self.host_codes

    def __repr__(self) -> str:
        return f"<User {self.email}>"
