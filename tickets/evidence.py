"""Evidence: files accepted by their content, links, private storage, access-checked downloads.

Rules (DESIGN §7): PDF, PNG, JPEG or WEBP detected from magic bytes, with an extension that agrees
and content that parses as that type; at most EVIDENCE_MAX_FILE_BYTES a file,
EVIDENCE_MAX_ITEMS items and EVIDENCE_MAX_REQUEST_BYTES a request; duplicates (same sha256) in
one request refused; the stored name is random (the original name is metadata only). Links are
https only, at most 2,000 characters. Evidence can be added until the request is final, never
changed or deleted after submit. Each addition is an audit row.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Sum
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect

from . import clock
from .errors import ActorNotAllowed, InvalidInput, RequestNotFound, StateConflict
from .models import Evidence, ReassessmentRequest, RequestTransition, State

logger = logging.getLogger(__name__)

MAX_LINK_LENGTH = 2000
MAX_NAME_LENGTH = 150


@dataclass(frozen=True)
class FileType:
    content_type: str
    extensions: tuple[str, ...]
    label: str


PDF = FileType("application/pdf", (".pdf",), "PDF")
PNG = FileType("image/png", (".png",), "PNG")
JPEG = FileType("image/jpeg", (".jpg", ".jpeg"), "JPEG")
WEBP = FileType("image/webp", (".webp",), "WEBP")
ACCEPTED = (PDF, PNG, JPEG, WEBP)
ACCEPTED_LABEL = "PDF, PNG, JPEG or WEBP"


class EvidenceStorageError(Exception):
    """The evidence store could not be reached; nothing was recorded."""


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


def sanitize_filename(name: str) -> str:
    """The original name as safe metadata: no folders, control characters or overlong names."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"\s+", " ", name).strip().lstrip(".")
    if not name:
        name = "file"
    stem, ext = os.path.splitext(name)
    if len(name) > MAX_NAME_LENGTH:
        name = stem[: MAX_NAME_LENGTH - len(ext[:20])] + ext[:20]
    return name


def _parses(kind: FileType, data: bytes) -> bool:
    """True when the whole file decodes as its type (a truncated or corrupt file does not)."""
    try:
        if kind is PDF:
            from pypdf import PdfReader

            reader = PdfReader(io.BytesIO(data), strict=False)
            if len(reader.pages) < 1:
                return False
            # A truncated PDF loses its trailer: pypdf then rebuilds it, but %%EOF is gone.
            return b"%%EOF" in data[-2048:]
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
        return True
    except Exception:  # noqa: BLE001 - any decoder error means "does not parse"
        return False


def validate_file(*, name: str, data: bytes) -> tuple[FileType, str]:
    """(type, clean name) or InvalidInput naming the file and the reason."""
    clean_name = sanitize_filename(name)
    label = f"“{clean_name}”"
    if not data:
        raise InvalidInput({"file": [f"{label} is empty."]})
    if len(data) > settings.EVIDENCE_MAX_FILE_BYTES:
        limit = settings.EVIDENCE_MAX_FILE_BYTES / (1024 * 1024)
        raise InvalidInput({"file": [f"{label} is larger than the {limit:g} MB limit for one file."]})
    kind = sniff(data[:16])
    if kind is None:
        raise InvalidInput({"file": [f"{label} is not a {ACCEPTED_LABEL} file (checked by its content)."]})
    extension = os.path.splitext(clean_name)[1].lower()
    if extension not in kind.extensions:
        raise InvalidInput(
            {"file": [f"{label} contains a {kind.label} file, but its name ends in “{extension or '(nothing)'}”; "
                      f"rename it to end in {' or '.join(kind.extensions)}."]}
        )
    if not _parses(kind, data):
        raise InvalidInput({"file": [f"{label} is damaged or incomplete: it does not open as a {kind.label} file."]})
    return kind, clean_name


def validate_link(url: Any) -> str:
    if not isinstance(url, str) or not url.strip():
        raise InvalidInput({"url": ["Enter the link (an https:// address)."]})
    url = url.strip()
    if len(url) > MAX_LINK_LENGTH:
        raise InvalidInput({"url": [f"The link must be at most {MAX_LINK_LENGTH} characters."]})
    if not url.lower().startswith("https://"):
        raise InvalidInput({"url": ["Only https:// links are accepted."]})
    try:
        URLValidator(schemes=["https"])(url)
    except ValidationError:
        raise InvalidInput({"url": ["This is not a valid https:// link."]}) from None
    return url


def _validate_kind(kind: Any) -> str:
    if kind not in Evidence.Kind.values:
        raise InvalidInput({"kind": [f"Choose what this evidence is: one of {', '.join(Evidence.Kind.values)}."]})
    return str(kind)


def _lock_for_evidence(request_id: int, actor: Any) -> ReassessmentRequest:
    from accounts.roles import is_agent

    from .services import is_customer_of

    req = ReassessmentRequest.objects.select_for_update().select_related("account").filter(pk=request_id).first()
    if req is None:
        raise RequestNotFound("No such request.")
    if not is_customer_of(actor, req):
        if is_agent(actor):
            raise ActorNotAllowed("Evidence is added by the customer.")
        raise RequestNotFound("No such request.")
    if req.is_final:
        raise StateConflict("This request is closed; evidence can no longer be added.")
    return req


def _check_limits(req: ReassessmentRequest, size: int) -> None:
    stats = req.evidence.aggregate(total=Sum("size"))
    count = req.evidence.count()
    if count >= settings.EVIDENCE_MAX_ITEMS:
        raise InvalidInput({"file": [f"A request can have at most {settings.EVIDENCE_MAX_ITEMS} evidence items."]})
    if (stats["total"] or 0) + size > settings.EVIDENCE_MAX_REQUEST_BYTES:
        limit = settings.EVIDENCE_MAX_REQUEST_BYTES / (1024 * 1024)
        raise InvalidInput({"file": [f"The evidence of one request can total at most {limit:g} MB."]})


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


def _read_upload(upload: IO[bytes] | Any) -> bytes:
    limit = settings.EVIDENCE_MAX_FILE_BYTES
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        # Refuse before reading a huge body into memory.
        return b"\0" * (limit + 1)
    if hasattr(upload, "seek"):
        upload.seek(0)
    return upload.read(limit + 1)


def evidence_add_file(*, request_id: int, actor: Any, kind: str, upload: Any, name: str | None = None) -> Evidence:
    """Validate and store an uploaded file, then record it. Refusals raise InvalidInput naming the
    file; a storage outage raises EvidenceStorageError; in both cases nothing is recorded and no
    file is left behind."""
    kind = _validate_kind(kind)
    data = _read_upload(upload)
    original = name if name is not None else getattr(upload, "name", "") or "file"
    file_type, clean_name = validate_file(name=original, data=data)
    digest = hashlib.sha256(data).hexdigest()

    # Cheap checks before touching storage (repeated under the row lock below).
    with transaction.atomic():
        req = _lock_for_evidence(request_id, actor)
        _check_limits(req, len(data))
        if req.evidence.filter(sha256=digest).exists():
            raise InvalidInput({"file": [f"“{clean_name}” is already attached to this request."]})

    # Slow I/O stays out of the transaction; the key is random, never the user's name.
    from .models import evidence_storage

    storage = evidence_storage()
    key = f"{request_id}/{secrets.token_hex(16)}{file_type.extensions[0]}"
    try:
        stored_key = storage.save(key, File(io.BytesIO(data), name=key))
    except Exception as exc:  # noqa: BLE001 - any storage backend failure
        logger.error("evidence storage failed for request %s: %s", request_id, exc)
        raise EvidenceStorageError("The file could not be stored right now. Nothing was saved; please try again.") from exc

    try:
        with transaction.atomic():
            req = _lock_for_evidence(request_id, actor)
            _check_limits(req, len(data))
            if req.evidence.filter(sha256=digest).exists():
                raise InvalidInput({"file": [f"“{clean_name}” is already attached to this request."]})
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
    except BaseException:
        # No orphan: the row was not recorded, so the stored object goes too.
        try:
            storage.delete(stored_key)
        except Exception:  # noqa: BLE001
            logger.warning("could not remove orphaned evidence object %s", stored_key)
        raise
    return evidence


@transaction.atomic
def evidence_add_link(*, request_id: int, actor: Any, kind: str, url: str) -> Evidence:
    """Record an https link as evidence."""
    kind = _validate_kind(kind)
    clean_url = validate_link(url)
    req = _lock_for_evidence(request_id, actor)
    _check_limits(req, 0)
    if req.evidence.filter(url=clean_url).exists():
        raise InvalidInput({"url": ["This link is already attached to this request."]})
    evidence = Evidence.objects.create(
        request=req, kind=kind, url=clean_url, uploaded_by=actor, uploaded_at=clock.now()
    )
    _audit(req, actor, evidence)
    return evidence


def evidence_delete_draft(*, evidence_id: int, actor: Any) -> None:
    """Remove evidence from a draft (after submit evidence is never deleted)."""
    with transaction.atomic():
        evidence = Evidence.objects.select_related("request").filter(pk=evidence_id).first()
        if evidence is None:
            raise RequestNotFound("No such evidence.")
        req = _lock_for_evidence(evidence.request_id, actor)
        if req.state != State.DRAFT:
            raise StateConflict("Evidence cannot be removed once the request is submitted.")
        key = evidence.file.name if evidence.file else ""
        evidence.delete()
    if key:
        from .models import evidence_storage

        transaction.on_commit(lambda: evidence_storage().delete(key))


def can_download(user: Any, evidence: Evidence) -> bool:
    from accounts.roles import is_staff_member

    from .services import is_customer_of

    return is_staff_member(user) or is_customer_of(user, evidence.request)


def evidence_download_response(request: HttpRequest, evidence: Evidence, *, inline: bool = False) -> HttpResponse:
    """Stream the file (local storage) or redirect to a short-lived signed URL (S3). The caller has
    checked access with `can_download`. Links redirect to their https address."""
    if evidence.url:
        return HttpResponseRedirect(evidence.url)
    storage = evidence.file.storage
    if settings.EVIDENCE_S3_BUCKET:
        disposition = "inline" if inline else "attachment"
        url = storage.url(
            evidence.file.name,
            parameters={
                "ResponseContentDisposition": f'{disposition}; filename="{evidence.original_name}"',
                "ResponseContentType": evidence.content_type,
            },
            expire=settings.EVIDENCE_SIGNED_URL_SECONDS,
        )
        return HttpResponseRedirect(url)
    handle = storage.open(evidence.file.name, "rb")
    response = FileResponse(
        handle, as_attachment=not inline, filename=evidence.original_name, content_type=evidence.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
