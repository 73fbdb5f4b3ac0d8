"""Evidence on S3, end to end over real HTTP: django-storages talks to a moto server on 127.0.0.1
with the storage options that `casemgr/settings.py` builds when EVIDENCE_S3_BUCKET is set.

Objects are private (an unsigned GET is refused), the download view hands out a signed URL that
works, lasts EVIDENCE_SIGNED_URL_SECONDS (300) and makes S3 answer with an attachment
disposition; names never overwrite; outages and half-way failures leave nothing behind.
"""

from __future__ import annotations

import os
import runpy
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.base import ContentFile
from django.db import DatabaseError
from django.urls import reverse

from tests.conftest import require_service
from tests.tickets import evidence_samples as samples
from tickets import evidence as evidence_module
from tickets.errors import InvalidInput
from tickets.evidence import EvidenceStorageError, evidence_add_file, evidence_delete_draft, evidence_remove_orphans
from tickets.models import Evidence, RequestTransition, evidence_storage

pytestmark = pytest.mark.s3

BUCKET = "casemgr-evidence-test"
SETTINGS_FILE = Path(__file__).resolve().parents[2] / "casemgr" / "settings.py"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def aws_credentials() -> Iterator[None]:
    """Dummy credentials, so nothing here could ever reach a real AWS account."""
    names = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    previous = {name: os.environ.get(name) for name in names}
    os.environ.update(names)
    yield
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="module")
def moto_endpoint(aws_credentials) -> Iterator[str]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:  # pragma: no cover - moto[server] is in requirements-dev.txt
        require_service("moto[server]", False, "pip install -r requirements-dev.txt")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def configured_storage(endpoint: str, bucket: str = BUCKET) -> dict:
    """STORAGES["evidence"] exactly as casemgr/settings.py builds it for these variables."""
    names = {"EVIDENCE_S3_BUCKET": bucket, "AWS_S3_ENDPOINT_URL": endpoint}
    previous = {name: os.environ.get(name) for name in names}
    os.environ.update(names)
    try:
        configured = runpy.run_path(str(SETTINGS_FILE))
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return configured["STORAGES"]["evidence"]


@pytest.fixture
def s3(moto_endpoint, settings) -> Iterator:
    """An empty private bucket, and the app's evidence storage pointed at it."""
    import boto3

    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    settings.EVIDENCE_S3_BUCKET = BUCKET
    settings.STORAGES = {**settings.STORAGES, "evidence": configured_storage(moto_endpoint)}
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def object_keys(client) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def http_get(url: str) -> tuple[int, Message, bytes]:
    """A plain anonymous HTTP GET, as a browser following a link would make it."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # http to 127.0.0.1 only
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def add_pdf(req, actor, seed: int = 0, name: str = "certificate.pdf") -> Evidence:
    return evidence_add_file(
        request_id=req.pk,
        actor=actor,
        kind="certificate_of_incorporation",
        upload=samples.upload(name, samples.pdf_bytes(seed=seed)),
    )


# --- the configuration itself ----------------------------------------------------------------------


def test_settings_build_a_private_non_overwriting_s3_storage_with_five_minute_urls(moto_endpoint) -> None:
    storage = configured_storage(moto_endpoint)
    options = storage["OPTIONS"]
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert options["bucket_name"] == BUCKET
    assert options["endpoint_url"] == moto_endpoint
    assert options["default_acl"] == "private"
    assert options["querystring_auth"] is True
    assert options["querystring_expire"] == 300
    assert options["file_overwrite"] is False
    assert options["object_parameters"]["ContentDisposition"] == "attachment"


# --- uploads -----------------------------------------------------------------------------------------


def test_an_upload_is_a_private_object_under_a_random_key_served_as_an_attachment(s3, submitted_request, customer):
    data = samples.pdf_bytes(seed=1)
    evidence = evidence_add_file(
        request_id=submitted_request.pk,
        actor=customer,
        kind="certificate_of_incorporation",
        upload=samples.upload("../../etc/Certificate.pdf", data),
    )

    key = f"evidence/{evidence.file.name}"
    assert object_keys(s3) == [key]
    assert evidence.original_name == "Certificate.pdf"
    assert "Certificate" not in key and ".." not in key
    stored = s3.get_object(Bucket=BUCKET, Key=key)
    assert stored["Body"].read() == data
    assert stored["ContentType"] == "application/pdf"
    assert stored["ContentDisposition"] == "attachment"
    grants = s3.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]
    assert all(grant["Grantee"]["Type"] == "CanonicalUser" for grant in grants)


def test_an_unsigned_url_is_refused(s3, submitted_request, customer, moto_endpoint) -> None:
    evidence = add_pdf(submitted_request, customer, seed=2)
    status, _, content = http_get(f"{moto_endpoint}/{BUCKET}/evidence/{evidence.file.name}")
    assert status == 403
    assert b"%PDF" not in content


def test_the_download_view_redirects_to_a_working_signed_url_of_300_seconds(s3, client, submitted_request, customer):
    data = samples.pdf_bytes(seed=3)
    evidence = evidence_add_file(
        request_id=submitted_request.pk,
        actor=customer,
        kind="certificate_of_incorporation",
        upload=samples.upload("Acme “certificate”.pdf", data),
    )
    client.force_login(customer)

    before = datetime.now(UTC).replace(microsecond=0)
    response = client.get(reverse("evidence:download", args=[evidence.pk]))

    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    signed_url = response["Location"]
    parts = urlsplit(signed_url)
    params = {name: values[0] for name, values in parse_qs(parts.query).items()}
    assert parts.path == f"/{BUCKET}/evidence/{evidence.file.name}"
    # Signature version 4: the URL says how long it lives, counted from when it was signed.
    assert params["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert params["X-Amz-Expires"] == "300"
    signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs((signed_at - before).total_seconds()) <= 5
    assert params["X-Amz-Signature"]
    assert params["response-content-disposition"].startswith("attachment;")
    assert params["response-content-type"] == "application/pdf"

    status, headers, content = http_get(signed_url)
    assert status == 200
    assert content == data
    assert headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''Acme%20%E2%80%9Ccertificate%E2%80%9D.pdf" in headers["Content-Disposition"]
    assert headers["Content-Type"] == "application/pdf"


def test_the_signed_url_is_not_handed_to_outsiders(s3, client, submitted_request, customer, outsider) -> None:
    evidence = add_pdf(submitted_request, customer, seed=4)
    client.force_login(outsider)
    response = client.get(reverse("evidence:download", args=[evidence.pk]))
    assert response.status_code == 404
    assert BUCKET.encode() not in response.content


def test_staff_get_a_signed_url_too(s3, client, submitted_request, customer, agent) -> None:
    evidence = add_pdf(submitted_request, customer, seed=5)
    client.force_login(agent)
    response = client.get(reverse("evidence:download", args=[evidence.pk]))
    assert response.status_code == 302
    assert http_get(response["Location"])[0] == 200


def test_saving_the_same_name_twice_never_overwrites(s3) -> None:
    storage = evidence_storage()
    first = storage.save("7/same-name.pdf", ContentFile(b"%PDF-first"))
    second = storage.save("7/same-name.pdf", ContentFile(b"%PDF-second"))

    assert first == "7/same-name.pdf"
    assert second != first and second.startswith("7/same-name")
    assert s3.get_object(Bucket=BUCKET, Key=f"evidence/{first}")["Body"].read() == b"%PDF-first"
    assert s3.get_object(Bucket=BUCKET, Key=f"evidence/{second}")["Body"].read() == b"%PDF-second"


# --- failures ------------------------------------------------------------------------------------------


def test_an_unreachable_bucket_gives_a_clear_error_quickly_and_records_nothing(
    moto_endpoint, settings, submitted_request, customer
) -> None:
    settings.EVIDENCE_S3_BUCKET = BUCKET
    settings.STORAGES = {**settings.STORAGES, "evidence": configured_storage(f"http://127.0.0.1:{_free_port()}")}

    started = time.monotonic()
    with pytest.raises(EvidenceStorageError, match="could not be stored: the file store is not reachable right now"):
        add_pdf(submitted_request, customer, seed=6, name="filing.pdf")
    assert time.monotonic() - started < 30
    assert not Evidence.objects.filter(request=submitted_request).exists()
    assert not RequestTransition.objects.filter(request=submitted_request, transition="add_evidence").exists()


def test_a_missing_bucket_is_an_outage_too(moto_endpoint, settings, submitted_request, customer) -> None:
    settings.EVIDENCE_S3_BUCKET = "no-such-bucket"
    settings.STORAGES = {**settings.STORAGES, "evidence": configured_storage(moto_endpoint, "no-such-bucket")}
    with pytest.raises(EvidenceStorageError):
        add_pdf(submitted_request, customer, seed=7)
    assert not Evidence.objects.filter(request=submitted_request).exists()


def test_a_database_error_after_storing_deletes_the_s3_object(s3, submitted_request, customer, monkeypatch) -> None:
    seen: list[list[str]] = []

    def failing_audit(*args) -> None:
        seen.append(object_keys(s3))
        raise DatabaseError("connection lost while recording")

    monkeypatch.setattr(evidence_module, "_audit", failing_audit)
    with pytest.raises(DatabaseError):
        add_pdf(submitted_request, customer, seed=8)
    assert len(seen[0]) == 1  # it was stored ...
    assert object_keys(s3) == []  # ... and removed again
    assert not Evidence.objects.filter(request=submitted_request).exists()


def test_a_refused_file_never_reaches_the_bucket(s3, submitted_request, customer) -> None:
    with pytest.raises(InvalidInput):
        evidence_add_file(
            request_id=submitted_request.pk,
            actor=customer,
            kind="other",
            upload=samples.upload("invoice.pdf", samples.EXE_BYTES),
        )
    assert object_keys(s3) == []


def test_draft_evidence_removed_on_s3_deletes_the_object_after_commit(
    s3, draft, customer, django_capture_on_commit_callbacks
) -> None:
    evidence = add_pdf(draft, customer, seed=9)
    assert len(object_keys(s3)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        evidence_delete_draft(evidence_id=evidence.pk, actor=customer)
    assert object_keys(s3) == []


def test_the_orphan_sweep_works_on_s3(s3, draft, customer) -> None:
    kept = add_pdf(draft, customer, seed=10)
    s3.put_object(Bucket=BUCKET, Key=f"evidence/{draft.pk}/{'c' * 32}.pdf", Body=b"%PDF-orphan")
    from datetime import timedelta

    removed = evidence_remove_orphans(older_than=timedelta(seconds=-60))
    assert removed == [f"{draft.pk}/{'c' * 32}.pdf"]
    assert object_keys(s3) == [f"evidence/{kept.file.name}"]
