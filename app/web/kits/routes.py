"""Kits: what a live needs, defined by admins and booked as one by members."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("kits", __name__, url_prefix="/kits")
