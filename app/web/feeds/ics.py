"""Answering with an .ics: ETag and Last-Modified so that calendar apps can skip an unchanged feed."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request, url_for

from app import entry
from app.services import ical

# What the text of feed events kept in each process may weigh, unless FEED_CACHE_BYTES says.
CACHE_BYTES = 64 * 1024 * 1024


def domain() -> str:
    """The domain of every iCal UID: the request's context says it (`ctx.site_domain`)."""
    return entry.for_request().site_domain


def link(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, _external=True, **values)


def fragments() -> ical.Fragments:
    """This app's kept event texts: one store per process, shared by its requests."""
    store = current_app.extensions.get("lamalle_feed_fragments")
    if store is None:
        store = ical.Fragments(int(current_app.config.get("FEED_CACHE_BYTES", CACHE_BYTES)))
        current_app.extensions["lamalle_feed_fragments"] = store
    return store


def ics_response(
    name: str, items: ical.Feed | list[ical.FeedEvent], *, private: bool, filename: str | None = None
) -> Response:
    feed = items if isinstance(items, ical.Feed) else ical.Feed.of(items)
    written = ical.write(name, feed, fragments())
    # Weakly: nginx gzipping the feed turns its ETag into W/"…", which comes back as such.
    if request.if_none_match.contains_weak(written.etag):
        # Calendar apps poll every hour: an unchanged feed is answered without being written.
        response = Response(status=304)
        response.set_etag(written.etag)
        return response
    response = Response(written.body(), content_type="text/calendar; charset=utf-8")
    response.set_etag(written.etag)
    if written.last_modified is not None:
        response.last_modified = written.last_modified
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
