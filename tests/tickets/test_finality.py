"""Finality is enforced by the database: whoever issues the write (a model save, QuerySet.update,
raw SQL, the admin, the shell), a request in a final state does not change and is not deleted."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from tickets import services
from tickets.models import FinalRequestError, Message, ReassessmentRequest, State


@pytest.fixture(params=["approved", "rejected_final", "withdrawn"])
def final_request(request, approved_request, customer, agent, account):
    from tests import factories

    if request.param == "approved":
        return approved_request
    draft = factories.draft_for(account, customer)
    services.request_submit(request_id=draft.pk, actor=customer)
    if request.param == "withdrawn":
        return services.request_withdraw(request_id=draft.pk, actor=customer)
    services.request_claim(request_id=draft.pk, actor=agent)
    return services.request_reject(request_id=draft.pk, actor=agent, reason_code="zt_phishing_or_spam")


def _unchanged(req: ReassessmentRequest, company: str) -> None:
    fresh = ReassessmentRequest.objects.get(pk=req.pk)
    assert fresh.state == req.state
    assert fresh.company_name == company


def test_a_model_save_of_a_final_request_fails(final_request) -> None:
    company = final_request.company_name
    final_request.company_name = "Changed"
    with pytest.raises(IntegrityError, match="casemgr-final"), transaction.atomic():
        final_request.save()
    _unchanged(final_request, company)


def test_queryset_update_of_a_final_request_fails(final_request) -> None:
    company = final_request.company_name
    with pytest.raises(IntegrityError, match="casemgr-final"), transaction.atomic():
        ReassessmentRequest.objects.filter(pk=final_request.pk).update(state=State.IN_REVIEW)
    with pytest.raises(IntegrityError, match="casemgr-final"), transaction.atomic():
        ReassessmentRequest.objects.filter(pk=final_request.pk).update(company_name="Changed")
    _unchanged(final_request, company)


def test_raw_sql_update_of_a_final_request_fails(final_request) -> None:
    company = final_request.company_name
    with pytest.raises(IntegrityError, match="casemgr-final"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tickets_reassessmentrequest SET state = 'in_review', reason_code = '' WHERE id = %s",
            [final_request.pk],
        )
    _unchanged(final_request, company)


def test_deleting_a_final_request_is_refused_by_the_orm(final_request) -> None:
    with pytest.raises(FinalRequestError):
        final_request.delete()
    with pytest.raises(FinalRequestError):
        ReassessmentRequest.objects.filter(pk=final_request.pk).delete()
    assert ReassessmentRequest.objects.filter(pk=final_request.pk).exists()


@pytest.mark.postgres
def test_deleting_a_final_request_is_refused_by_postgresql(final_request) -> None:
    with pytest.raises(IntegrityError, match="casemgr-final"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM tickets_reassessmentrequest WHERE id = %s", [final_request.pk])
    assert ReassessmentRequest.objects.filter(pk=final_request.pk).exists()


def test_open_requests_can_still_change_and_be_deleted(draft) -> None:
    ReassessmentRequest.objects.filter(pk=draft.pk).update(company_name="Renamed")
    draft.refresh_from_db()
    assert draft.company_name == "Renamed"
    draft.delete()
    assert not ReassessmentRequest.objects.filter(pk=draft.pk).exists()


def test_the_state_field_cannot_be_assigned(draft) -> None:
    with pytest.raises(AttributeError):
        draft.state = State.APPROVED


def test_nothing_leaves_a_final_state(final_request, customer, agent, senior) -> None:
    from tickets.errors import TransitionRefused

    for name in ("submit", "claim", "withdraw", "request_reevaluation"):
        actor = customer if name in {"submit", "withdraw", "request_reevaluation"} else agent
        kwargs = {"details": "x"} if name == "request_reevaluation" else {}
        with pytest.raises(TransitionRefused):
            getattr(services, f"request_{name}")(request_id=final_request.pk, actor=actor, **kwargs)
    _unchanged(final_request, final_request.company_name)


def test_messages_can_still_be_added_to_a_final_request_by_staff(final_request, agent) -> None:
    """Messages are separate rows: staff can still note things on a closed request."""
    services.message_post(request_id=final_request.pk, actor=agent, body="Closed; archived.", internal=True)
    assert Message.objects.filter(request=final_request, internal=True, body="Closed; archived.").exists()
