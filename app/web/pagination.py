"""Page numbers from the query string, read so that garbage never becomes a 500."""

from __future__ import annotations

from flask import request

MAX_PAGE = 10_000


def current_page() -> int:
    raw = request.args.get("page", "1")
    return min(int(raw), MAX_PAGE) if raw.isdigit() and int(raw) >= 1 else 1


def page_args() -> dict[str, str]:
    """The current query string without `page`, for links to other pages of a list."""
    return {k: v for k, v in request.args.items() if k != "page"}
