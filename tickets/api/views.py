"""REST API v1 (DESIGN §8): customer endpoints, staff endpoints, `me` and API tokens.

Views only parse, look up and present: every change goes through tickets.services (or
tickets.evidence), which lock the row, check state and role, and write the audit trail. Lookups go
through the caller's accounts first, so a request of another account is a 404, never a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch
from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiToken, Restriction, accounts_for_user
from accounts.roles import ALL_ROLES, is_staff_member
from tickets import evidence as evidence_service
from tickets import services
from tickets.errors import ActorNotAllowed, InvalidInput, RequestNotFound
from tickets.models import ReassessmentRequest, SlaStatus, State
from tickets.validation import DETAIL_FIELDS

from . import selectors
from . import serializers as s
from .authentication import is_session_request, token_create, token_revoke
from .docs import DRAFT_EXAMPLE, REFERENCE, REQUEST_EXAMPLE, errors
from .pagination import RequestPagination
from .throttling import UploadThrottle, WriteThrottle

MAX_ACTIVE_TOKENS = 20


class IsStaffMember(permissions.BasePermission):
    message = "This part of the API is for the accounts team."

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_staff_member(request.user)


def _body(request: Request) -> dict[str, Any]:
    """The JSON object sent; anything else (a list, a string) is a 400."""
    if not isinstance(request.data, dict):
        raise InvalidInput({"non_field_errors": ["Send a JSON object."]})
    return request.data


def _customer_context(request: Request) -> dict[str, Any]:
    return s.now_context(request.user, staff=False, request=request)


def _staff_context(request: Request) -> dict[str, Any]:
    return s.now_context(request.user, staff=True, request=request)


def _customer_detail(request: Request, reference: str, *, code: int = status.HTTP_200_OK) -> Response:
    req = selectors.get_customer_request(request.user, reference)
    return Response(s.RequestSerializer(req, context=_customer_context(request)).data, status=code)


def _staff_detail(request: Request, reference: str, *, code: int = status.HTTP_200_OK) -> Response:
    req = selectors.get_staff_request(reference)
    return Response(s.StaffRequestSerializer(req, context=_staff_context(request)).data, status=code)


class ApiView(APIView):
    permission_classes: ClassVar[list[Any]] = [permissions.IsAuthenticated]
    throttle_classes: ClassVar[list[Any]] = [WriteThrottle]
    parser_classes: ClassVar[list[Any]] = [JSONParser]
    # No OPTIONS metadata: the schema documents every operation, and DRF's metadata would
    # introspect serializers these hand-written views do not declare.
    metadata_class = None


# --- lists -------------------------------------------------------------------------------------------

_ORDERING_HELP = "Sort by one of: " + ", ".join(selectors.CUSTOMER_ORDERING) + " (prefix `-` to reverse)."
LIST_PARAMETERS = [
    OpenApiParameter(
        "state",
        str,
        description="Only these states (comma-separated): " + ", ".join(State.values) + ".",
    ),
    OpenApiParameter("sla_status", str, enum=SlaStatus.values, description="Only this SLA status, as of now."),
    OpenApiParameter("account", int, description="Only this account (its id)."),
    OpenApiParameter("ordering", str, enum=selectors.ORDERING_CHOICES, description=_ORDERING_HELP),
]
STAFF_LIST_PARAMETERS = [
    *LIST_PARAMETERS,
    OpenApiParameter("assignee", str, description="A user id, `me` or `none` (unassigned)."),
]


def _paginated_list(
    request: Request, view: GenericAPIView, qs: Any, serializer: type, context: dict[str, Any]
) -> Response:
    paginator = view.paginator
    page = paginator.paginate_queryset(qs, request, view=view)
    data = serializer(page, many=True, context=context).data
    return paginator.get_paginated_response(data)


class _ListView(GenericAPIView, ApiView):
    """A paginated list (GenericAPIView, so the schema shows the page envelope)."""

    pagination_class = RequestPagination


class RequestListView(_ListView):
    serializer_class = s.RequestListItemSerializer

    @extend_schema(
        operation_id="requests_list",
        tags=["requests"],
        summary="Your requests",
        description="The requests of every account you own or belong to, newest first.",
        parameters=LIST_PARAMETERS,
        responses={200: s.RequestListItemSerializer(many=True), **errors(400, 401, 404)},
    )
    def get(self, request: Request) -> Response:
        context = _customer_context(request)
        qs = selectors.customer_requests(request.user)
        qs = selectors.apply_filters(qs, request.query_params, user=request.user, now=context["now"], staff=False)
        qs = selectors.apply_ordering(qs, request.query_params.get("ordering"), default="-created_at")
        return _paginated_list(request, self, qs, s.RequestListItemSerializer, context)

    @extend_schema(
        operation_id="requests_create",
        tags=["requests"],
        summary="Start a draft",
        description=(
            "Creates a draft. Details may be incomplete; the format of what you send is checked. "
            "`account` may be left out when you belong to exactly one account."
        ),
        request=s.DraftCreateSerializer,
        examples=[DRAFT_EXAMPLE],
        responses={201: OpenApiResponse(s.RequestSerializer, examples=[REQUEST_EXAMPLE]), **errors(400, 401, 403, 429)},
    )
    def post(self, request: Request) -> Response:
        body = _body(request)
        unknown = sorted(set(body) - {*DETAIL_FIELDS, "account"})
        if unknown:
            raise InvalidInput({field: ["This field is not part of a request."] for field in unknown})
        account = body.get("account")
        if account is not None and (isinstance(account, bool) or not str(account).isdigit()):
            raise InvalidInput({"account": ["Give the account's numeric id."]})
        details = {field: body[field] for field in DETAIL_FIELDS if field in body}
        req = services.request_create_draft(
            actor=request.user, account=int(account) if account is not None else None, details=details
        )
        response = _customer_detail(request, req.reference, code=status.HTTP_201_CREATED)
        response["Location"] = reverse("api:request-detail", kwargs={"reference": req.reference})
        return response


class RequestDetailView(ApiView):
    @extend_schema(
        operation_id="requests_retrieve",
        tags=["requests"],
        summary="One of your requests",
        parameters=[REFERENCE],
        responses={200: OpenApiResponse(s.RequestSerializer, examples=[REQUEST_EXAMPLE]), **errors(401, 404)},
    )
    def get(self, request: Request, reference: str) -> Response:
        return _customer_detail(request, reference)

    @extend_schema(
        operation_id="requests_partial_update",
        tags=["requests"],
        summary="Change a draft",
        description="Only while the request is a draft (409 after submission). Send only the fields to change.",
        parameters=[REFERENCE],
        request=s.DraftUpdateSerializer,
        examples=[DRAFT_EXAMPLE],
        responses={200: s.RequestSerializer, **errors(400, 401, 404, 409, 429)},
    )
    def patch(self, request: Request, reference: str) -> Response:
        body = _body(request)
        req = selectors.get_customer_request(request.user, reference, detail=False)
        services.request_update_draft(request_id=req.pk, actor=request.user, details=dict(body))
        return _customer_detail(request, reference)


# --- customer transitions ---------------------------------------------------------------------------------


def _customer_transition(
    name: str,
    *,
    summary: str,
    description: str,
    request_serializer: type,
    example: dict[str, Any] | None = None,
    call: Callable[[ReassessmentRequest, AbstractBaseUser, dict[str, Any]], Any],
    error_codes: tuple[int, ...] = (400, 401, 404, 409, 429),
) -> type[APIView]:
    kebab = name.replace("_", "-")

    class TransitionView(ApiView):
        @extend_schema(
            operation_id=f"requests_{name}",
            tags=["requests"],
            summary=summary,
            description=description,
            parameters=[REFERENCE],
            request=request_serializer,
            examples=[OpenApiExample(summary, value=example, request_only=True)] if example else [],
            responses={200: s.RequestSerializer, **errors(*error_codes)},
        )
        def post(self, request: Request, reference: str) -> Response:
            body = _body(request)
            req = selectors.get_customer_request(request.user, reference, detail=False)
            call(req, request.user, body)
            return _customer_detail(request, reference)

    TransitionView.__name__ = TransitionView.__qualname__ = f"Request{kebab.title().replace('-', '')}View"
    return TransitionView


RequestSubmitView = _customer_transition(
    "submit",
    summary="Submit a draft",
    description="Checks that every mandatory detail is there (400 lists all that are missing) and starts the review.",
    request_serializer=s.EmptySerializer,
    call=lambda req, user, body: services.request_submit(request_id=req.pk, actor=user),
)
RequestProvideInfoView = _customer_transition(
    "provide_info",
    summary="Answer an information request",
    description="Your answer to the accounts team's question. Add evidence first if they asked for documents.",
    request_serializer=s.InfoMessageSerializer,
    example={"message": "Our certificate of incorporation is attached as evidence."},
    call=lambda req, user, body: services.request_provide_info(
        request_id=req.pk, actor=user, message=body.get("message")
    ),
)
RequestRequestReevaluationView = _customer_transition(
    "request_reevaluation",
    summary="Ask for a re-evaluation",
    description="Once per request, within the window after a rejection; tell us what changed.",
    request_serializer=s.ReevaluationInputSerializer,
    example={"details": "Our website is live now and lists our registered address; see the new evidence."},
    call=lambda req, user, body: services.request_request_reevaluation(
        request_id=req.pk, actor=user, details=body.get("details")
    ),
)
RequestWithdrawView = _customer_transition(
    "withdraw",
    summary="Withdraw the request",
    description="Final: a withdrawn request cannot be reopened.",
    request_serializer=s.WithdrawInputSerializer,
    example={"note": "Filed by mistake."},
    call=lambda req, user, body: services.request_withdraw(
        request_id=req.pk, actor=user, note=body.get("note") or ""
    ),
)


# --- evidence and messages ------------------------------------------------------------------------------


class RequestEvidenceView(ApiView):
    parser_classes: ClassVar[list[Any]] = [MultiPartParser, JSONParser]
    throttle_classes: ClassVar[list[Any]] = [WriteThrottle, UploadThrottle]

    @extend_schema(
        operation_id="requests_evidence_create",
        tags=["requests"],
        summary="Add evidence",
        description=(
            "A file (multipart: `kind` + `file`; PDF, PNG, JPEG or WEBP, checked by content) or a link "
            "(JSON: `kind` + `url`, https only). Possible until the request is final."
        ),
        parameters=[REFERENCE],
        request={
            "multipart/form-data": s.EvidenceFileInputSerializer,
            "application/json": s.EvidenceLinkInputSerializer,
        },
        examples=[
            OpenApiExample(
                "A link",
                value={"kind": "marketplace_profile", "url": "https://www.linkedin.com/company/acme"},
                request_only=True,
                media_type="application/json",
            )
        ],
        responses={201: s.EvidenceSerializer, **errors(400, 401, 404, 409, 429, 503)},
    )
    def post(self, request: Request, reference: str) -> Response:
        body = _body(request)
        req = selectors.get_customer_request(request.user, reference, detail=False)
        upload = request.FILES.get("file")
        kind = body.get("kind")
        if upload is not None:
            item = evidence_service.evidence_add_file(
                request_id=req.pk, actor=request.user, kind=kind, upload=upload, name=upload.name
            )
        elif body.get("url") not in (None, ""):
            item = evidence_service.evidence_add_link(request_id=req.pk, actor=request.user, kind=kind, url=body["url"])
        else:
            raise InvalidInput({"file": ["Attach a file (multipart `file`) or send a link (`url`)."]})
        item.request = req
        return Response(s.EvidenceSerializer(item, context=_customer_context(request)).data, status=201)


_DOWNLOAD_RESPONSES = {
    (200, "application/octet-stream"): OpenApiResponse(
        OpenApiTypes.BINARY, description="The file, as an attachment, with its detected content type."
    ),
    302: OpenApiResponse(description="A link, or a short-lived signed storage URL: follow `Location`."),
}


def _download(request: Request, req: ReassessmentRequest, pk: int) -> HttpResponse:
    item = next((e for e in req.evidence.all() if e.pk == pk), None)
    if item is None or not evidence_service.can_download(request.user, item):
        raise RequestNotFound("No such evidence.")
    try:
        return evidence_service.evidence_download_response(request._request, item)
    except Exception as exc:
        raise evidence_service.EvidenceStorageError(
            "The file cannot be read from storage right now; please try again."
        ) from exc


class EvidenceDownloadView(ApiView):
    @extend_schema(
        operation_id="requests_evidence_download",
        tags=["requests"],
        summary="Download evidence",
        parameters=[REFERENCE, OpenApiParameter("id", int, OpenApiParameter.PATH, description="The evidence id.")],
        responses={**_DOWNLOAD_RESPONSES, **errors(401, 404, 503)},
    )
    def get(self, request: Request, reference: str, pk: int) -> HttpResponse:
        req = selectors.get_customer_request(request.user, reference, detail=False)
        return _download(request, req, pk)


class RequestMessagesView(ApiView):
    @extend_schema(
        operation_id="requests_messages_create",
        tags=["requests"],
        summary="Write to the accounts team",
        description="Once the request is submitted and until it is final.",
        parameters=[REFERENCE],
        request=s.MessageInputSerializer,
        examples=[OpenApiExample("A question", value={"body": "Is there anything else you need?"}, request_only=True)],
        responses={201: s.MessageSerializer, **errors(400, 401, 404, 409, 429)},
    )
    def post(self, request: Request, reference: str) -> Response:
        body = _body(request)
        req = selectors.get_customer_request(request.user, reference, detail=False)
        message = services.message_post(request_id=req.pk, actor=request.user, body=body.get("body"))
        message.request = req
        return Response(s.MessageSerializer(message, context=_customer_context(request)).data, status=201)


# --- staff ---------------------------------------------------------------------------------------------


class StaffApiView(ApiView):
    permission_classes: ClassVar[list[Any]] = [permissions.IsAuthenticated, IsStaffMember]


class StaffRequestListView(_ListView, StaffApiView):
    serializer_class = s.StaffRequestListItemSerializer

    @extend_schema(
        operation_id="staff_requests_list",
        tags=["staff"],
        summary="The queue",
        description="Every request; by default the most urgent (earliest breach) first.",
        parameters=STAFF_LIST_PARAMETERS,
        responses={200: s.StaffRequestListItemSerializer(many=True), **errors(400, 401, 403, 404)},
    )
    def get(self, request: Request) -> Response:
        context = _staff_context(request)
        qs = selectors.staff_requests()
        qs = selectors.apply_filters(qs, request.query_params, user=request.user, now=context["now"], staff=True)
        qs = selectors.apply_ordering(qs, request.query_params.get("ordering"), default="sla_breach_at")
        return _paginated_list(request, self, qs, s.StaffRequestListItemSerializer, context)


class StaffRequestDetailView(StaffApiView):
    @extend_schema(
        operation_id="staff_requests_retrieve",
        tags=["staff"],
        summary="A request, with everything",
        description="Adds the assignee, reason code, internal notes, screening flags, the account's restrictions "
        "and risk signals, and the full audit trail.",
        parameters=[REFERENCE],
        responses={200: s.StaffRequestSerializer, **errors(401, 403, 404)},
    )
    def get(self, request: Request, reference: str) -> Response:
        return _staff_detail(request, reference)


def _staff_transition(
    name: str,
    *,
    summary: str,
    description: str,
    request_serializer: type,
    example: dict[str, Any] | None = None,
    call: Callable[[ReassessmentRequest, AbstractBaseUser, dict[str, Any]], Any],
) -> type[APIView]:
    kebab = name.replace("_", "-")

    class TransitionView(StaffApiView):
        @extend_schema(
            operation_id=f"staff_requests_{name}",
            tags=["staff"],
            summary=summary,
            description=description,
            parameters=[REFERENCE],
            request=request_serializer,
            examples=[OpenApiExample(summary, value=example, request_only=True)] if example else [],
            responses={200: s.StaffRequestSerializer, **errors(400, 401, 403, 404, 409, 429)},
        )
        def post(self, request: Request, reference: str) -> Response:
            body = _body(request)
            req = selectors.get_staff_request(reference, detail=False)
            call(req, request.user, body)
            return _staff_detail(request, reference)

    TransitionView.__name__ = TransitionView.__qualname__ = f"Staff{kebab.title().replace('-', '')}View"
    return TransitionView


StaffClaimView = _staff_transition(
    "claim",
    summary="Claim a submitted request",
    description="You become its assignee. Accounts team.",
    request_serializer=s.EmptySerializer,
    call=lambda req, user, body: services.request_claim(request_id=req.pk, actor=user),
)
StaffRequestInfoView = _staff_transition(
    "request_info",
    summary="Ask the customer for information",
    description="The message is shown to the customer; the SLA clock pauses. Assignee only.",
    request_serializer=s.InfoMessageSerializer,
    example={"message": "Please add your certificate of incorporation."},
    call=lambda req, user, body: services.request_request_info(
        request_id=req.pk, actor=user, message=body.get("message")
    ),
)
StaffApproveView = _staff_transition(
    "approve",
    summary="Approve",
    description="Lifts the chosen restrictions in the same transaction (`lifted` when none stays active, else "
    "`limited`). The message is shown to the customer. Assignee only (a senior in a re-evaluation).",
    request_serializer=s.ApproveInputSerializer,
    example={"lift": [12, 13], "message": "Your SMS traffic is enabled again."},
    call=lambda req, user, body: services.request_approve(
        request_id=req.pk, actor=user, lift=body.get("lift"), message=body.get("message") or ""
    ),
)
StaffRejectView = _staff_transition(
    "reject",
    summary="Reject (cycle 1)",
    description="With an internal reason code; a zero-tolerance reason makes it final. Assignee only.",
    request_serializer=s.RejectInputSerializer,
    example={"reason_code": "unverifiable_business", "note": "Website is a parked domain."},
    call=lambda req, user, body: services.request_reject(
        request_id=req.pk, actor=user, reason_code=body.get("reason_code"), note=body.get("note") or ""
    ),
)
StaffClaimReevaluationView = _staff_transition(
    "claim_reevaluation",
    summary="Claim a re-evaluation",
    description="Senior reviewers only, and not the one who decided cycle 1.",
    request_serializer=s.EmptySerializer,
    call=lambda req, user, body: services.request_claim_reevaluation(request_id=req.pk, actor=user),
)
StaffRejectFinalView = _staff_transition(
    "reject_final",
    summary="Reject the re-evaluation (final)",
    description="Final and non-reversible. The assigned senior reviewer only.",
    request_serializer=s.RejectInputSerializer,
    example={"reason_code": "unverifiable_business", "note": "New filing does not match the company."},
    call=lambda req, user, body: services.request_reject_final(
        request_id=req.pk, actor=user, reason_code=body.get("reason_code"), note=body.get("note") or ""
    ),
)


class StaffMessagesView(StaffApiView):
    @extend_schema(
        operation_id="staff_requests_messages_create",
        tags=["staff"],
        summary="Reply to the customer, or add an internal note",
        parameters=[REFERENCE],
        request=s.StaffMessageInputSerializer,
        examples=[
            OpenApiExample("An internal note", value={"body": "Checked the registry: matches.", "internal": True},
                           request_only=True)
        ],
        responses={201: s.StaffMessageSerializer, **errors(400, 401, 403, 404, 409, 429)},
    )
    def post(self, request: Request, reference: str) -> Response:
        body = _body(request)
        internal = body.get("internal", False)
        if not isinstance(internal, bool):
            raise InvalidInput({"internal": ["Must be true or false."]})
        req = selectors.get_staff_request(reference, detail=False)
        message = services.message_post(request_id=req.pk, actor=request.user, body=body.get("body"), internal=internal)
        return Response(s.StaffMessageSerializer(message).data, status=201)


class StaffEvidenceDownloadView(StaffApiView):
    @extend_schema(
        operation_id="staff_requests_evidence_download",
        tags=["staff"],
        summary="Download evidence",
        parameters=[REFERENCE, OpenApiParameter("id", int, OpenApiParameter.PATH, description="The evidence id.")],
        responses={**_DOWNLOAD_RESPONSES, **errors(401, 403, 404, 503)},
    )
    def get(self, request: Request, reference: str, pk: int) -> HttpResponse:
        req = selectors.get_staff_request(reference, detail=False)
        return _download(request, req, pk)


# --- me and tokens --------------------------------------------------------------------------------------


class MeView(ApiView):
    @extend_schema(
        operation_id="me_retrieve",
        tags=["account"],
        summary="Who you are",
        description="Your user, your accounts (with your role in each) and their active restrictions.",
        responses={200: s.MeSerializer, **errors(401)},
    )
    def get(self, request: Request) -> Response:
        user = request.user
        accounts = accounts_for_user(user).prefetch_related(
            Prefetch("restrictions", queryset=Restriction.objects.filter(status=Restriction.Status.ACTIVE))
        )
        roles = sorted(set(user.groups.values_list("name", flat=True)) & set(ALL_ROLES)) if user.is_staff else []
        data = {
            "id": user.pk,
            "username": user.get_username(),
            "name": selectors.display_name(user),
            "email": user.email,
            "is_staff_member": is_staff_member(user),
            "roles": roles,
            "accounts": list(accounts),
        }
        return Response(s.MeSerializer(data, context={"user": user}).data)


class TokenListView(ApiView):
    @extend_schema(
        operation_id="tokens_list",
        tags=["account"],
        summary="Your API tokens",
        description="Keys are never shown again after creation; the prefix tells them apart.",
        responses={200: s.TokenSerializer(many=True), **errors(401)},
    )
    def get(self, request: Request) -> Response:
        tokens = ApiToken.objects.filter(user=request.user)
        return Response(s.TokenSerializer(tokens, many=True).data)

    @extend_schema(
        operation_id="tokens_create",
        tags=["account"],
        summary="Create an API token",
        description=(
            "Only while signed in to the portal (not with another token, so a leaked token cannot mint "
            "more). The `key` is in this response only: store it now."
        ),
        request=s.TokenCreateSerializer,
        examples=[
            OpenApiExample("A token for a console", value={"name": "billing console"}, request_only=True),
            OpenApiExample(
                "Created (the key is shown this once)",
                value={
                    "id": 4,
                    "name": "billing console",
                    "prefix": "cmk_x1Y2z3W4",
                    "created_at": "2026-11-23T15:00:00Z",
                    "last_used_at": None,
                    "revoked_at": None,
                    "is_active": True,
                    "key": "cmk_x1Y2z3W4...rest-of-the-key",
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
        responses={201: s.TokenCreatedSerializer, **errors(400, 401, 403, 429)},
    )
    def post(self, request: Request) -> Response:
        if not is_session_request(request):
            raise ActorNotAllowed("Create API tokens while signed in to the portal, not with another token.")
        serializer = s.TokenCreateSerializer(data=_body(request))
        serializer.is_valid(raise_exception=True)
        active = ApiToken.objects.filter(user=request.user, revoked_at__isnull=True).count()
        if active >= MAX_ACTIVE_TOKENS:
            raise InvalidInput({"name": [f"You have {active} active tokens; revoke one before creating another."]})
        token, key = token_create(user=request.user, name=serializer.validated_data["name"])
        token.key = key
        return Response(s.TokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


class TokenDetailView(ApiView):
    @extend_schema(
        operation_id="tokens_destroy",
        tags=["account"],
        summary="Revoke an API token",
        description="Takes effect at once. Revoking an already revoked token changes nothing.",
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH, description="The token's id.")],
        responses={204: None, **errors(401, 404, 429)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        token = ApiToken.objects.filter(user=request.user, pk=pk).first()
        if token is None:
            raise RequestNotFound("No such token.")
        token_revoke(token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)
