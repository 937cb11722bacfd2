"""Links that pages show to people: http(s) to a host, never `javascript:` or `data:`.

Checked where they are stored (typed in a form, or read from a partner's calendar), so that no
page has to trust what it is given.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask_babel import gettext as _

from app.services.errors import RuleViolation


def is_web_address(url: str) -> bool:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def checked(url: str | None, *, field: str) -> str | None:
    """A typed link, refused with a message unless it is a web address; None when empty."""
    if url is None or not url.strip():
        return None
    if not is_web_address(url):
        raise RuleViolation(_("Seules les adresses web (http ou https) sont acceptées."), field=field)
    return url.strip()


def kept_or_dropped(url: str | None) -> str | None:
    """A link read from elsewhere (an imported calendar): kept if it is a web address, else dropped."""
    if url is None or not is_web_address(url):
        return None
    return url.strip()
