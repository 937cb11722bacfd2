"""One-tap answers from an email: signed, single-use, expiring links for one person and one booking."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("act", __name__, url_prefix="/a")
