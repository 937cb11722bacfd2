"""Domain errors. One handler in app.web.errors turns each into a page or a JSON error."""

from __future__ import annotations

from datetime import datetime


class DomainError(Exception):
    """A rule said no. The message is written for the person who asked, in their language."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, suggestion: tuple[datetime, datetime] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        # A period that would be accepted instead (the next free slot), for a "book this" link.
        self.suggestion = suggestion


class RuleViolation(DomainError):
    status_code = 422


class Conflict(DomainError):
    status_code = 409


class Full(Conflict):
    pass


class Forbidden(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404
