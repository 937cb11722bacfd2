"""Answering with an .ics: ETag and Last-Modified so that calendar apps can skip an unchanged feed."""

from __future__ import annotations

from flask import Response, current_app, request, url_for

from app.config import site_domain
from app.services import ical


def domain() -> str:
    return site_domain(current_app.config["SITE_URL"])


def link(endpoint: str, **values) -> str:
    return url_for(endpoint, _external=True, **values)


def ics_response(name: str, items: list, *, private: bool, filename: str | None = None) -> Response:
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
    return response.make_conditional(request)
