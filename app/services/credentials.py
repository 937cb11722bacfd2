"""Shared accounts' logins, encrypted at rest with Fernet (key from CREDENTIALS_KEY)."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from flask_babel import gettext as _

from app.db import DbSession
from app.models import Booking, BookingStatus, Resource
from app.services import audit
from app.services.context import ServiceContext
from app.services.errors import NotFound, RuleViolation


@dataclass(frozen=True)
class Credentials:
    login: str
    password: str


@dataclass(frozen=True)
class Reveal:
    """What a reveal gave: the login, or why not. A refusal is an outcome to record, not an
    error to roll back: every attempt stays in the audit trail."""

    credentials: Credentials | None
    refusal: str | None = None


def encrypt(key: str, credentials: Credentials) -> str:
    payload = f"{credentials.login}\n{credentials.password}".encode()
    return Fernet(key.encode()).encrypt(payload).decode()


def decrypt(key: str, token: str) -> Credentials:
    try:
        login, _, password = Fernet(key.encode()).decrypt(token.encode()).decode().partition("\n")
    except InvalidToken as exc:
        raise ValueError("credentials cannot be read with the configured CREDENTIALS_KEY") from exc
    return Credentials(login=login, password=password)


def set_login(
    ctx: ServiceContext, resource: Resource | None, *, needs_pickup: bool, login: str | None, password: str | None
) -> str | None:
    """The encrypted login to store for a resource, or None to keep what it has.

    Only shared accounts (categories without pickup) have a login; a field left empty keeps
    its previous value, so an admin can change the password without retyping the login.
    """
    if not (login or password):
        return None
    if needs_pickup:
        raise RuleViolation(_("Seuls les comptes partagés ont un identifiant."), field="account_login")
    previous = (
        decrypt(ctx.credentials_key, resource.credentials_encrypted)
        if resource is not None and resource.credentials_encrypted
        else Credentials("", "")
    )
    return encrypt(
        ctx.credentials_key, Credentials(login=login or previous.login, password=password or previous.password)
    )


def reveal(session: DbSession, ctx: ServiceContext, *, booking: Booking) -> Reveal:
    """A shared account's login, for the holder of a booking that is current, or an admin.

    Nobody else, not even the host of the département. Every reveal is written to the
    audit trail, refusals included.
    """
    actor = ctx.user
    resource = booking.resource
    if not resource.credentials_encrypted:
        raise NotFound(_("Aucun identifiant n'est enregistré pour cette ressource."))
    holder_now = (
        actor.id == booking.user_id
        and booking.status == BookingStatus.APPROVED
        and booking.starts_at <= ctx.now < booking.ends_at
    )
    allowed = holder_now or actor.is_admin
    audit.record(
        session,
        ctx,
        subject_type="booking",
        subject_id=booking.id,
        action="reveal-credentials" if allowed else "reveal-refused",
    )
    if allowed:
        return Reveal(decrypt(ctx.credentials_key, resource.credentials_encrypted))
    if actor.id == booking.user_id:
        return Reveal(None, _("Les identifiants s'affichent seulement pendant la réservation validée."))
    return Reveal(None, _("Seule la personne qui a réservé voit ces identifiants, pendant sa réservation."))
