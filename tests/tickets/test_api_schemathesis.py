"""Property-based run of schemathesis against /api/schema/, through the WSGI app.

Every documented operation gets generated requests with an API token (an agent's for the staff
operations, a customer's for the rest): some with random references, some aimed at the
customer's draft and submitted request so the handlers do real work. Each response must not be a
server error and must match its documented schema (status codes, bodies). Bounded: MAX_EXAMPLES
per operation and target, NEGATIVE_EXAMPLES of invalid data per operation.
"""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories
from tickets import services

from .api_helpers import png_upload

MAX_EXAMPLES = 10  # valid cases per operation and target
NEGATIVE_EXAMPLES = 5  # invalid cases per operation


@pytest.fixture
def wsgi_app(settings):
    """The real WSGI app inside the test's transaction (as Django's test client does, keep the
    connection open across requests)."""
    from django.core.wsgi import get_wsgi_application

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"writes": "100000/hour", "uploads": "100000/hour"},
    }
    cache.clear()
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.slow
def test_schemathesis_finds_no_server_errors_and_no_schema_violations(
    wsgi_app, customer, account, restriction, agent
) -> None:
    import schemathesis
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

    from tickets.api.authentication import token_create

    _, key = token_create(user=customer, name="schemathesis")
    _, staff_key = token_create(user=agent, name="schemathesis")
    customer_headers = {"Authorization": f"Bearer {key}"}
    staff_headers = {"Authorization": f"Token {staff_key}"}
    draft = factories.draft_for(account, customer)
    services.request_create_draft(actor=customer)  # an empty draft too
    submitted = services.request_submit(request_id=factories.draft_for(account, customer).pk, actor=customer)
    from tickets import evidence as evidence_service

    evidence_service.evidence_add_file(request_id=draft.pk, actor=customer, kind="other", upload=png_upload())
    references = [draft.reference, submitted.reference]

    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)
    checks = [not_a_server_error, response_schema_conformance]
    ran: dict[str, int] = {}
    skipped: list[str] = []
    started = time.monotonic()

    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        # Staff operations run as an agent (so they do real work), the rest as the customer.
        headers = staff_headers if "/staff/" in operation.path else customer_headers
        # (path parameters, mode): valid data at random and at real requests, then invalid data.
        targets: list[tuple[dict[str, str] | None, GenerationMode]] = [(None, GenerationMode.POSITIVE)]
        if "{reference}" in operation.path:
            targets += [({"reference": ref}, GenerationMode.POSITIVE) for ref in references]
            targets.append(({"reference": draft.reference}, GenerationMode.NEGATIVE))
        else:
            targets.append((None, GenerationMode.NEGATIVE))
        for path_parameters, mode in targets:
            try:
                strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
            except Exception as exc:  # an operation with nothing to make invalid
                if mode is GenerationMode.NEGATIVE:
                    skipped.append(f"{label}: {type(exc).__name__}")
                    continue
                raise

            @settings(
                max_examples=MAX_EXAMPLES if mode is GenerationMode.POSITIVE else NEGATIVE_EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy, headers=st.just(headers))
            def run(case, headers) -> None:
                response = case.call(headers=headers)
                case.validate_response(response, checks=checks, headers=headers)
                ran[label] = ran.get(label, 0) + 1

            run()

    total = sum(ran.values())
    elapsed = time.monotonic() - started
    print(f"\nschemathesis: {total} cases over {len(ran)} operations in {elapsed:.0f}s")
    for label, count in sorted(ran.items()):
        print(f"  {count:4d}  {label}")
    assert len(ran) >= 21
    assert total >= 21 * MAX_EXAMPLES // 2
