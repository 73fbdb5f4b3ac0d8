"""Small helpers shared by the portal tests: real PDF/PNG bytes and form payloads."""

from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile


def png_bytes(colour: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (8, 8)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def pdf_bytes(pages: int = 1) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def png_upload(name: str = "card.png", colour: tuple[int, int, int] = (200, 30, 30)) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(colour), content_type="image/png")


def pdf_upload(name: str = "certificate.pdf", pages: int = 1) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(pages), content_type="application/pdf")


def form_payload(**overrides: Any) -> dict[str, Any]:
    """A complete details form as a browser posts it."""
    data: dict[str, Any] = {
        "company_name": "Acme Logistics LLC",
        "company_website": "https://acme-logistics.example",
        "use_case": "order_tracking",
        "use_case_details": "",
        "services": ["sms", "voice"],
        "sample_message": "Your Acme order 12345 is out for delivery.",
        "destination_countries": ["US", "CA"],
        "estimated_monthly_units": "20000",
        "estimated_monthly_spend": "350",
        "action": "save",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}
