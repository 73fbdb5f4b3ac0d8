"""Helpers for the SLA tests: act through the services at chosen instants."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests import factories
from tickets import clock, services
from tickets.models import ReassessmentRequest


def submit_at(at: datetime, account: Any, customer: Any, **details: Any) -> ReassessmentRequest:
    draft = factories.draft_for(account, customer, **details)
    with clock.frozen(at):
        return services.request_submit(request_id=draft.pk, actor=customer)


def claim_at(at: datetime, req: ReassessmentRequest, agent: Any) -> ReassessmentRequest:
    with clock.frozen(at):
        return services.request_claim(request_id=req.pk, actor=agent)


def request_info_at(at: datetime, req: ReassessmentRequest, agent: Any) -> ReassessmentRequest:
    with clock.frozen(at):
        return services.request_request_info(request_id=req.pk, actor=agent, message="Please send your EIN letter.")


def provide_info_at(at: datetime, req: ReassessmentRequest, customer: Any) -> ReassessmentRequest:
    with clock.frozen(at):
        return services.request_provide_info(request_id=req.pk, actor=customer, message="Attached.")


def approve_at(at: datetime, req: ReassessmentRequest, agent: Any) -> ReassessmentRequest:
    with clock.frozen(at):
        return services.request_approve(request_id=req.pk, actor=agent, lift=[], message="")


def reject_at(at: datetime, req: ReassessmentRequest, agent: Any) -> ReassessmentRequest:
    with clock.frozen(at):
        return services.request_reject(request_id=req.pk, actor=agent, reason_code="unverifiable_business")


def reevaluate_at(at: datetime, req: ReassessmentRequest, customer: Any) -> ReassessmentRequest:
    with clock.frozen(at):
        return services.request_request_reevaluation(
            request_id=req.pk, actor=customer, details="Our website is live now."
        )


def withdraw_at(at: datetime, req: ReassessmentRequest, customer: Any) -> ReassessmentRequest:
    with clock.frozen(at):
        return services.request_withdraw(request_id=req.pk, actor=customer)


def in_review_at(
    submitted: datetime, claimed: datetime, account: Any, customer: Any, agent: Any
) -> ReassessmentRequest:
    return claim_at(claimed, submit_at(submitted, account, customer), agent)


def fresh(req: ReassessmentRequest) -> ReassessmentRequest:
    return ReassessmentRequest.objects.get(pk=req.pk)
