"""Shared accounts' logins, encrypted at rest with Fernet (key from CREDENTIALS_KEY)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.db import write_transaction
from app.models import Booking, BookingStatus, User
from app.services import audit
from app.services.errors import Forbidden, NotFound


@dataclass(frozen=True)
class Credentials:
    login: str
    password: str


def encrypt(key: str, credentials: Credentials) -> str:
    payload = f"{credentials.login}\n{credentials.password}".encode()
    return Fernet(key.encode()).encrypt(payload).decode()


def decrypt(key: str, token: str) -> Credentials:
    try:
        login, _, password = Fernet(key.encode()).decrypt(token.encode()).decode().partition("\n")
    except InvalidToken as exc:
        raise ValueError("credentials cannot be read with the configured CREDENTIALS_KEY") from exc
    return Credentials(login=login, password=password)


def reveal(session: Session, *, actor: User, booking: Booking, key: str, now: datetime) -> Credentials:
    """A shared account's login, for the holder of a booking that is current, or an admin.

    Nobody else, not even the host of the département. Every reveal is written to the
    audit trail, refusals included.
    """
    resource = booking.resource
    if not resource.credentials_encrypted:
        raise NotFound(_("Aucun identifiant n'est enregistré pour cette ressource."))
    holder_now = (
        actor.id == booking.user_id
        and booking.status == BookingStatus.APPROVED.value
        and booking.starts_at <= now < booking.ends_at
    )
    allowed = holder_now or actor.is_admin
    with write_transaction(session):
        audit.record(
            session,
            actor=actor,
            subject_type="booking",
            subject_id=booking.id,
            action="reveal-credentials" if allowed else "reveal-refused",
            now=now,
        )
    if not allowed:
        if actor.id == booking.user_id:
            raise Forbidden(_("Les identifiants s'affichent seulement pendant la réservation validée."))
        raise Forbidden(_("Seule la personne qui a réservé voit ces identifiants, pendant sa réservation."))
    return decrypt(key, resource.credentials_encrypted)
