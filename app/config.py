"""Settings, read from the environment; `instance/config.py` may override any of them.

Every variable is documented in the README ("Configuration").
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _instance_secret(instance_path: Path, filename: str, make) -> str:
    """Read a secret kept in instance/, creating it on first start.

    Generated secrets live next to the database so that restarts keep sessions and
    encrypted credentials readable; instance/ is never committed.
    """
    path = instance_path / filename
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    value = make()
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value


def _served_at() -> str:
    """Where `make run` serves (HOST and PORT, as the Makefile passes them), for the links in
    emails when SITE_URL is not set: `PORT=5077 make run` must not send links to port 5000. A
    server listening on every interface is reached, from this machine, at 127.0.0.1."""
    host = os.environ.get("HOST", "").strip() or "127.0.0.1"
    if host in {"0.0.0.0", "::"}:  # nosec B104 (compared with HOST, never bound here)
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{os.environ.get('PORT', '').strip() or '5000'}"


def normalise_database_url(url: str) -> str:
    """Let operators paste the URL their host gives them (postgres://, postgresql://)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load(instance_path: Path, given: dict | None = None) -> dict:
    """The settings; `given` (tests) supplies secrets so that none is written to instance/."""
    given = given or {}
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'lamalle.sqlite3'}"
    secret_key = (
        given.get("SECRET_KEY")
        or os.environ.get("SECRET_KEY")
        or _instance_secret(instance_path, "secret_key", lambda: secrets.token_urlsafe(48))
    )
    credentials_key = (
        given.get("CREDENTIALS_KEY")
        or os.environ.get("CREDENTIALS_KEY")
        or _instance_secret(instance_path, "credentials.key", lambda: Fernet.generate_key().decode())
    )
    return {
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SECRET_KEY": secret_key,
        "CREDENTIALS_KEY": credentials_key,
        "SITE_URL": (os.environ.get("SITE_URL") or _served_at()).rstrip("/"),
        "TIMEZONE": os.environ.get("TIMEZONE", "Europe/Paris"),
        "DEFAULT_LOCALE": os.environ.get("DEFAULT_LOCALE", "fr"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": _flag("MAIL_USE_TLS"),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "La Malle <no-reply@lamalle.invalid>"),
        "MAIL_TIMEOUT": float(os.environ.get("MAIL_TIMEOUT", "10")),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "LOGIN_LIMIT_PER_ADDRESS": os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "20 per 10 minutes"),
        "LOGIN_LIMIT_PER_ACCOUNT": os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 10 minutes"),
        "RESET_LIMIT": os.environ.get("RESET_LIMIT", "5 per 10 minutes"),
        "REGISTER_LIMIT": os.environ.get("REGISTER_LIMIT", "10 per hour"),
        "FEED_RATE_LIMIT": os.environ.get("FEED_RATE_LIMIT", "120 per minute"),
        # Above the photo cap, so that a photo too large is told next to its field, not by a 413 page.
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", str(8 * 1024 * 1024))),
        "PHOTO_MAX_BYTES": int(os.environ.get("PHOTO_MAX_BYTES", str(5 * 1024 * 1024))),
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER", ""),
        # Seconds for the whole download of a partner's calendar (connect, headers, body, redirects).
        "AGENDA_IMPORT_TIMEOUT": float(os.environ.get("AGENDA_IMPORT_TIMEOUT", "30")),
        # Tests only (their servers listen on 127.0.0.1): never from the environment, so that no
        # deployment opens the import to the machine's own services by mistake.
        "AGENDA_IMPORT_ALLOW_LOOPBACK": False,
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE"),
        # Proxies in front (nginx: 1) whose X-Forwarded-For/-Proto/-Host are trusted: without it,
        # every visitor is 127.0.0.1 to the per-address limits.
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        # Calls to /api/ per token (per address without one).
        "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT", "300 per minute"),
        # Each worker keeps the text of the feeds' events it wrote, up to this size (~0.6 KB an event).
        "FEED_CACHE_BYTES": int(os.environ.get("FEED_CACHE_BYTES", str(64 * 1024 * 1024))),
        # The "remember me" cookie is flagged like the session cookie it stands in for.
        "REMEMBER_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE"),
        # Constant settings, kept here so that one file tells the whole configuration.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BOOTSTRAP_SERVE_LOCAL": True,
        "BOOTSTRAP_BTN_STYLE": "primary",
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_TRANSLATION_DIRECTORIES": "translations",
        "LANGUAGES": ("fr", "en"),
        "PER_PAGE": 20,
    }
