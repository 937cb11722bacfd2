"""What every service is given besides the session: who acts, when, and the site's settings.

Built in exactly one place per entry point (app/entry.py: a web request, a CLI command, a
scheduled job) and passed down, so that no service reads the clock, the request, the
logged-in person or the app's configuration, and tests choose the time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask_babel import gettext

from app.services.errors import Forbidden

if TYPE_CHECKING:
    from app.models import User


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


class EmailRenderer(Protocol):
    """Renders `email/<template>.txt` (and its HTML part) in one language, links on the site's address."""

    def __call__(self, template: str, *, locale: str, subject: Any, **values: Any) -> RenderedEmail: ...


@dataclass(frozen=True)
class ServiceContext:
    now: datetime
    actor: User | None
    zone: ZoneInfo
    site_url: str
    credentials_key: str
    # Signs what the site hands out and reads back (password reset links).
    signing_key: str
    render_email: EmailRenderer
    default_locale: str = "fr"

    @property
    def site_domain(self) -> str:
        """The host name of the site's address: the domain of every iCal UID."""
        return urlsplit(self.site_url).hostname or "lamalle.invalid"

    @property
    def user(self) -> User:
        """The acting person, for services that act only on someone's behalf."""
        if self.actor is None or not self.actor.is_authenticated:
            raise Forbidden(gettext("Connectez-vous d'abord."))
        return self.actor

    def require_admin(self) -> User:
        """The acting person, who must be an administrator (Forbidden otherwise)."""
        actor = self.user
        if not actor.is_admin:
            raise Forbidden(gettext("Réservé aux administrateurs."))
        return actor

    def acting_as(self, actor: User | None) -> ServiceContext:
        return replace(self, actor=actor)

    def at(self, now: datetime) -> ServiceContext:
        return replace(self, now=now)
