"""Real sample files for evidence tests, built with the same libraries that check them.

Every builder takes a `seed` so a test can make several different files (different sha256) of the
same type.
"""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile


def pdf_bytes(seed: int = 0, pages: int = 2) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": f"Certificate of incorporation #{seed}", "/Author": "Acme Logistics LLC"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def pdf_with_javascript(seed: int = 0) -> bytes:
    from pypdf import PdfWriter
    from pypdf.actions import JavaScript

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_open_action(JavaScript(f"app.alert('pwned {seed}');"))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def pdf_with_attachment(seed: int = 0) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_attachment("invoice.exe", b"MZ\x90\x00" + bytes([seed]) * 64)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def image_bytes(fmt: str, seed: int = 0, size: tuple[int, int] = (120, 80)) -> bytes:
    """A real PNG/JPEG/WEBP: a small picture whose colours depend on the seed."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, 200))
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, size[0] // 2, size[1] // 2), fill=(255, 255, (seed * 13) % 256))
    draw.text((12, size[1] // 2 + 5), f"ACME {seed}", fill=(0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def png_bytes(seed: int = 0, size: tuple[int, int] = (120, 80)) -> bytes:
    return image_bytes("PNG", seed, size)


def jpeg_bytes(seed: int = 0, size: tuple[int, int] = (120, 80)) -> bytes:
    return image_bytes("JPEG", seed, size)


def webp_bytes(seed: int = 0, size: tuple[int, int] = (120, 80)) -> bytes:
    return image_bytes("WEBP", seed, size)


# Windows PE: "MZ", a DOS stub and the "PE\0\0" signature at the offset e_lfanew names.
EXE_BYTES = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 44
    + b"\x80\x00\x00\x00"
    + b"This program cannot be run in DOS mode.\r\r\n$".ljust(64, b"\x00")
    + b"PE\x00\x00\x4c\x01"
    + b"\x00" * 200
)
ELF_BYTES = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + b"\x00" * 200
HTML_BYTES = (
    b"<!DOCTYPE html><html><body><script>fetch('/api/v1/me/').then(r=>r.text()).then(alert)</script></body></html>"
)
SVG_BYTES = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script><rect width='10' height='10'/></svg>"
)


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    """An uploaded file as Django hands it to a view; the browser's content type is not trusted."""
    return SimpleUploadedFile(name, data, content_type=content_type)
