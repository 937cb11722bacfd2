"""Answering with an .ics: ETag and Last-Modified so that calendar apps can skip an unchanged feed."""

from __future__ import annotations

from typing import Any

from flask import Response, request, url_for

from app import entry
from app.services import ical


def domain() -> str:
    """The domain of every iCal UID: the request's context says it (`ctx.site_domain`)."""
    return entry.for_request().site_domain


def link(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, _external=True, **values)


def ics_response(name: str, items: list[ical.FeedEvent], *, private: bool, filename: str | None = None) -> Response:
    etag = ical.fingerprint(name, items)
    if request.if_none_match.contains(etag):
        # Calendar apps poll every hour: an unchanged feed is answered without being written.
        response = Response(status=304)
        response.set_etag(etag)
        return response
    body = ical.calendar(name, items)
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.set_etag(etag)
    modified = ical.last_modified(items)
    if modified is not None:
        response.last_modified = modified
    if private:
        response.cache_control.private = True
    else:
        response.cache_control.public = True
    response.cache_control.max_age = 300
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Answers 304 to a matching If-None-Match / If-Modified-Since; ignores malformed ones.
    response.make_conditional(request)
    return response
