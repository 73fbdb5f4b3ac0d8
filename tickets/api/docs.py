"""Shared pieces of the OpenAPI documentation: error responses and examples."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from tickets.models import SlaStatus, State

from .errors import FIELD_ERRORS, ErrorSerializer

REFERENCE = OpenApiParameter(
    "reference", str, OpenApiParameter.PATH, description="The request's reference, e.g. `RR-2026-000042`."
)

_ERRORS = {
    400: OpenApiResponse(
        FIELD_ERRORS,
        description="Invalid or missing input: each field with its messages.",
        examples=[
            OpenApiExample(
                "Missing details",
                value={
                    "company_website": ["Enter your company website, e.g. https://example.com."],
                    "services": ["Choose at least one service: SMS, voice or Zentrunk."],
                },
                status_codes=["400"],
                response_only=True,
            )
        ],
    ),
    401: OpenApiResponse(
        ErrorSerializer,
        description="Not signed in, or the token is invalid or revoked (see `WWW-Authenticate`).",
        examples=[
            OpenApiExample(
                "No credentials",
                value={"detail": "Authentication credentials were not provided."},
                status_codes=["401"],
                response_only=True,
            )
        ],
    ),
    403: OpenApiResponse(
        ErrorSerializer,
        description="Your role may not do this (e.g. a customer on a staff endpoint, or not the assignee).",
        examples=[
            OpenApiExample(
                "Not the assignee",
                value={"detail": "Only the assignee can do this; the request is assigned to Alice Ng."},
                status_codes=["403"],
                response_only=True,
            )
        ],
    ),
    404: OpenApiResponse(
        ErrorSerializer,
        description="No such request for you (requests of other accounts are never revealed).",
        examples=[
            OpenApiExample(
                "Not found", value={"detail": "No such request."}, status_codes=["404"], response_only=True
            )
        ],
    ),
    409: OpenApiResponse(
        ErrorSerializer,
        description="Not possible in the request's current state, or lost to a concurrent change.",
        examples=[
            OpenApiExample(
                "Wrong state",
                value={"detail": "Claim is not possible while the request is rejected (final)."},
                status_codes=["409"],
                response_only=True,
            )
        ],
    ),
    429: OpenApiResponse(
        ErrorSerializer,
        description="Too many writes; the `Retry-After` header says how many seconds to wait.",
        examples=[
            OpenApiExample(
                "Throttled",
                value={"detail": "Too many requests; try again in 42 seconds."},
                status_codes=["429"],
                response_only=True,
            )
        ],
    ),
    503: OpenApiResponse(
        ErrorSerializer,
        description="Storage or database temporarily unavailable; nothing was changed (see `Retry-After`).",
        examples=[
            OpenApiExample(
                "Storage down",
                value={"detail": "The file could not be stored right now. Nothing was saved; please try again."},
                status_codes=["503"],
                response_only=True,
            )
        ],
    ),
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: _ERRORS[code] for code in codes}


DRAFT_EXAMPLE = OpenApiExample(
    "A complete draft",
    value={
        "company_name": "Acme Logistics LLC",
        "company_website": "https://acme-logistics.example",
        "use_case": "order_tracking",
        "services": ["sms"],
        "sample_message": "Your Acme order 12345 is out for delivery.",
        "destination_countries": ["US", "CA"],
        "estimated_monthly_units": 20000,
        "estimated_monthly_spend": "350.00",
    },
    request_only=True,
)

REQUEST_EXAMPLE = OpenApiExample(
    "A request in review",
    value={
        "reference": "RR-2026-000042",
        "state": State.IN_REVIEW,
        "state_label": "In review",
        "account": {"id": 7, "name": "Acme Logistics"},
        "company_name": "Acme Logistics LLC",
        "company_website": "https://acme-logistics.example",
        "use_case": "order_tracking",
        "use_case_details": "",
        "services": ["sms"],
        "sample_message": "Your Acme order 12345 is out for delivery.",
        "destination_countries": ["US", "CA"],
        "estimated_monthly_units": 20000,
        "estimated_monthly_spend": "350.00",
        "reevaluation_details": "",
        "sla_status": SlaStatus.RUNNING,
        "sla_target_at": "2026-11-30T15:00:00Z",
        "sla_breach_at": "2026-12-02T15:00:00Z",
        "decision_outcome": None,
        "created_at": "2026-11-23T14:55:00Z",
        "submitted_at": "2026-11-23T15:00:00Z",
        "updated_at": "2026-11-23T16:10:00Z",
        "info_due_at": None,
        "reevaluation_due_at": None,
        "decided_at": None,
        "available_actions": [
            {"transition": "withdraw", "label": "Withdraw", "url": "/api/v1/requests/RR-2026-000042/withdraw/"}
        ],
        "evidence": [
            {
                "id": 3,
                "kind": "certificate_of_incorporation",
                "kind_label": "Certificate of incorporation",
                "original_name": "incorporation.pdf",
                "url": None,
                "content_type": "application/pdf",
                "size": 48213,
                "uploaded_at": "2026-11-23T14:58:00Z",
                "download_url": "/api/v1/requests/RR-2026-000042/evidence/3/download/",
            }
        ],
        "messages": [
            {
                "id": 9,
                "body": "Thanks, we are looking at your request.",
                "author_name": "Accounts team",
                "from_accounts_team": True,
                "created_at": "2026-11-23T16:10:00Z",
            }
        ],
        "timeline": [
            {"transition": "create", "label": "Draft created", "from": "", "to": "draft", "at": "2026-11-23T14:55:00Z"},
            {"transition": "submit", "label": "Submitted", "from": "draft", "to": "submitted",
             "at": "2026-11-23T15:00:00Z"},
            {"transition": "claim", "label": "Review started", "from": "submitted", "to": "in_review",
             "at": "2026-11-23T16:00:00Z"},
        ],
    },
    response_only=True,
)


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "tickets.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token: `Authorization: Bearer <key>` (or `Token <key>`). "
            "Create one with POST /api/v1/tokens/ while signed in to the portal.",
        }
