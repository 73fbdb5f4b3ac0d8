"""Evidence: files accepted by their content, links, private storage, access-checked downloads.

Rules (DESIGN §7): PDF, PNG, JPEG or WEBP detected from magic bytes, with an extension that agrees
and content that parses as that type; at most EVIDENCE_MAX_FILE_BYTES a file,
EVIDENCE_MAX_ITEMS items and EVIDENCE_MAX_REQUEST_BYTES a request; duplicates (same sha256) in
one request refused; the stored name is random (the original name is metadata only). Links are
https only, at most 2,000 characters. Evidence can be added until the request is final, never
changed or deleted after submit. Each addition is an audit row.

Order of an upload, and why:
1. who and when (an outsider learns nothing, a closed request says so before any content error);
2. the bytes: size, type by content, extension, full parse (no I/O, no lock);
3. per-request limits and duplicates (a read, so a doomed upload never touches storage);
4. the object is stored under a random key, outside any database transaction (slow I/O);
5. one short transaction locks the request, re-checks 1 and 3, writes the row and the audit row;
   if anything fails there, the stored object is deleted again, so no orphan is left.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import secrets
import unicodedata
import warnings
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header

from . import clock
from .errors import ActorNotAllowed, InvalidInput, RequestNotFound, StateConflict
from .models import Evidence, ReassessmentRequest, RequestTransition, State

logger = logging.getLogger(__name__)

MAX_LINK_LENGTH = 2000
MAX_NAME_LENGTH = 150
# A 10 MB PNG of one colour can decode to gigabytes: images are refused above this many pixels
# before anything is decoded (50 MP is a 8,660 × 5,773 scan; screenshots are far smaller).
MAX_IMAGE_PIXELS = 50_000_000
# Bounds on the work one PDF may cost us while it is checked.
MAX_PDF_OBJECTS = 100_000
MAX_PDF_PAGES_DECODED = 50


@dataclass(frozen=True)
class FileType:
    content_type: str
    extensions: tuple[str, ...]
    label: str
    pillow_format: str = ""


PDF = FileType("application/pdf", (".pdf",), "PDF")
PNG = FileType("image/png", (".png",), "PNG", "PNG")
JPEG = FileType("image/jpeg", (".jpg", ".jpeg"), "JPEG", "JPEG")
WEBP = FileType("image/webp", (".webp",), "WEBP", "WEBP")
ACCEPTED = (PDF, PNG, JPEG, WEBP)
ACCEPTED_LABEL = "PDF, PNG, JPEG or WEBP"

_PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"


class EvidenceStorageError(Exception):
    """The evidence store could not be reached; nothing was recorded."""


# --- content -------------------------------------------------------------------------------------


def sniff(head: bytes) -> FileType | None:
    """The accepted type these first bytes belong to, or None."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    return None


def _looks_like(head: bytes) -> str:
    """What a refused file seems to be, so the customer knows what to convert it from."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"MZ"):
        return " It looks like a Windows program."
    if head.startswith(b"\x7fELF"):
        return " It looks like a Linux program."
    if head[:4] in {b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe"}:
        return " It looks like a macOS program."
    if text.startswith((b"<svg", b"<?xml")) and b"<svg" in text:
        return " It looks like an SVG drawing; export it as PNG or PDF."
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script")):
        return " It looks like a web page; print it to PDF instead."
    if head.startswith(b"PK\x03\x04"):
        return " It looks like a ZIP archive or an Office document; save it as PDF instead."
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return " It looks like an old Office document; save it as PDF instead."
    if head[4:8] == b"ftyp" and head[8:12] in {b"heic", b"heix", b"mif1", b"msf1", b"hevc", b"avif"}:
        return " It looks like an HEIC/AVIF photo (the iPhone default); export it as JPEG instead."
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return " It looks like a TIFF scan; save it as PDF or PNG instead."
    if head.startswith((b"GIF87a", b"GIF89a")):
        return " It looks like a GIF image; save it as PNG instead."
    return ""


def sanitize_filename(name: Any) -> str:
    """The original name as safe metadata: no folders, control or format characters (which can
    hide a real extension, e.g. U+202E), no leading dots, at most MAX_NAME_LENGTH characters."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"\s+", " ", name).strip().lstrip(".").strip()
    if not name:
        name = "file"
    if len(name) > MAX_NAME_LENGTH:
        stem, ext = os.path.splitext(name)
        ext = ext[:20]
        name = stem[: MAX_NAME_LENGTH - len(ext)].rstrip() + ext
    return name


def _label(clean_name: str) -> str:
    return f"“{clean_name}”"


def _human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.3g} KB"
    return f"{size / (1024 * 1024):.3g} MB"


def _pdf_objects(reader: Any) -> Any:
    """Every object of the PDF, including those packed in compressed object streams."""
    from pypdf.generic import IndirectObject

    numbers: set[tuple[int, int]] = set()
    for generation, table in reader.xref.items():
        numbers.update((idnum, generation) for idnum in table)
    numbers.update((idnum, 0) for idnum in reader.xref_objStm)
    if len(numbers) > MAX_PDF_OBJECTS:
        raise _PdfRefused("is too complex to check (too many objects)")
    for idnum, generation in sorted(numbers):
        yield reader.get_object(IndirectObject(idnum, generation, reader))


class _PdfRefused(Exception):
    """A PDF that opens but that we do not accept; the message completes "“name” ..."."""


_ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/ImportData", "/GoToE", "/RichMediaExecute", "/SubmitForm"}


def _pdf_active_content(reader: Any) -> str | None:
    """Why this PDF carries active content (scripts, launch actions, embedded files), or None.

    Evidence is read by staff on their own machines: a document that runs code or carries other
    files is refused rather than trusted to the viewer's sandbox."""
    from pypdf.generic import DictionaryObject

    for obj in _pdf_objects(reader):
        if not isinstance(obj, DictionaryObject):
            continue
        if "/JS" in obj or "/JavaScript" in obj or obj.get("/S") in _ACTIVE_ACTIONS:
            return "contains scripts or actions"
        if "/XFA" in obj:
            return "contains an XFA form (which runs scripts)"
        if obj.get("/Type") == "/EmbeddedFile" or "/EmbeddedFiles" in obj or "/EF" in obj:
            return "contains embedded files"
    return None


def _pdf_problem(data: bytes) -> str | None:
    """Why these PDF bytes are refused (completing "“name” ..."), or None."""
    from pypdf import PasswordType, PdfReader

    # A truncated PDF loses its end-of-file marker; pypdf would otherwise rebuild what it can.
    if b"%%EOF" not in data[-1024:]:
        return "is incomplete (it was cut off before its end): it does not open as a PDF file"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
                return "is protected by a password; upload a copy without a password"
            pages = reader.pages
            if len(pages) < 1:
                return "has no pages"
            for index, page in enumerate(pages):
                if index >= MAX_PDF_PAGES_DECODED:
                    break
                page.get_contents()  # decodes the page's content streams: corrupt ones raise
            active = _pdf_active_content(reader)
    except _PdfRefused as refused:
        return str(refused)
    except Exception:  # noqa: BLE001 - any parser error means "does not parse"
        return "is damaged or incomplete: it does not open as a PDF file"
    if active:
        return f"{active}; print it to a plain PDF and upload that instead"
    return None


def _image_problem(kind: FileType, data: bytes) -> str | None:
    """Why these image bytes are refused (completing "“name” ..."), or None."""
    from PIL import Image

    broken = f"is damaged or incomplete: it does not open as a {kind.label} image"
    # Format-level completeness checks that Pillow is lenient about.
    if kind is PNG and _PNG_IEND not in data:
        return broken
    if kind is JPEG and b"\xff\xd9" not in data[2:]:
        return broken
    if kind is WEBP and len(data) < int.from_bytes(data[4:8], "little") + 8:
        return broken
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # `formats` pins the decoder to the sniffed type: no other Pillow plugin gets the bytes.
            with Image.open(io.BytesIO(data), formats=[kind.pillow_format]) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    return f"is too large: {width} × {height} pixels (at most {MAX_IMAGE_PIXELS:,} pixels)"
                image.verify()
            with Image.open(io.BytesIO(data), formats=[kind.pillow_format]) as image:
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard fired while reading the header (far above our limit).
        return f"is too large: more than {MAX_IMAGE_PIXELS:,} pixels"
    except Exception:  # noqa: BLE001 - any decoder error means "does not parse"
        return broken
    return None


def _check_size(clean_name: str, size: int) -> None:
    if size == 0:
        raise InvalidInput({"file": [f"{_label(clean_name)} is empty."]})
    limit = settings.EVIDENCE_MAX_FILE_BYTES
    if size > limit:
        raise InvalidInput(
            {"file": [f"{_label(clean_name)} is {_human_size(size)}, "
                      f"over the {_human_size(limit)} limit for one file."]}
        )


def validate_file(*, name: str, data: bytes) -> tuple[FileType, str]:
    """(type, clean name), or InvalidInput({"file": [...]}) naming the file and the reason."""
    clean_name = sanitize_filename(name)
    label = _label(clean_name)
    _check_size(clean_name, len(data))
    kind = sniff(data[:16])
    if kind is None:
        raise InvalidInput(
            {"file": [f"{label} is not a {ACCEPTED_LABEL} file (checked by its content, not its name)."
                      f"{_looks_like(data[:256])}"]}
        )
    extension = os.path.splitext(clean_name)[1].lower()
    if extension not in kind.extensions:
        raise InvalidInput(
            {"file": [f"{label} contains a {kind.label} file, but its name ends in “{extension or '(nothing)'}”; "
                      f"rename it to end in {' or '.join(kind.extensions)}."]}
        )
    problem = _pdf_problem(data) if kind is PDF else _image_problem(kind, data)
    if problem:
        raise InvalidInput({"file": [f"{label} {problem}."]})
    return kind, clean_name


def validate_link(url: Any) -> str:
    """The link, stripped, or InvalidInput({"url": [...]}): https only, at most 2,000 characters,
    no user name or password in it (a classic way to disguise where a link goes)."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidInput({"url": ["Enter the link (an https:// address)."]})
    url = url.strip()
    shown = url if len(url) <= 80 else url[:77] + "..."
    if len(url) > MAX_LINK_LENGTH:
        raise InvalidInput(
            {"url": [f"The link “{shown}” is {len(url):,} characters long; at most {MAX_LINK_LENGTH:,} are accepted."]}
        )
    if not url.lower().startswith("https://"):
        raise InvalidInput({"url": [f"The link “{shown}” is not accepted: only https:// links are."]})
    try:
        URLValidator(schemes=["https"])(url)
        parts = urlsplit(url)
    except (ValidationError, ValueError):
        raise InvalidInput({"url": [f"The link “{shown}” is not a valid https:// address."]}) from None
    if parts.username is not None or parts.password is not None:
        raise InvalidInput({"url": [f"The link “{shown}” contains a user name or password; remove it."]})
    return url


def _validate_kind(kind: Any) -> str:
    if kind not in Evidence.Kind.values:
        raise InvalidInput({"kind": [f"Choose what this evidence is: one of {', '.join(Evidence.Kind.values)}."]})
    return str(kind)


# --- the request: who, when, how much ---------------------------------------------------------------


def _request_for_evidence(request_id: int, actor: Any, *, lock: bool) -> ReassessmentRequest:
    """The request, if `actor` is one of its customers and it is not final."""
    from accounts.roles import is_staff_member

    from .services import is_customer_of

    queryset = ReassessmentRequest.objects.select_related("account")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    req = queryset.filter(pk=request_id).first()
    if req is None:
        raise RequestNotFound("No such request.")
    if not is_customer_of(actor, req):
        if is_staff_member(actor):
            raise ActorNotAllowed("Evidence is added by the customer, not by staff.")
        raise RequestNotFound("No such request.")
    if req.is_final:
        raise StateConflict("This request is closed; evidence can no longer be added.")
    return req


def _check_limits(req: ReassessmentRequest, *, field: str, what: str, size: int) -> None:
    """Refuse the item `what` (a quoted name or link) when it would break a per-request limit."""
    stats = Evidence.objects.filter(request=req).aggregate(count=Count("pk"), total=Sum("size"))
    count, total = stats["count"], stats["total"] or 0
    if count >= settings.EVIDENCE_MAX_ITEMS:
        raise InvalidInput(
            {field: [f"{what} was not added: a request can have at most {settings.EVIDENCE_MAX_ITEMS} "
                     f"evidence item{'s' if settings.EVIDENCE_MAX_ITEMS != 1 else ''}, "
                     f"and this one already has {count}."]}
        )
    limit = settings.EVIDENCE_MAX_REQUEST_BYTES
    if total + size > limit:
        this_one = f" and the file is {_human_size(size)}" if size else ""
        raise InvalidInput(
            {field: [f"{what} was not added: the evidence of one request can total at most {_human_size(limit)}; "
                     f"this request has {_human_size(total)}{this_one}."]}
        )


def _check_not_duplicate(req: ReassessmentRequest, clean_name: str, digest: str) -> None:
    existing = Evidence.objects.filter(request=req, sha256=digest).values_list("original_name", flat=True).first()
    if existing is not None:
        raise InvalidInput(
            {"file": [f"{_label(clean_name)} is already attached to this request (the same file as “{existing}”)."]}
        )


def _audit(req: ReassessmentRequest, actor: Any, evidence: Evidence) -> None:
    what = evidence.original_name or evidence.url
    RequestTransition.objects.create(
        request=req,
        transition="add_evidence",
        from_state=req.state,
        to_state=req.state,
        actor=actor,
        note=f"{evidence.get_kind_display()}: {what}",
        sla_cycle=req.sla_cycle,
        created_at=evidence.uploaded_at,
    )


def _read_upload(upload: Any, clean_name: str) -> bytes:
    """The upload's bytes; an oversized one is refused before its body is read into memory."""
    limit = settings.EVIDENCE_MAX_FILE_BYTES
    size = getattr(upload, "size", None)
    if isinstance(size, int):
        _check_size(clean_name, size)
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1)
    if isinstance(data, str):
        data = data.encode()
    _check_size(clean_name, len(data))
    return bytes(data)


class EvidenceUploadLimitHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: once an uploaded file passes EVIDENCE_MAX_FILE_BYTES, the
    rest of its bytes are counted but kept nowhere (neither memory nor a temporary file), and the
    view receives an empty stand-in that carries the real size, so `evidence_add_file` refuses it
    with the usual message naming the file. Without it Django would spool any size to disk."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0
        self.oversized = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > settings.EVIDENCE_MAX_FILE_BYTES:
            self.oversized = True
            return None  # the next handlers get nothing more of this file
        return raw_data

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if not self.oversized:
            return None  # the memory or temporary-file handler completes it as usual
        return UploadedFile(
            file=io.BytesIO(), name=self.file_name, content_type=self.content_type, size=self.received
        )


def _discard(storage: Any, key: str) -> None:
    """Delete a stored object that no row refers to; never raises (the caller is already failing)."""
    try:
        storage.delete(key)
    except Exception:  # the orphan sweep catches what this misses
        logger.warning("could not remove orphaned evidence object %s", key, exc_info=True)


# --- use cases -------------------------------------------------------------------------------------


def _remove_partial_object(storage: Any, key: str) -> None:
    """A save that failed part-way may have left bytes under the key: remove them, best effort
    (the orphan sweep catches what this cannot reach)."""
    try:
        if storage.exists(key):
            storage.delete(key)
    except Exception:  # noqa: BLE001 - the store is failing already; the orphan sweep cleans up
        logger.warning("could not remove a partly stored evidence object %s", key)


def evidence_add_file(*, request_id: int, actor: Any, kind: str, upload: Any, name: str | None = None) -> Evidence:
    """Validate an uploaded file by its content, store it under a random key and record it with an
    `add_evidence` audit row. Needs a customer of a non-final request.

    Raises InvalidInput ({"kind"|"file": [...]}, naming the file and the reason), RequestNotFound
    (outsiders), ActorNotAllowed (staff), StateConflict (final request) or EvidenceStorageError
    (storage unreachable). Whenever it raises, nothing is recorded and no stored object is left.

    Call it outside a transaction where you can: it stores the file before its own short
    transaction. A caller's outer transaction that rolls back later leaves the object behind,
    for `evidence_remove_orphans` to delete."""
    kind = _validate_kind(kind)
    clean_name = sanitize_filename(name if name is not None else getattr(upload, "name", ""))
    req = _request_for_evidence(request_id, actor, lock=False)
    data = _read_upload(upload, clean_name)
    file_type, clean_name = validate_file(name=clean_name, data=data)
    digest = hashlib.sha256(data).hexdigest()
    # Cheap checks before touching storage (repeated under the row lock below).
    _check_limits(req, field="file", what=_label(clean_name), size=len(data))
    _check_not_duplicate(req, clean_name, digest)

    # Slow I/O stays out of the transaction; the key is random, never the customer's file name.
    from .models import evidence_storage

    storage = evidence_storage()
    key = f"{request_id}/{secrets.token_hex(16)}{file_type.extensions[0]}"
    try:
        stored_key = storage.save(key, File(io.BytesIO(data), name=key))
    except Exception as exc:  # any backend failure: disk, network, S3 error
        logger.error("evidence storage failed for request %s: %r", request_id, exc)
        _remove_partial_object(storage, key)
        raise EvidenceStorageError(
            f"{_label(clean_name)} could not be stored: the file store is not reachable right now. "
            "Nothing was saved and your request is unchanged; please try again in a few minutes."
        ) from exc

    try:
        try:
            with transaction.atomic():
                req = _request_for_evidence(request_id, actor, lock=True)
                _check_limits(req, field="file", what=_label(clean_name), size=len(data))
                _check_not_duplicate(req, clean_name, digest)
                evidence = Evidence.objects.create(
                    request=req,
                    kind=kind,
                    file=stored_key,
                    original_name=clean_name,
                    content_type=file_type.content_type,
                    size=len(data),
                    sha256=digest,
                    uploaded_by=actor,
                    uploaded_at=clock.now(),
                )
                _audit(req, actor, evidence)
        except IntegrityError:
            # Two identical uploads raced past the checks; the unique constraint kept one.
            _check_not_duplicate(req, clean_name, digest)
            raise
    except BaseException:
        # The row was not recorded, so the stored object goes too: no orphan.
        _discard(storage, stored_key)
        raise
    return evidence


@transaction.atomic
def evidence_add_link(*, request_id: int, actor: Any, kind: str, url: str) -> Evidence:
    """Record an https link as evidence, with an `add_evidence` audit row. Same refusals as
    `evidence_add_file`, with messages under "url"."""
    kind = _validate_kind(kind)
    req = _request_for_evidence(request_id, actor, lock=True)
    clean_url = validate_link(url)
    shown = f"The link “{clean_url if len(clean_url) <= 80 else clean_url[:77] + '...'}”"
    _check_limits(req, field="url", what=shown, size=0)
    if Evidence.objects.filter(request=req, url=clean_url).exists():
        raise InvalidInput({"url": [f"{shown} is already attached to this request."]})
    evidence = Evidence.objects.create(
        request=req, kind=kind, url=clean_url, uploaded_by=actor, uploaded_at=clock.now()
    )
    _audit(req, actor, evidence)
    return evidence


def evidence_delete_draft(*, evidence_id: int, actor: Any) -> None:
    """Remove evidence from a draft; its stored object is deleted after commit. After submit
    evidence is never deleted (StateConflict)."""
    from .models import evidence_storage

    with transaction.atomic():
        evidence = Evidence.objects.filter(pk=evidence_id).first()
        if evidence is None:
            raise RequestNotFound("No such evidence.")
        req = _request_for_evidence(evidence.request_id, actor, lock=True)
        if req.state != State.DRAFT:
            raise StateConflict("Evidence cannot be removed once the request is submitted.")
        key = evidence.file.name if evidence.file else ""
        evidence.delete()
        if key:
            transaction.on_commit(lambda: _discard(evidence_storage(), key))


def evidence_remove_orphans(*, older_than: timedelta = timedelta(hours=1)) -> list[str]:
    """Delete stored objects that no Evidence row refers to and that are older than `older_than`
    (younger ones may belong to an upload that is being recorded right now). Returns their keys.

    Uploads clean up after themselves; this catches what a crash between storing and recording,
    or a rollback of a caller's outer transaction, leaves behind. Meant for a periodic task."""
    from .models import evidence_storage

    storage = evidence_storage()
    cutoff = clock.now() - older_than
    removed: list[str] = []
    try:
        folders, _ = storage.listdir("")
    except FileNotFoundError:
        return removed
    for folder in folders:
        _, names = storage.listdir(folder)
        keys = [f"{folder}/{name}" for name in names]
        known = set(Evidence.objects.filter(file__in=keys).values_list("file", flat=True))
        for key in keys:
            if key in known or storage.get_modified_time(key) > cutoff:
                continue
            storage.delete(key)
            removed.append(key)
            logger.info("removed orphaned evidence object %s", key)
    return removed


# --- downloads -------------------------------------------------------------------------------------


def can_download(user: Any, evidence: Evidence) -> bool:
    """Members of the request's account, and staff."""
    from accounts.roles import is_staff_member

    from .services import is_customer_of

    return is_staff_member(user) or is_customer_of(user, evidence.request)


def _is_remote(storage: Any) -> bool:
    """True for storages without local files (S3): those hand out signed URLs instead."""
    try:
        storage.path("probe")
    except NotImplementedError:
        return True
    return False


def evidence_download_response(request: HttpRequest, evidence: Evidence, *, inline: bool = False) -> HttpResponse:
    """Stream the file (local folder) or redirect to a signed URL of EVIDENCE_SIGNED_URL_SECONDS
    (S3). The caller has checked access with `can_download`. Links redirect to their address.
    Raises EvidenceStorageError when the stored file cannot be read."""
    from .models import evidence_storage

    if evidence.url:
        response: HttpResponse = HttpResponseRedirect(evidence.url)
    else:
        storage = evidence_storage()
        disposition = content_disposition_header(not inline, evidence.original_name or "evidence")
        if _is_remote(storage):
            # Signing is local (no network); the object itself is private, so only this URL works,
            # and only for a few minutes. S3 answers with our disposition and sniffed type.
            url = storage.url(
                evidence.file.name,
                parameters={
                    "ResponseContentDisposition": disposition,
                    "ResponseContentType": evidence.content_type,
                },
                expire=settings.EVIDENCE_SIGNED_URL_SECONDS,
            )
            response = HttpResponseRedirect(url)
        else:
            try:
                handle = storage.open(evidence.file.name, "rb")
            except Exception as exc:  # a missing file or an unreadable disk
                logger.error("evidence %s could not be read: %r", evidence.pk, exc)
                raise EvidenceStorageError("This file cannot be fetched right now; please try again later.") from exc
            response = FileResponse(handle, content_type=evidence.content_type)
            response["Content-Disposition"] = disposition
            # Even a hostile file is only ever a download: no sniffing, no scripts, no caching.
            response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    # Neither the signed URL nor our evidence URL should leak to the next site as a Referer.
    response["Referrer-Policy"] = "no-referrer"
    return response
