"""API behaviour: tokens, drafts, evidence, lists, throttling, error mapping, schema and docs."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import ApiToken
from tests import factories
from tickets import services
from tickets.models import ReassessmentRequest, State

from .api_helpers import COMPLETE_BODY, png_bytes, png_upload, session_client, token_client, url


@pytest.fixture(autouse=True)
def _fresh_throttles() -> None:
    cache.clear()


# --- tokens -----------------------------------------------------------------------------------------


def test_a_customer_creates_uses_lists_and_revokes_a_token(customer, account) -> None:
    portal = session_client(customer)
    created = portal.post("/api/v1/tokens/", {"name": "billing console"}, format="json")
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("cmk_") and created.json()["prefix"] == key[:12]

    stored = ApiToken.objects.get(pk=created.json()["id"])
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(ApiToken.objects.filter(pk=stored.pk).values().first())

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    me = api.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["username"] == customer.username
    assert me.json()["accounts"][0]["name"] == account.name
    stored.refresh_from_db()
    assert stored.last_used_at is not None

    listed = portal.get("/api/v1/tokens/").json()
    assert [t["name"] for t in listed] == ["billing console"]
    assert "key" not in listed[0] and key.encode() not in portal.get("/api/v1/tokens/").content

    # A token cannot mint more tokens: a leak stays revocable.
    assert api.post("/api/v1/tokens/", {"name": "more"}, format="json").status_code == 403

    assert api.delete(f"/api/v1/tokens/{stored.pk}/").status_code == 204
    refused = api.get("/api/v1/me/")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == 'Token realm="api"'
    assert refused.json() == {"detail": "This API token was revoked."}
    assert portal.get("/api/v1/tokens/").json()[0]["is_active"] is False


def test_a_user_cannot_revoke_someone_elses_token(customer, outsider) -> None:
    theirs = token_client(outsider)
    token = ApiToken.objects.get(user=outsider)
    assert token_client(customer).delete(f"/api/v1/tokens/{token.pk}/").status_code == 404
    assert theirs.get("/api/v1/me/").status_code == 200


def test_a_token_of_a_disabled_user_is_refused(customer) -> None:
    client = token_client(customer)
    customer.is_active = False
    customer.save()
    assert client.get("/api/v1/me/").status_code == 401


def test_token_names_are_checked(customer) -> None:
    response = session_client(customer).post("/api/v1/tokens/", {"name": "  "}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["name"]


def test_me_lists_accounts_and_only_active_restrictions(customer, account, restriction) -> None:
    lifted = factories.RestrictionFactory(account=account, kind="voice_blocked", status="lifted")
    body = token_client(customer).get("/api/v1/me/").json()
    assert body["is_staff_member"] is False and body["roles"] == []
    (acct,) = body["accounts"]
    assert acct["role"] == "owner"
    assert [r["id"] for r in acct["active_restrictions"]] == [restriction.pk]
    assert lifted.pk not in [r["id"] for r in acct["active_restrictions"]]


# --- drafts -------------------------------------------------------------------------------------------


def test_a_draft_checks_format_and_submit_lists_everything_missing(customer, account) -> None:
    client = token_client(customer)
    bad = client.post("/api/v1/requests/", {"company_website": "ftp://x", "services": ["fax"],
                                            "estimated_monthly_units": 0}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()) == {"company_website", "services", "estimated_monthly_units"}
    assert all(isinstance(m, list) and m for m in bad.json().values())

    partial = client.post("/api/v1/requests/", {"company_name": "Acme"}, format="json")
    assert partial.status_code == 201
    ref = partial.json()["reference"]
    assert partial.json()["account"] == {"id": account.pk, "name": account.name}

    missing = client.post(url(ref, "submit"), {}, format="json")
    assert missing.status_code == 400
    assert set(missing.json()) == {
        "company_website", "use_case", "services", "destination_countries",
        "estimated_monthly_units", "estimated_monthly_spend",
    }

    patched = client.patch(url(ref), {**COMPLETE_BODY, "company_name": "Acme Logistics LLC"}, format="json")
    assert patched.status_code == 200
    assert patched.json()["estimated_monthly_spend"] == "350.00"
    assert client.post(url(ref, "submit"), {}, format="json").json()["state"] == "submitted"
    late = client.patch(url(ref), {"company_name": "Other"}, format="json")
    assert late.status_code == 409


def test_unknown_fields_and_non_objects_are_400(customer, account) -> None:
    client = token_client(customer)
    assert client.post("/api/v1/requests/", {"state": "approved"}, format="json").json() == {
        "state": ["This field is not part of a request."]
    }
    assert client.post("/api/v1/requests/", [1, 2], format="json").json() == {
        "non_field_errors": ["Send a JSON object."]
    }
    broken = client.post("/api/v1/requests/", data=b"{not json", content_type="application/json")
    assert broken.status_code == 400 and list(broken.json()) == ["non_field_errors"]


def test_a_user_in_several_accounts_names_one(customer, account, outsider) -> None:
    second = factories.AccountFactory(name="Acme EU", owner=customer)
    other = outsider.owned_accounts.get()
    client = token_client(customer)
    assert list(client.post("/api/v1/requests/", {}, format="json").json()) == ["account"]
    assert client.post("/api/v1/requests/", {"account": second.pk}, format="json").json()["account"]["id"] == second.pk
    refused = client.post("/api/v1/requests/", {"account": other.pk}, format="json")
    assert refused.status_code == 400 and list(refused.json()) == ["account"]
    assert not ReassessmentRequest.objects.filter(account=other).exists()


# --- evidence ---------------------------------------------------------------------------------------


def test_evidence_files_links_and_downloads(draft, customer, agent) -> None:
    client = token_client(customer)
    data = png_bytes(color=(10, 20, 30))
    from django.core.files.uploadedfile import SimpleUploadedFile

    uploaded = client.post(url(draft.reference, "evidence"),
                           {"kind": "app_screenshot", "file": SimpleUploadedFile("shot.png", data)}, format="multipart")
    assert uploaded.status_code == 201, uploaded.content
    item = uploaded.json()
    assert item["size"] == len(data) and item["url"] is None

    download = client.get(item["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == data
    assert download["Content-Type"] == "image/png"

    staff_copy = token_client(agent).get(url(draft.reference, f"evidence/{item['id']}/download", staff=True))
    assert staff_copy.status_code == 200

    fake = client.post(url(draft.reference, "evidence"),
                       {"kind": "other", "file": SimpleUploadedFile("fake.png", b"%PDF-1.4 not really")},
                       format="multipart")
    assert fake.status_code == 400 and list(fake.json()) == ["file"]

    link = client.post(url(draft.reference, "evidence"), {"kind": "press_mention", "url": "https://news.example/a"},
                       format="json")
    assert link.status_code == 201 and link.json()["original_name"] is None
    redirect = client.get(link.json()["download_url"])
    assert redirect.status_code == 302 and redirect["Location"] == "https://news.example/a"
    assert client.post(url(draft.reference, "evidence"), {"kind": "other", "url": "http://insecure.example"},
                       format="json").status_code == 400
    assert client.post(url(draft.reference, "evidence"), {"kind": "other"}, format="json").status_code == 400


def test_a_storage_outage_is_a_503_and_records_nothing(draft, customer, monkeypatch) -> None:
    from django.core.files.storage import FileSystemStorage

    def broken_save(*args, **kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr(FileSystemStorage, "save", broken_save)
    response = token_client(customer).post(url(draft.reference, "evidence"),
                                           {"kind": "other", "file": png_upload()}, format="multipart")
    assert response.status_code == 503
    assert "Nothing was saved" in response.json()["detail"]
    assert response["Retry-After"]
    assert draft.evidence.count() == 0


# --- what customers and staff see ------------------------------------------------------------------------


def test_an_automatic_rejection_reads_like_any_final_rejection(submitted_request, customer, agent) -> None:
    services.request_auto_reject(request_id=submitted_request.pk, reason_code="zt_payment_flagged", note="ZT hit")
    raw = token_client(customer).get(url(submitted_request.reference)).content
    body = token_client(customer).get(url(submitted_request.reference)).json()
    assert body["state"] == "rejected_final"
    assert body["timeline"][-1] == {
        "transition": "reject", "label": "Rejected", "from": "submitted", "to": "rejected_final",
        "at": body["timeline"][-1]["at"],
    }
    for secret in (b"auto", b"zt_", b"payment", b"ZT hit", b"system"):
        assert secret not in raw.lower(), secret
    staff = token_client(agent).get(url(submitted_request.reference, staff=True)).json()
    assert staff["auto_rejected"] is True and staff["reason_code"] == "zt_payment_flagged"


def test_customer_messages_show_a_teammates_name_and_accounts_team_for_staff(request_in_review, customer, teammate,
                                                                             agent) -> None:
    services.message_post(request_id=request_in_review.pk, actor=agent, body="We are on it.")
    services.message_post(request_id=request_in_review.pk, actor=agent, body="secret triage note", internal=True)
    services.message_post(request_id=request_in_review.pk, actor=teammate, body="Thanks!")
    body = token_client(customer).get(url(request_in_review.reference)).json()
    assert [(m["author_name"], m["body"]) for m in body["messages"]] == [
        ("Accounts team", "We are on it."),
        (teammate.get_full_name(), "Thanks!"),
    ]
    posted = token_client(customer).post(url(request_in_review.reference, "messages"), {"body": "Any news?"},
                                         format="json")
    assert posted.status_code == 201 and posted.json()["author_name"] == customer.get_full_name()
    assert posted.json()["from_accounts_team"] is False


def test_staff_can_reply_and_write_internal_notes(request_in_review, agent, customer) -> None:
    client = token_client(agent)
    note = client.post(url(request_in_review.reference, "messages", staff=True),
                       {"body": "Looks legit", "internal": True}, format="json")
    assert note.status_code == 201 and note.json()["internal"] is True
    assert b"Looks legit" not in token_client(customer).get(url(request_in_review.reference)).content


def test_approve_lifts_the_chosen_restrictions(request_in_review, agent, restriction, customer) -> None:
    response = token_client(agent).post(url(request_in_review.reference, "approve", staff=True),
                                        {"lift": [restriction.pk], "message": "Welcome back."}, format="json")
    assert response.status_code == 200
    assert response.json()["decision_outcome"] == "lifted"
    assert response.json()["lifted_restrictions"] == [restriction.pk]
    customer_view = token_client(customer).get(url(request_in_review.reference)).json()
    assert customer_view["decision_outcome"] == "lifted"
    assert customer_view["messages"][-1]["body"] == "Welcome back."


def test_reject_needs_a_known_reason_code(request_in_review, agent) -> None:
    response = token_client(agent).post(url(request_in_review.reference, "reject", staff=True), {"note": "x"},
                                        format="json")
    assert response.status_code == 400 and list(response.json()) == ["reason_code"]


# --- errors the database raises -------------------------------------------------------------------------


def test_a_write_refused_by_the_database_is_a_409_not_a_500(request_in_review, agent, monkeypatch) -> None:
    def refused(**kwargs):
        raise IntegrityError("casemgr-final: a reassessment request in a final state cannot be changed")

    monkeypatch.setattr(services, "request_claim", refused)
    monkeypatch.setattr(services, "request_request_info", refused)
    response = token_client(agent).post(url(request_in_review.reference, "request-info", staff=True),
                                        {"message": "?"}, format="json")
    assert response.status_code == 409
    assert "changed at the same time" in response.json()["detail"]


# --- lists ------------------------------------------------------------------------------------------------


def _many_requests(account, customer, agent, count: int = 24) -> None:
    for index in range(count):
        req = factories.draft_for(account, customer)
        if index % 3:
            services.request_submit(request_id=req.pk, actor=customer)
        if index % 3 == 2:
            services.request_claim(request_id=req.pk, actor=agent)
        if index % 6 == 5:
            services.message_post(request_id=req.pk, actor=agent, body="hello")


def _queries(client: APIClient, path: str, params: dict) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, params)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), response.json()


@pytest.mark.parametrize("path", ["/api/v1/requests/", "/api/v1/staff/requests/"])
def test_list_query_count_does_not_grow_with_the_page_size(path, customer, account, agent) -> None:
    _many_requests(account, customer, agent)
    client = token_client(agent if "staff" in path else customer)
    client.get("/api/v1/me/")  # the token's first use records last_used_at: keep it out of the count
    small, small_body = _queries(client, path, {"page_size": 2})
    large, large_body = _queries(client, path, {"page_size": 20})
    assert len(small_body["results"]) == 2 and len(large_body["results"]) == 20
    assert small_body["count"] == large_body["count"] == 24
    assert small == large, (small, large)
    assert large <= 8


def test_list_filters_and_ordering(customer, account, agent, agent2) -> None:
    _many_requests(account, customer, agent, count=9)
    mine = token_client(customer)
    drafts = mine.get("/api/v1/requests/", {"state": "draft"}).json()
    assert drafts["count"] == 3 and {r["state"] for r in drafts["results"]} == {"draft"}
    assert mine.get("/api/v1/requests/", {"state": "draft,submitted"}).json()["count"] == 6
    assert mine.get("/api/v1/requests/", {"sla_status": "running"}).json()["count"] == 6
    assert list(mine.get("/api/v1/requests/", {"state": "nope"}).json()) == ["state"]
    assert list(mine.get("/api/v1/requests/", {"ordering": "password"}).json()) == ["ordering"]
    ordered = mine.get("/api/v1/requests/", {"ordering": "reference"}).json()["results"]
    assert [r["reference"] for r in ordered] == sorted(r["reference"] for r in ordered)

    staff = token_client(agent)
    assert staff.get("/api/v1/staff/requests/", {"assignee": "me"}).json()["count"] == 3
    assert staff.get("/api/v1/staff/requests/", {"assignee": str(agent.pk)}).json()["count"] == 3
    assert staff.get("/api/v1/staff/requests/", {"assignee": "none"}).json()["count"] == 6
    assert token_client(agent2).get("/api/v1/staff/requests/", {"assignee": "me"}).json()["count"] == 0
    assert staff.get("/api/v1/staff/requests/", {"account": account.pk}).json()["count"] == 9
    assert staff.get("/api/v1/staff/requests/", {"page_size": 1000}).json()["count"] == 9
    assert staff.get("/api/v1/staff/requests/", {"page": 99}).status_code == 404


# --- throttling ---------------------------------------------------------------------------------------------


def test_writes_are_throttled_per_user_with_retry_after(settings, customer, account, teammate) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"writes": "3/minute", "uploads": "1/minute"},
    }
    client = token_client(customer)
    for _ in range(3):
        assert client.post("/api/v1/requests/", {}, format="json").status_code == 201
    throttled = client.post("/api/v1/requests/", {}, format="json")
    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert "try again" in throttled.json()["detail"]
    assert client.get("/api/v1/requests/").status_code == 200  # reads are not throttled
    # Per user: a teammate still has their own allowance.
    assert token_client(teammate).post("/api/v1/requests/", {}, format="json").status_code == 201
    assert ReassessmentRequest.objects.filter(created_by=customer).count() == 3


def test_uploads_have_their_own_lower_limit(settings, draft, customer) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"writes": "100/minute", "uploads": "1/minute"},
    }
    client = token_client(customer)
    first = client.post(url(draft.reference, "evidence"), {"kind": "other", "file": png_upload("a.png")},
                        format="multipart")
    assert first.status_code == 201
    second = client.post(url(draft.reference, "evidence"), {"kind": "other", "file": png_upload("b.png",
                         color=(0, 0, 0))}, format="multipart")
    assert second.status_code == 429 and second["Retry-After"]


# --- schema and docs -------------------------------------------------------------------------------------


def test_the_schema_documents_every_endpoint_and_the_docs_page_serves_local_assets(client, db) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in [
        "/api/v1/me/", "/api/v1/tokens/", "/api/v1/tokens/{id}/", "/api/v1/requests/",
        "/api/v1/requests/{reference}/", "/api/v1/requests/{reference}/evidence/",
        "/api/v1/requests/{reference}/evidence/{id}/download/", "/api/v1/requests/{reference}/messages/",
        *(f"/api/v1/requests/{{reference}}/{a}/" for a in ["submit", "provide-info", "request-reevaluation",
                                                           "withdraw"]),
        "/api/v1/staff/requests/", "/api/v1/staff/requests/{reference}/",
        *(f"/api/v1/staff/requests/{{reference}}/{a}/" for a in ["claim", "request-info", "approve", "reject",
                                                                 "claim-reevaluation", "reject-final"]),
    ]:
        assert path in paths, path
        for operation in paths[path].values():
            assert operation.get("summary"), path
            assert "401" in operation["responses"], path
    assert set(paths["/api/v1/staff/requests/{reference}/reject/"]["post"]["responses"]) >= {
        "200", "400", "401", "403", "404", "409", "429"
    }

    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower() and "https://" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "<script>" not in html  # the init script is served separately, for the CSP
    from django.contrib.staticfiles import finders

    for asset in ["swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"]:
        assert finders.find(f"drf_spectacular_sidecar/swagger-ui-dist/{asset}"), asset
    script = client.get("/api/docs/", {"script": ""})
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


def test_decimal_details_round_trip(customer, account) -> None:
    response = token_client(customer).post("/api/v1/requests/", {"estimated_monthly_spend": 99.5}, format="json")
    assert response.json()["estimated_monthly_spend"] == "99.50"
    assert ReassessmentRequest.objects.get(reference=response.json()["reference"]).estimated_monthly_spend == Decimal(
        "99.50"
    )
    assert response.json()["state"] == State.DRAFT


# --- the tokens page ------------------------------------------------------------------------------------


def test_the_tokens_page_shows_a_new_key_once_and_revokes(client, customer, outsider) -> None:
    client.force_login(customer)
    assert client.get("/api/tokens/").status_code == 200
    created = client.post("/api/tokens/", {"name": "crm sync"})
    assert created.status_code == 200 and created["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=customer)
    html = created.content.decode()
    key = html.split('<code id="new-key">')[1].split("</code>")[0]
    assert hashlib.sha256(key.encode()).hexdigest() == token.key_hash
    assert key not in client.get("/api/tokens/").content.decode()

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get("/api/v1/me/").status_code == 200

    theirs = token_client(outsider)
    other = ApiToken.objects.get(user=outsider)
    assert client.post(f"/api/tokens/{other.pk}/revoke/").status_code == 404
    assert theirs.get("/api/v1/me/").status_code == 200

    assert client.post(f"/api/tokens/{token.pk}/revoke/").status_code == 302
    assert api.get("/api/v1/me/").status_code == 401
    assert client.post("/api/tokens/", {"name": ""}).status_code == 400


def test_the_tokens_page_needs_a_signed_in_user(client, db) -> None:
    response = client.get("/api/tokens/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_odd_requests_get_json_answers_not_500s(customer, account) -> None:
    client = token_client(customer)
    huge = client.post("/api/v1/requests/", data='{"company_name": "' + "x" * 3_000_000 + '"}',
                       content_type="application/json")
    assert huge.status_code == 400 and list(huge.json()) == ["non_field_errors"]
    nul = client.post("/api/v1/requests/", {"company_name": "a\x00b"}, format="json")
    assert nul.status_code == 400 and list(nul.json()) == ["company_name"]
    assert client.put("/api/v1/requests/", {}, format="json").status_code == 405
    assert client.options("/api/v1/requests/").status_code == 405
    assert client.post("/api/v1/requests/", {"estimated_monthly_units": 1e300}, format="json").status_code == 400


def test_unknown_paths_and_missing_slashes_answer_json_404s(customer, account, settings) -> None:
    settings.DEBUG = True  # with DEBUG, Django would crash on a POST to a path without its slash
    client = token_client(customer)
    missing = client.post("/api/v1/requests", {"company_name": "x"}, format="json")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "No such endpoint: API paths end with a slash (/api/v1/requests/)."}
    assert client.get("/api/v1/nothing/here/").json() == {"detail": "No such endpoint; see /api/docs/."}
    assert not ReassessmentRequest.objects.exists()


@pytest.mark.parametrize("staff", [False, True])
def test_detail_query_count_does_not_grow_with_messages_and_evidence(staff, request_in_review, customer, agent):
    client = token_client(agent if staff else customer)
    path = url(request_in_review.reference, staff=staff)
    client.get("/api/v1/me/")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for index in range(4):
        services.message_post(request_id=request_in_review.pk, actor=agent, body=f"reply {index}")
        services.message_post(request_id=request_in_review.pk, actor=customer, body=f"answer {index}")
        from tickets import evidence as evidence_service

        evidence_service.evidence_add_link(request_id=request_in_review.pk, actor=customer, kind="other",
                                           url=f"https://example.com/{index}")
    assert count() == before
