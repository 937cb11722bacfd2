"""One decorator declares an API operation: its address, who may call it, what it reads and what it
answers. The same declaration routes the call, checks its input, shapes its answer and writes its
entry in the OpenAPI document, so the document cannot drift from the code.

    @operation("/v1/bookings", "POST", tag="bookings", summary=_l("…"), token=True,
               body=BookingIn, answers=(201, BookingOut), errors=(409,))
    def book(body): ...

A view returns the data its answer schema dumps (or a `Reply` to choose the status or the
schema); the decorator dumps it, so what is sent is exactly what is documented. Public reads
(`cached=True`) carry an ETag and answer 304 to a matching If-None-Match; token calls are
never stored by a cache.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Blueprint, Response, jsonify, request
from marshmallow import Schema

from app.web.api import auth
from app.web.api.inputs import load_body, load_query

bp = Blueprint("api", __name__, url_prefix="/api")

# Long enough for any booking or handover, short enough that nobody posts megabytes to a JSON API.
MAX_BODY_BYTES = 64 * 1024
# Public reads may be kept this long by a partner's cache; the ETag revalidates them after.
PUBLIC_MAX_AGE = 60


@dataclass(frozen=True)
class Operation:
    rule: str
    method: str
    tag: str
    summary: Any
    description: Any
    token: bool
    query: type[Schema] | None
    body: type[Schema] | None
    status: int
    answers: tuple[type[Schema], ...]
    errors: tuple[int, ...]
    cached: bool


# endpoint → its declaration, read by openapi.py.
OPERATIONS: dict[str, Operation] = {}


@dataclass
class Reply:
    """What a view returns when the default status or schema is not the one: `Reply(data, 201)`."""

    data: Any
    status: int | None = None
    schema: type[Schema] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def operation(
    rule: str,
    method: str,
    *,
    tag: str,
    summary: Any,
    description: Any = None,
    token: bool = False,
    query: type[Schema] | None = None,
    body: type[Schema] | None = None,
    answers: tuple[int, type[Schema] | tuple[type[Schema], ...]],
    errors: tuple[int, ...] = (),
    cached: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    status, schemas = answers
    declared = Operation(
        rule=rule,
        method=method,
        tag=tag,
        summary=summary,
        description=description,
        token=token,
        query=query,
        body=body,
        status=status,
        answers=schemas if isinstance(schemas, tuple) else (schemas,),
        errors=errors,
        cached=cached,
    )

    def register(view: Callable[..., Any]) -> Callable[..., Response]:
        @wraps(view)
        def call(**path: Any) -> Response:
            if token:
                auth.require_user()
            arguments = dict(path)
            if query is not None:
                arguments["query"] = load_query(query)
            if body is not None:
                arguments["body"] = load_body(body)
            return _answer(declared, view(**arguments))

        endpoint = view.__name__
        OPERATIONS[f"{bp.name}.{endpoint}"] = declared
        bp.add_url_rule(rule, endpoint=endpoint, view_func=call, methods=[method])
        return call

    return register


def _answer(declared: Operation, returned: Any) -> Response:
    reply = returned if isinstance(returned, Reply) else Reply(returned)
    schema = reply.schema or declared.answers[0]
    response = jsonify(schema().dump(reply.data))
    response.status_code = reply.status or declared.status
    response.headers.update(reply.headers)
    if declared.cached:
        # Labels and messages follow Accept-Language; everything else is the same for everyone.
        response.vary.add("Accept-Language")
        response.cache_control.public = True
        response.cache_control.max_age = PUBLIC_MAX_AGE
        response.add_etag()
        response.make_conditional(request)
    else:
        response.cache_control.no_store = True
    return response
