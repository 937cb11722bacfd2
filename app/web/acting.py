"""How a view calls the services: inside one unit of work, with the request's context.

    with service_call(form) as call:
        made = booking.create(db.session, call.ctx, resource=resource, ...)
    if call.ok:
        return redirect(...)

Everything inside the block commits together, or not at all. A refusal the person can act
on (a rule, a conflict) is shown next to the form field it names, or else as a flash
message. Being refused access (Forbidden, NotFound) is not a form error: it goes on to the
app's error handler, which answers 403 or 404 as for any other address.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import flash

from app import entry
from app.db import unit_of_work
from app.extensions import db
from app.services.context import ServiceContext
from app.services.errors import DomainError, Forbidden, NotFound


@dataclass
class Call:
    ctx: ServiceContext
    error: DomainError | None = field(default=None)

    @property
    def ok(self) -> bool:
        return self.error is None


def refuse(error: DomainError, form=None) -> None:
    """Show a service's refusal next to the field it names, else as a flash message."""
    field_ = getattr(form, error.field, None) if form is not None and error.field else None
    if field_ is None or not hasattr(field_, "errors"):
        flash(error.message, "danger")
        return
    field_.errors = [*field_.errors, error.message] if isinstance(field_.errors, list) else [error.message]


@contextmanager
def service_call(form=None, *, ctx: ServiceContext | None = None) -> Iterator[Call]:
    call = Call(ctx=ctx or entry.for_request())
    try:
        with unit_of_work(db.session):
            yield call
    except (Forbidden, NotFound):
        raise
    except DomainError as error:
        call.error = error
        refuse(error, form)
