"""The customer portal: the request list, the request form (draft, evidence, review, submit) and
the request page (timeline, messages, reply, re-evaluation, withdraw).

Views collect input and call the services; they never save a request. What a customer sees is
built here from an allow-list (plain-word timeline labels, public messages, "Accounts team" as the
author of staff messages), so reason codes, internal notes, screening flags and staff usernames
never reach a template.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from tickets import clock
from tickets.errors import ActorNotAllowed, InvalidInput, RequestNotFound, StateConflict, TransitionRefused
from tickets.evidence import EvidenceStorageError, evidence_add_file, evidence_add_link, evidence_delete_draft
from tickets.models import ReassessmentRequest, State
from tickets.services import (
    available_transitions,
    message_post,
    request_create_draft,
    request_provide_info,
    request_request_reevaluation,
    request_submit,
    request_update_draft,
    request_withdraw,
)
from tickets.validation import validate_for_submit

from .forms import (
    EVIDENCE_HELP,
    EvidenceUploadForm,
    MessageForm,
    ReevaluationForm,
    RequestDetailsForm,
    add_service_errors,
    general_message_form,
    initial_from_request,
)
from .session import current_account, portal_accounts, set_current_account

# The state as the customer reads it. Both automatic and reviewed final rejections read the same.
CUSTOMER_STATE_LABELS = {
    State.DRAFT: "Draft, not sent yet",
    State.SUBMITTED: "Submitted, waiting for review",
    State.IN_REVIEW: "In review",
    State.AWAITING_CUSTOMER: "Information requested from you",
    State.APPROVED: "Approved",
    State.REJECTED: "Rejected",
    State.REEVALUATION_REQUESTED: "Re-evaluation requested",
    State.IN_REEVALUATION: "In re-evaluation",
    State.REJECTED_FINAL: "Rejected, final decision",
    State.WITHDRAWN: "Withdrawn",
}

# Timeline entries the customer sees, in plain words. Anything not listed (evidence audit rows,
# future staff-only transitions) is left out, and no note, reason or actor is ever read.
TIMELINE_LABELS = {
    "create": "Draft started",
    "submit": "Submitted",
    "claim": "In review",
    "request_info": "Information requested",
    "provide_info": "You sent the information",
    "approve": "Decided: approved",
    "reject": "Decided: rejected",
    "expire_info_request": "Decided: rejected",
    "auto_reject": "Final decision: rejected",
    "reject_final": "Final decision: rejected",
    "request_reevaluation": "Re-evaluation requested",
    "claim_reevaluation": "In re-evaluation",
    "close_reevaluation_window": "The decision became final",
    "withdraw": "Withdrawn",
}

STATE_TONES = {
    State.DRAFT: "neutral",
    State.AWAITING_CUSTOMER: "action",
    State.APPROVED: "good",
    State.REJECTED: "bad",
    State.REJECTED_FINAL: "bad",
    State.WITHDRAWN: "neutral",
}


@dataclass(frozen=True)
class TimelineEntry:
    label: str
    at: datetime


@dataclass(frozen=True)
class PublicMessage:
    author: str
    from_team: bool
    body: str
    at: datetime


def _customer_label(req: ReassessmentRequest) -> str:
    return CUSTOMER_STATE_LABELS.get(req.state, req.get_state_display())


def _own_request(request: HttpRequest, reference: str) -> ReassessmentRequest:
    """The request when it belongs to one of the user's accounts; else the same 404 as a missing one."""
    account_ids = [a.pk for a in portal_accounts(request)]
    req = (
        ReassessmentRequest.objects.select_related("account")
        .filter(reference=reference, account_id__in=account_ids)
        .first()
    )
    if req is None:
        raise Http404("No such request.")
    # Opening a request (e.g. from an email) shows its account in the header.
    if current_account(request) != req.account:
        set_current_account(request, req.account_id)
    return req


def _refused(request: HttpRequest, req: ReassessmentRequest, exc: TransitionRefused) -> HttpResponse:
    """Map a service refusal: 404 for not-yours, 403 for a role, a message for a state change."""
    if isinstance(exc, RequestNotFound):
        raise Http404(exc.message)
    if isinstance(exc, ActorNotAllowed):
        raise PermissionDenied(exc.message)
    messages.error(request, exc.message)
    return redirect("portal:request_detail", reference=req.reference)


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


# --- list ------------------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    account = current_account(request)
    rows: list[dict[str, Any]] = []
    if account is not None:
        requests = ReassessmentRequest.objects.filter(account=account).only(
            "reference",
            "state",
            "company_name",
            "created_at",
            "submitted_at",
            "sla_target_at",
            "info_due_at",
            "reevaluation_due_at",
            "updated_at",
            "account_id",
        )
        rows = [
            {"req": req, "label": _customer_label(req), "tone": STATE_TONES.get(req.state, "progress")}
            for req in requests
        ]
    return render(request, "portal/home.html", {"account": account, "rows": rows})


@login_required
@require_POST
def switch_account(request: HttpRequest) -> HttpResponse:
    account = set_current_account(request, request.POST.get("account"))
    if account is None:
        messages.error(request, "Choose one of your own accounts.")
    else:
        messages.success(request, f"You are now working on {account.name}.")
    return HttpResponseRedirect(_safe_next(request, reverse("portal:home")))


# --- the request form --------------------------------------------------------------------------


def _save_details(
    request: HttpRequest, req: ReassessmentRequest | None, details: dict[str, Any]
) -> tuple[ReassessmentRequest | None, dict[str, list[str]]]:
    """Create or update the draft with what is valid; return the errors of what is not.

    A customer who mistypes one field should not lose the others, so on a format error the valid
    fields are saved (through the same service) and the invalid ones come back as messages.
    """
    account = current_account(request)

    def call(values: dict[str, Any]) -> ReassessmentRequest:
        if req is None:
            return request_create_draft(actor=request.user, account=account, details=values)
        return request_update_draft(request_id=req.pk, actor=request.user, details=values)

    try:
        return call(details), {}
    except InvalidInput as exc:
        errors = exc.errors
    valid = {field: value for field, value in details.items() if field not in errors}
    try:
        return call(valid), errors
    except InvalidInput as exc:
        # Not a field problem (e.g. no account): nothing could be saved.
        merged = {**errors, **exc.errors}
        return req, merged


def _form_page(
    request: HttpRequest,
    req: ReassessmentRequest | None,
    form: RequestDetailsForm,
    *,
    status: int = 200,
    summary: str = "",
) -> HttpResponse:
    account = req.account if req else current_account(request)
    evidence = list(req.evidence.all()) if req else []
    return render(
        request,
        "portal/request_form.html",
        {
            "req": req,
            "form": form,
            "account": account,
            "evidence": evidence,
            "evidence_form": EvidenceUploadForm(),
            "evidence_help": EVIDENCE_HELP,
            "error_summary": summary,
        },
        status=status,
    )


def _handle_details_post(request: HttpRequest, req: ReassessmentRequest | None) -> HttpResponse:
    form = RequestDetailsForm(request.POST)
    action = request.POST.get("action", "save")
    if not form.is_valid():
        # Only unknown choices fail here (a tampered form); show them like any other error.
        return _form_page(request, req, form, status=400, summary="Please correct the details marked below.")
    saved, errors = _save_details(request, req, form.details())
    if saved is None:
        add_service_errors(form, errors)
        return _form_page(request, None, form, status=400, summary="Please correct the details marked below.")
    if errors:
        add_service_errors(form, errors)
        summary = "We saved your draft, but some details need correcting (marked below)."
        return _form_page(request, saved, form, status=400, summary=summary)
    if action == "review":
        missing = validate_for_submit(saved)
        if missing:
            add_service_errors(form, missing)
            summary = "Your draft is saved. Some required details are still missing."
            return _form_page(request, saved, form, status=400, summary=summary)
        return redirect("portal:request_review", reference=saved.reference)
    messages.success(request, "Your draft is saved. You can come back to it at any time.")
    return redirect("portal:request_edit", reference=saved.reference)


@login_required
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    if "account" in request.GET:
        set_current_account(request, request.GET["account"])
    account = current_account(request)
    if account is None:
        return render(request, "portal/no_account.html", status=403)
    if request.method == "POST":
        return _handle_details_post(request, None)
    form = RequestDetailsForm(initial={"company_name": account.name})
    return _form_page(request, None, form)


@login_required
@require_http_methods(["GET", "POST"])
def request_edit(request: HttpRequest, reference: str) -> HttpResponse:
    req = _own_request(request, reference)
    if req.state != State.DRAFT:
        messages.info(request, "This request was already submitted; its details can no longer be changed.")
        return redirect("portal:request_detail", reference=req.reference)
    if request.method == "POST":
        return _handle_details_post(request, req)
    return _form_page(request, req, RequestDetailsForm(initial=initial_from_request(req)))


@login_required
@require_http_methods(["GET", "POST"])
def request_review(request: HttpRequest, reference: str) -> HttpResponse:
    req = _own_request(request, reference)
    if req.state != State.DRAFT:
        return redirect("portal:request_detail", reference=req.reference)
    if request.method == "POST":
        try:
            req = request_submit(request_id=req.pk, actor=request.user)
        except InvalidInput as exc:
            # Show the stored details as a bound form so each message sits next to its field.
            form = RequestDetailsForm(initial_from_request(req))
            form.is_valid()
            add_service_errors(form, exc.errors)
            return _form_page(request, req, form, status=400, summary=exc.message)
        except TransitionRefused as exc:
            return _refused(request, req, exc)
        messages.success(
            request, f"Thank you. We received your request {req.reference}; a confirmation email is on its way."
        )
        return redirect("portal:request_detail", reference=req.reference)
    missing = validate_for_submit(req)
    return render(
        request,
        "portal/request_review.html",
        {
            "req": req,
            "account": req.account,
            "missing": missing,
            "evidence": list(req.evidence.all()),
            "use_case_label": req.get_use_case_display(),
            "service_labels": _service_labels(req),
            "country_names": _country_names(req),
        },
    )


def _service_labels(req: ReassessmentRequest) -> list[str]:
    from tickets.models import Service

    labels = dict(Service.choices)
    return [labels.get(s, s) for s in req.services or []]


def _country_names(req: ReassessmentRequest) -> list[str]:
    from tickets.validation import country_choices

    names = dict(country_choices())
    return [names.get(code, code) for code in req.destination_countries or []]


# --- evidence ------------------------------------------------------------------------------------


def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get("X-Requested-With") == "XMLHttpRequest" or "application/json" in request.headers.get(
        "Accept", ""
    )


@login_required
@require_POST
def evidence_add(request: HttpRequest, reference: str) -> HttpResponse:
    """Several files and/or a link in one post. Works as a plain multipart form; the portal's
    script posts the same form with XHR to show upload progress and gets JSON back."""
    req = _own_request(request, reference)
    back = _safe_next(request, reverse("portal:request_detail", args=[req.reference]))
    kind = request.POST.get("kind", "")
    files = request.FILES.getlist("files")
    url = (request.POST.get("url") or "").strip()
    added: list[str] = []
    errors: list[str] = []
    if not files and not url:
        errors.append("Choose one or more files, or enter a link.")
    elif not kind:
        errors.append("Choose what the evidence is (e.g. certificate of incorporation).")
    else:
        for upload in files:
            try:
                evidence = evidence_add_file(request_id=req.pk, actor=request.user, kind=kind, upload=upload)
            except InvalidInput as exc:
                errors.extend(m for msgs in exc.errors.values() for m in msgs)
            except EvidenceStorageError as exc:
                errors.append(str(exc))
            except (RequestNotFound, ActorNotAllowed, StateConflict) as exc:
                errors.append(exc.message)
                break
            else:
                added.append(evidence.original_name)
        if url:
            try:
                evidence = evidence_add_link(request_id=req.pk, actor=request.user, kind=kind, url=url)
            except InvalidInput as exc:
                errors.extend(m for msgs in exc.errors.values() for m in msgs)
            except (RequestNotFound, ActorNotAllowed, StateConflict) as exc:
                errors.append(exc.message)
            else:
                added.append(evidence.url)
    if _wants_json(request):
        if added and not errors:
            # The script reloads the page on success; the list and this note show what was added.
            messages.success(request, f"Added: {', '.join(added)}.")
        return JsonResponse({"added": added, "errors": errors}, status=400 if errors and not added else 200)
    if added:
        messages.success(request, f"Added: {', '.join(added)}.")
    for error in errors:
        messages.error(request, error)
    return HttpResponseRedirect(back)


@login_required
@require_POST
def evidence_delete(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    req = _own_request(request, reference)
    if not req.evidence.filter(pk=pk).exists():
        raise Http404("No such evidence.")
    try:
        evidence_delete_draft(evidence_id=pk, actor=request.user)
    except TransitionRefused as exc:
        return _refused(request, req, exc)
    messages.success(request, "The evidence was removed.")
    return HttpResponseRedirect(_safe_next(request, reverse("portal:request_edit", args=[req.reference])))


# --- the request page -----------------------------------------------------------------------------


def _timeline(req: ReassessmentRequest) -> list[TimelineEntry]:
    rows = req.transitions.filter(transition__in=TIMELINE_LABELS).values_list("transition", "created_at")
    return [TimelineEntry(label=TIMELINE_LABELS[name], at=at) for name, at in rows]


def _public_messages(request: HttpRequest, req: ReassessmentRequest) -> list[PublicMessage]:
    customer_ids = {req.account.owner_id, *req.account.members.values_list("pk", flat=True)}
    result = []
    for message in req.messages.filter(internal=False).select_related("author"):
        if message.author_id == request.user.pk:
            author, from_team = "You", False
        elif message.author_id in customer_ids:
            author = message.author.get_full_name() or message.author.get_username()
            from_team = False
        else:
            # Staff write as the team: a customer never sees who on the desk wrote.
            author, from_team = "Accounts team", True
        result.append(PublicMessage(author=author, from_team=from_team, body=message.body, at=message.created_at))
    return result


def _detail_context(request: HttpRequest, req: ReassessmentRequest, **forms: Any) -> dict[str, Any]:
    allowed = set(available_transitions(req, request.user))
    # The once-only rule and the window are conditions of the transition itself.
    can_reevaluate = "request_reevaluation" in allowed
    now = clock.now()
    can_message = req.state not in (State.DRAFT, State.AWAITING_CUSTOMER) and not req.is_final
    lifted = list(req.lifted_restrictions.all()) if req.state == State.APPROVED else []
    still_active = list(req.account.active_restrictions()) if req.state == State.APPROVED else []
    return {
        "req": req,
        "account": req.account,
        "state_label": _customer_label(req),
        "tone": STATE_TONES.get(req.state, "progress"),
        "timeline": _timeline(req),
        "public_messages": _public_messages(request, req),
        "evidence": list(req.evidence.all()),
        "can_reply": "provide_info" in allowed,
        "can_reevaluate": can_reevaluate,
        "can_withdraw": "withdraw" in allowed,
        "can_message": can_message,
        "can_add_evidence": not req.is_final and req.state != State.DRAFT,
        "past_target": bool(req.sla_target_at and now > req.sla_target_at),
        "lifted": lifted,
        "still_active": still_active,
        "reply_form": forms.get("reply_form") or MessageForm(),
        "message_form": forms.get("message_form") or general_message_form(),
        "reevaluation_form": forms.get("reevaluation_form") or ReevaluationForm(),
        "evidence_form": EvidenceUploadForm(),
        "evidence_help": EVIDENCE_HELP,
    }


@login_required
def request_detail(request: HttpRequest, reference: str) -> HttpResponse:
    req = _own_request(request, reference)
    if req.state == State.DRAFT and request.GET.get("view") != "1":
        return redirect("portal:request_edit", reference=req.reference)
    return render(request, "portal/request_detail.html", _detail_context(request, req))


@login_required
@require_POST
def request_reply(request: HttpRequest, reference: str) -> HttpResponse:
    req = _own_request(request, reference)
    form = MessageForm(request.POST)
    if form.is_valid():
        try:
            request_provide_info(request_id=req.pk, actor=request.user, message=form.cleaned_data["message"])
        except InvalidInput as exc:
            add_service_errors(form, exc.errors)
        except TransitionRefused as exc:
            return _refused(request, req, exc)
        else:
            messages.success(request, "Thank you. Your answer was sent and the review continues.")
            return redirect("portal:request_detail", reference=req.reference)
    return render(request, "portal/request_detail.html", _detail_context(request, req, reply_form=form), status=400)


@login_required
@require_POST
def request_message(request: HttpRequest, reference: str) -> HttpResponse:
    req = _own_request(request, reference)
    form = general_message_form(request.POST)
    if form.is_valid():
        try:
            message_post(request_id=req.pk, actor=request.user, body=form.cleaned_data["message"])
        except InvalidInput as exc:
            form.add_error("message", " ".join(m for msgs in exc.errors.values() for m in msgs))
        except TransitionRefused as exc:
            return _refused(request, req, exc)
        else:
            messages.success(request, "Your message was sent to the accounts team.")
            return redirect("portal:request_detail", reference=req.reference)
    return render(request, "portal/request_detail.html", _detail_context(request, req, message_form=form), status=400)


@login_required
@require_POST
def request_reevaluate(request: HttpRequest, reference: str) -> HttpResponse:
    req = _own_request(request, reference)
    form = ReevaluationForm(request.POST)
    if form.is_valid():
        try:
            request_request_reevaluation(request_id=req.pk, actor=request.user, details=form.cleaned_data["details"])
        except InvalidInput as exc:
            add_service_errors(form, exc.errors)
        except TransitionRefused as exc:
            return _refused(request, req, exc)
        else:
            messages.success(request, "We received your re-evaluation request. A senior reviewer will look at it.")
            return redirect("portal:request_detail", reference=req.reference)
    return render(
        request, "portal/request_detail.html", _detail_context(request, req, reevaluation_form=form), status=400
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_withdraw_view(request: HttpRequest, reference: str) -> HttpResponse:
    req = _own_request(request, reference)
    if request.method == "POST":
        try:
            request_withdraw(request_id=req.pk, actor=request.user)
        except TransitionRefused as exc:
            return _refused(request, req, exc)
        messages.success(request, f"Request {req.reference} was withdrawn. You can file a new request at any time.")
        return redirect("portal:home")
    if "withdraw" not in available_transitions(req, request.user):
        messages.error(request, "This request can no longer be withdrawn.")
        return redirect("portal:request_detail", reference=req.reference)
    return render(request, "portal/request_withdraw.html", {"req": req, "account": req.account})
