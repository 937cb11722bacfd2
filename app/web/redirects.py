from __future__ import annotations

from urllib.parse import urlsplit

from flask import url_for


def safe_next(target: str | None) -> str:
    """Only a path of this site: a `next` parameter must never send people elsewhere."""
    if not target:
        return url_for("main.home")
    is_local_path = (
        target.startswith("/") and not target.startswith("//") and "\\" not in target and not urlsplit(target).netloc
    )
    return target if is_local_path else url_for("main.home")
