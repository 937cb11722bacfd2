"""Schemathesis against the OpenAPI document, in-process through the app's WSGI interface.

For every operation it generates calls that fit the document and calls that do not (wrong
types, missing and extra fields, values out of range, odd Unicode), as a host who is also a
member, with a token; each answer must be no 5xx, a documented status with a documented body
and headers, and invalid input must be refused. Bounded by FUZZ_EXAMPLES per operation and mode,
so that both database passes of `make test` stay within a couple of minutes.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode, checks

from app.db import unit_of_work
from app.models import Enrolment
from app.services import kits
from app.services.kits import LineSpec
from app.web.api.routing import OPERATIONS
from tests.api.conftest import NOW
from tests.factories import ctx

FUZZ_EXAMPLES = int(os.environ.get("LAMALLE_FUZZ_EXAMPLES", "20"))
# Every declared operation (the routes register their declarations when the package is imported),
# with valid calls, and with invalid ones where it takes any input that can be invalid.
CALLS = sorted(
    (endpoint.split(".", 1)[1], mode)
    for endpoint, declared in OPERATIONS.items()
    for mode in ("valid", "invalid")
    if mode == "valid" or declared.query or declared.body or "<" in declared.rule
)
MODES = {"valid": GenerationMode.POSITIVE, "invalid": GenerationMode.NEGATIVE}

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]


@pytest.fixture
def scene(session, clock, make_user, make_category, make_resource, make_training, make_event, make_booking, make_token):
    """Something for every operation to find: items, a kit, bookings of several states, a
    training with someone on it, an event; the caller hosts 31 and books there too."""
    clock(NOW)
    caller = make_user(hosts=("31",), roles={"trainer"})
    other = make_user()
    camera = make_resource(name="Caméra", category=make_category(name="Caméra", needs_approval=False))
    stand = make_resource(name="Stand", category=make_category(name="PLV", needs_approval=True))
    for days, status, who in ((1, "requested", other), (2, "approved", caller), (-3, "picked_up", other)):
        make_booking(
            resource=stand if status == "requested" else camera,
            user=who,
            starts_at=NOW + timedelta(days=days),
            ends_at=NOW + timedelta(days=days, hours=4),
            status=status,
        )
    with unit_of_work(session):
        kits.save(
            session,
            ctx(make_user(roles={"admin"})),
            kit=None,
            name="Kit live",
            description="",
            departement_code=None,
            lines=[LineSpec(resource_id=camera.id)],
        )
    training = make_training(capacity=1)
    session.add(
        Enrolment(
            session_id=training.id, user_id=other.id, status="registered", queued_at=NOW, created_at=NOW, updated_at=NOW
        )
    )
    session.commit()
    make_event()
    return make_token(caller)


@pytest.mark.parametrize(("operation_id", "calls"), CALLS, ids=[f"{calls}-{name}" for name, calls in CALLS])
def test_the_api_answers_every_generated_call_as_documented(app, scene, operation_id, calls):
    mode = MODES[calls]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # Unknown query parameters are ignored by design (a partner's cache-buster `_=…`), not refused.
    schema.config.generation.update(modes=[mode], deterministic=True, allow_extra_parameters=False)
    operation = schema.find_operation_by_id(operation_id)
    headers = {"Authorization": f"Bearer {scene}"}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
    )
    def answers_as_documented(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    answers_as_documented()
