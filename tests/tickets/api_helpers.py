"""Helpers for the API tests: authenticated clients, real files, snapshots of a request."""

from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from tickets.api.authentication import token_create
from tickets.models import ReassessmentRequest

COMPLETE_BODY: dict[str, Any] = {
    "company_name": "Acme Logistics LLC",
    "company_website": "https://acme-logistics.example",
    "use_case": "order_tracking",
    "services": ["sms", "voice"],
    "sample_message": "Your Acme order 12345 is out for delivery and arrives today between 2 and 4 pm.",
    "destination_countries": ["US", "CA"],
    "estimated_monthly_units": 20000,
    "estimated_monthly_spend": "350.00",
}


def token_client(user: Any, *, keyword: str = "Token") -> APIClient:
    """A client that authenticates with a fresh API token of `user`."""
    _, key = token_create(user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {key}")
    return client


def session_client(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def png_bytes(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def png_upload(name: str = "certificate.png", **kwargs: Any) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(**kwargs), content_type="image/png")


def url(reference: str, action: str = "", *, staff: bool = False) -> str:
    base = f"/api/v1/{'staff/' if staff else ''}requests/{reference}/"
    return f"{base}{action}/" if action else base


def snapshot(req: ReassessmentRequest) -> dict[str, Any]:
    """Everything an outsider must not be able to change."""
    fresh = ReassessmentRequest.objects.get(pk=req.pk)
    return {
        "state": fresh.state,
        "updated_at": fresh.updated_at,
        "details": {f: getattr(fresh, f) for f in COMPLETE_BODY},
        "evidence": fresh.evidence.count(),
        "messages": fresh.messages.count(),
        "transitions": fresh.transitions.count(),
    }
