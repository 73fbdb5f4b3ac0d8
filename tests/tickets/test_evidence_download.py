"""The evidence download view: access is checked first (account members and staff), outsiders get
the same 404 as for an id that does not exist, files go out as attachments that browsers may not
sniff, and the private folder is not reachable through any other URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import Resolver404, resolve, reverse

from tests.tickets import evidence_samples as samples
from tickets.evidence import evidence_add_file, evidence_add_link
from tickets.models import Evidence

PDF_DATA = samples.pdf_bytes(seed=101)


@pytest.fixture
def pdf_evidence(submitted_request, customer) -> Evidence:
    return evidence_add_file(
        request_id=submitted_request.pk,
        actor=customer,
        kind="certificate_of_incorporation",
        upload=samples.upload("Acme certificate “2026”.pdf", PDF_DATA),
    )


@pytest.fixture
def png_evidence(submitted_request, customer) -> Evidence:
    return evidence_add_file(
        request_id=submitted_request.pk,
        actor=customer,
        kind="app_screenshot",
        upload=samples.upload("screen.png", samples.png_bytes(seed=102)),
    )


def download_url(evidence: Evidence | int) -> str:
    pk = evidence if isinstance(evidence, int) else evidence.pk
    return reverse("evidence:download", args=[pk])


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("persona", ["customer", "teammate", "agent", "senior", "manager"])
def test_account_members_and_staff_download_the_exact_bytes_as_an_attachment(
    client, request, pdf_evidence, persona
) -> None:
    client.force_login(request.getfixturevalue(persona))

    response = client.get(download_url(pdf_evidence))

    assert response.status_code == 200
    assert body(response) == PDF_DATA
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == str(len(PDF_DATA))
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''Acme%20certificate%20%E2%80%9C2026%E2%80%9D.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "no-referrer"


def test_inline_view_keeps_the_sniffed_type_and_the_sandbox(client, customer, png_evidence) -> None:
    client.force_login(customer)
    response = client.get(download_url(png_evidence) + "?inline=1")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_an_outsider_gets_the_same_404_as_for_evidence_that_does_not_exist(client, outsider, pdf_evidence) -> None:
    client.force_login(outsider)

    theirs = client.get(download_url(pdf_evidence))
    missing = client.get(download_url(pdf_evidence.pk + 1000))

    assert theirs.status_code == missing.status_code == 404
    assert theirs.content == missing.content
    assert PDF_DATA not in theirs.content


def test_a_former_member_loses_access(client, teammate, account, pdf_evidence) -> None:
    account.members.remove(teammate)
    client.force_login(teammate)
    assert client.get(download_url(pdf_evidence)).status_code == 404


def test_a_staff_flag_without_a_role_is_not_enough(client, pdf_evidence) -> None:
    from tests import factories

    client.force_login(factories.StaffFactory(username="intern"))
    assert client.get(download_url(pdf_evidence)).status_code == 404


@pytest.mark.parametrize("existing", [True, False])
def test_anonymous_visitors_are_sent_to_login_whether_or_not_the_id_exists(client, pdf_evidence, existing) -> None:
    url = download_url(pdf_evidence if existing else 999_999)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_only_get_is_allowed(client, customer, pdf_evidence) -> None:
    client.force_login(customer)
    assert client.post(download_url(pdf_evidence)).status_code == 405


def test_a_link_redirects_to_its_address_without_a_referrer(client, customer, submitted_request) -> None:
    link = evidence_add_link(
        request_id=submitted_request.pk, actor=customer, kind="fca_listing", url="https://register.fca.org.uk/s/acme"
    )
    client.force_login(customer)
    response = client.get(download_url(link))
    assert response.status_code == 302
    assert response["Location"] == "https://register.fca.org.uk/s/acme"
    assert response["Referrer-Policy"] == "no-referrer"


def test_a_file_missing_from_storage_gives_a_clear_503_not_a_crash(client, agent, pdf_evidence, settings) -> None:
    location = Path(settings.STORAGES["evidence"]["OPTIONS"]["location"])
    (location / pdf_evidence.file.name).unlink()
    client.force_login(agent)
    response = client.get(download_url(pdf_evidence))
    assert response.status_code == 503
    assert response.content.decode() == "This file cannot be fetched right now; please try again later."
    assert response["Retry-After"] == "60"


def test_the_download_costs_a_fixed_number_of_queries(client, customer, pdf_evidence, django_assert_max_num_queries):
    client.force_login(customer)
    with django_assert_max_num_queries(4):  # session, user, evidence+request+account, membership
        response = client.get(download_url(pdf_evidence))
    assert response.status_code == 200


# --- the private folder is not served ------------------------------------------------------------


def test_the_default_evidence_folder_is_outside_everything_that_is_served() -> None:
    evidence_root = Path(django_settings.EVIDENCE_ROOT).resolve()
    assert django_settings.EVIDENCE_ROOT == django_settings.VAR_DIR / "evidence"
    served = [Path(django_settings.STATIC_ROOT), Path(django_settings.MEDIA_ROOT)]
    served += [Path(p if isinstance(p, str | Path) else p[1]) for p in django_settings.STATICFILES_DIRS]
    for folder in served:
        folder = folder.resolve()
        assert not evidence_root.is_relative_to(folder), f"{evidence_root} is inside served {folder}"
        assert not folder.is_relative_to(evidence_root), f"served {folder} is inside {evidence_root}"
    # As configured (before the test suite points it at a temporary folder): a plain folder whose
    # `url()` could only fall back to MEDIA_URL, which no URL pattern serves (tested below).
    import casemgr.settings as configured

    if not configured.EVIDENCE_S3_BUCKET:
        assert configured.STORAGES["evidence"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
        assert configured.STORAGES["evidence"]["OPTIONS"]["location"] == str(configured.EVIDENCE_ROOT)
        assert configured.STORAGES["evidence"]["OPTIONS"]["base_url"] is None


def test_no_url_pattern_serves_media_or_the_evidence_folder() -> None:
    for path in ["/media/1/x.pdf", "/var/evidence/1/x.pdf", "/evidence/1/x.pdf", "/static/../var/evidence/1/x.pdf"]:
        with pytest.raises(Resolver404):
            resolve(path)


def test_stored_files_are_not_reachable_under_static_media_or_their_key(client, customer, pdf_evidence) -> None:
    from django.contrib.staticfiles import finders

    client.force_login(customer)
    key = pdf_evidence.file.name
    assert finders.find(key) is None
    for url in [
        f"/static/{key}",
        f"/media/{key}",
        f"/media/evidence/{key}",
        f"/static/evidence/{key}",
        f"/evidence/{key}",
        f"/static/../var/evidence/{key}",
        f"/static/%2e%2e/var/evidence/{key}",
        f"/{key}",
        "/" + pdf_evidence.file.storage.url(key).lstrip("/"),
    ]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert PDF_DATA not in body(response), url
