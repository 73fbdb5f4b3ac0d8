"""Evidence uploads and links: accepted by content, refused with a message that names the item and
the reason, append-only after submit, audited, and never leaving a row or a stored object behind
when something fails. All files here are real bytes built with pypdf and Pillow."""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import DatabaseError

from tests.tickets import evidence_samples as samples
from tickets import evidence as evidence_module
from tickets.errors import ActorNotAllowed, InvalidInput, RequestNotFound, StateConflict
from tickets.evidence import (
    EvidenceStorageError,
    evidence_add_file,
    evidence_add_link,
    evidence_delete_draft,
    evidence_remove_orphans,
    sanitize_filename,
)
from tickets.models import Evidence, ReassessmentRequest, RequestTransition, State

KEY_PATTERN = re.compile(r"^\d+/[0-9a-f]{32}\.(pdf|png|jpg|webp)$")


# --- helpers ---------------------------------------------------------------------------------------


@pytest.fixture
def evidence_root(settings) -> Path:
    """The private folder the autouse conftest fixture points STORAGES["evidence"] at."""
    return Path(settings.STORAGES["evidence"]["OPTIONS"]["location"])


def stored_files(root: Path) -> list[str]:
    if not root.exists():
        return []
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def add_file(req: ReassessmentRequest, actor, name: str, data: bytes, kind: str = "certificate_of_incorporation"):
    return evidence_add_file(request_id=req.pk, actor=actor, kind=kind, upload=samples.upload(name, data))


def assert_nothing_recorded(req: ReassessmentRequest, root: Path, *, state: str | None = None) -> None:
    assert Evidence.objects.filter(request=req).count() == 0
    assert not RequestTransition.objects.filter(request=req, transition="add_evidence").exists()
    assert stored_files(root) == []
    if state is not None:
        assert ReassessmentRequest.objects.get(pk=req.pk).state == state


def refusal(excinfo: pytest.ExceptionInfo, field: str = "file") -> str:
    errors = excinfo.value.errors
    assert list(errors) == [field], errors
    assert len(errors[field]) == 1
    return errors[field][0]


class BrokenStorage(FileSystemStorage):
    """A storage whose backend is down: every write fails like an unreachable disk or bucket."""

    def _save(self, name, content):
        raise OSError("Connection refused: evidence store is down")


# --- accepted files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "build", "content_type"),
    [
        ("Certificate of incorporation.pdf", samples.pdf_bytes, "application/pdf"),
        ("app-screenshot.png", samples.png_bytes, "image/png"),
        ("business card.JPG", samples.jpeg_bytes, "image/jpeg"),
        ("business card.jpeg", samples.jpeg_bytes, "image/jpeg"),
        ("listing.webp", samples.webp_bytes, "image/webp"),
    ],
)
def test_real_pdf_png_jpeg_and_webp_files_are_accepted_and_stored_under_a_random_key(
    draft, customer, evidence_root, name, build, content_type
) -> None:
    import hashlib

    data = build(seed=1)
    evidence = add_file(draft, customer, name, data)

    evidence.refresh_from_db()
    assert evidence.original_name == name
    assert evidence.content_type == content_type
    assert evidence.size == len(data)
    assert evidence.sha256 == hashlib.sha256(data).hexdigest()
    assert evidence.uploaded_by == customer
    assert KEY_PATTERN.match(evidence.file.name), evidence.file.name
    assert evidence.file.name.startswith(f"{draft.pk}/")
    assert name not in evidence.file.name
    assert stored_files(evidence_root) == [evidence.file.name]
    assert (evidence_root / evidence.file.name).read_bytes() == data


def test_content_type_sent_by_the_browser_is_ignored(draft, customer) -> None:
    upload = samples.upload("scan.png", samples.png_bytes(seed=2), content_type="text/html")
    evidence = evidence_add_file(request_id=draft.pk, actor=customer, kind="other", upload=upload)
    assert evidence.content_type == "image/png"


def test_a_pdf_with_only_an_owner_password_is_accepted(draft, customer) -> None:
    # Many official documents restrict printing with an owner password but open without one.
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt("", owner_password="issuer-only")
    buffer = io.BytesIO()
    writer.write(buffer)
    evidence = add_file(draft, customer, "ein-letter.pdf", buffer.getvalue(), kind="ein")
    assert evidence.content_type == "application/pdf"


def test_a_teammate_can_add_evidence(draft, teammate) -> None:
    evidence = add_file(draft, teammate, "card.png", samples.png_bytes(seed=3), kind="business_card")
    assert evidence.uploaded_by == teammate


# --- refused files -----------------------------------------------------------------------------------


def _truncated_pdf() -> bytes:
    data = samples.pdf_bytes(seed=4)
    return data[: len(data) // 2]


def _pdf_missing_its_last_bytes() -> bytes:
    return samples.pdf_bytes(seed=5)[:-8]


def _encrypted_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt("secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


REFUSED_FILES = [
    pytest.param(
        "invoice.pdf",
        lambda: samples.EXE_BYTES,
        ["“invoice.pdf”", "not a PDF, PNG, JPEG or WEBP", "Windows program"],
        id="windows-executable-renamed-pdf",
    ),
    pytest.param(
        "manual.pdf",
        lambda: samples.ELF_BYTES,
        ["“manual.pdf”", "not a PDF, PNG, JPEG or WEBP", "Linux program"],
        id="elf-executable-renamed-pdf",
    ),
    pytest.param(
        "screenshot.png",
        lambda: samples.HTML_BYTES,
        ["“screenshot.png”", "checked by its content", "web page"],
        id="html-renamed-png",
    ),
    pytest.param(
        "logo.png", lambda: samples.SVG_BYTES, ["“logo.png”", "checked by its content", "SVG"], id="svg-renamed-png"
    ),
    pytest.param("certificate.pdf", _truncated_pdf, ["“certificate.pdf”", "incomplete", "PDF"], id="truncated-pdf"),
    pytest.param(
        "certificate.pdf", _pdf_missing_its_last_bytes, ["“certificate.pdf”", "incomplete"], id="pdf-missing-eof"
    ),
    pytest.param(
        "screenshot.png",
        lambda: samples.png_bytes(seed=6)[:-40],
        ["“screenshot.png”", "damaged or incomplete", "PNG"],
        id="truncated-png",
    ),
    pytest.param(
        "screenshot.png",
        lambda: samples.png_bytes(seed=6)[:-3],
        ["“screenshot.png”", "damaged or incomplete"],
        id="png-missing-iend",
    ),
    pytest.param(
        "card.jpg",
        lambda: samples.jpeg_bytes(seed=7)[:-300],
        ["“card.jpg”", "damaged or incomplete", "JPEG"],
        id="truncated-jpeg",
    ),
    pytest.param(
        "card.jpg",
        lambda: samples.jpeg_bytes(seed=7)[:-2],
        ["“card.jpg”", "damaged or incomplete"],
        id="jpeg-missing-end-marker",
    ),
    pytest.param(
        "listing.webp",
        lambda: samples.webp_bytes(seed=8)[:-20],
        ["“listing.webp”", "damaged or incomplete", "WEBP"],
        id="truncated-webp",
    ),
    pytest.param("empty.pdf", lambda: b"", ["“empty.pdf”", "is empty"], id="empty-file"),
    pytest.param(
        "scan.png",
        samples.pdf_bytes,
        ["“scan.png”", "contains a PDF file", "ends in “.png”", ".pdf"],
        id="pdf-named-png",
    ),
    pytest.param("scan", samples.pdf_bytes, ["“scan”", "contains a PDF file", "(nothing)"], id="no-extension"),
    pytest.param(
        "report\u202efdp.exe",
        samples.pdf_bytes,
        ["“reportfdp.exe”", "ends in “.exe”"],
        id="right-to-left-override-hiding-exe",
    ),
    pytest.param(
        "scan.gif",
        lambda: (
            b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,"
            b"\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
        ),
        ["“scan.gif”", "GIF"],
        id="gif",
    ),
    pytest.param(
        "IMG_0001.jpg",
        lambda: b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64,
        ["“IMG_0001.jpg”", "HEIC", "export it as JPEG"],
        id="iphone-heic-named-jpg",
    ),
    pytest.param("scan.pdf", lambda: b"II*\x00" + b"\x00" * 64, ["“scan.pdf”", "TIFF"], id="tiff-named-pdf"),
    pytest.param(
        "passwd",
        lambda: b"root:x:0:0:root:/root:/bin/bash\n",
        ["“passwd”", "not a PDF, PNG, JPEG or WEBP"],
        id="plain-text",
    ),
    pytest.param("form.pdf", samples.pdf_with_javascript, ["“form.pdf”", "scripts"], id="pdf-with-javascript"),
    pytest.param(
        "bundle.pdf", samples.pdf_with_attachment, ["“bundle.pdf”", "embedded files"], id="pdf-with-attachment"
    ),
    pytest.param("locked.pdf", _encrypted_pdf, ["“locked.pdf”", "password"], id="password-protected-pdf"),
]


@pytest.mark.parametrize(("name", "build", "fragments"), REFUSED_FILES)
def test_unacceptable_files_are_refused_with_a_message_naming_the_file_and_nothing_is_kept(
    submitted_request, customer, evidence_root, name, build, fragments
) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        add_file(submitted_request, customer, name, build())

    message = refusal(excinfo)
    for fragment in fragments:
        assert fragment in message, message
    assert_nothing_recorded(submitted_request, evidence_root, state=State.SUBMITTED)


def test_an_oversized_file_is_refused_before_its_body_is_read(draft, customer, evidence_root, settings) -> None:
    settings.EVIDENCE_MAX_FILE_BYTES = 1024
    data = samples.png_bytes(seed=9, size=(400, 300))
    assert len(data) > 1024

    class Unreadable(io.BytesIO):
        name = "huge-scan.png"
        size = len(data)

        def read(self, *args):
            raise AssertionError("the body of an oversized upload must not be read")

    with pytest.raises(InvalidInput) as excinfo:
        evidence_add_file(request_id=draft.pk, actor=customer, kind="other", upload=Unreadable(data))
    assert refusal(excinfo) == f"“huge-scan.png” is {len(data) / 1024:.3g} KB, over the 1 KB limit for one file."
    assert_nothing_recorded(draft, evidence_root)


def test_an_oversized_stream_without_a_declared_size_is_refused(draft, customer, evidence_root, settings) -> None:
    settings.EVIDENCE_MAX_FILE_BYTES = 1024
    stream = io.BytesIO(samples.pdf_bytes(seed=10, pages=40))
    with pytest.raises(InvalidInput) as excinfo:
        evidence_add_file(request_id=draft.pk, actor=customer, kind="other", upload=stream, name="big.pdf")
    assert "“big.pdf”" in refusal(excinfo) and "over the 1 KB limit" in refusal(excinfo)
    assert_nothing_recorded(draft, evidence_root)


def test_an_image_with_too_many_pixels_is_refused_before_it_is_decoded(
    draft, customer, evidence_root, monkeypatch
) -> None:
    monkeypatch.setattr(evidence_module, "MAX_IMAGE_PIXELS", 10_000)
    with pytest.raises(InvalidInput) as excinfo:
        add_file(draft, customer, "poster.png", samples.png_bytes(seed=11, size=(200, 100)))
    assert refusal(excinfo) == "“poster.png” is too large: 200 × 100 pixels (at most 10,000 pixels)."
    assert_nothing_recorded(draft, evidence_root)


def test_an_unknown_kind_is_refused(draft, customer, evidence_root) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        add_file(draft, customer, "a.png", samples.png_bytes(), kind="passport")
    assert "one of certificate_of_incorporation" in refusal(excinfo, "kind")
    assert_nothing_recorded(draft, evidence_root)


# --- names -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("..\\..\\Windows\\System32\\evil.png", "evil.png"),
        ("/var/www/html/index.png", "index.png"),
        ("inv\x00oi\x1bce\r\n.png", "invoice.png"),
        ("...hidden.png", "hidden.png"),
        ("  spaced \t  out .png", "spaced out .png"),
        ("Certificat d’immatriculation – société.png", "Certificat d’immatriculation – société.png"),
    ],
)
def test_names_are_sanitised_and_never_used_as_the_storage_key(draft, customer, evidence_root, name, expected) -> None:
    evidence = add_file(draft, customer, name, samples.png_bytes(seed=12))

    assert evidence.original_name == expected
    assert KEY_PATTERN.match(evidence.file.name), evidence.file.name
    # The object is inside the private folder, and nothing was written anywhere else.
    assert stored_files(evidence_root) == [evidence.file.name]
    assert not (evidence_root.parent / "etc").exists()


def test_an_overlong_name_is_shortened_keeping_its_extension(draft, customer) -> None:
    evidence = add_file(draft, customer, "a" * 300 + ".pdf", samples.pdf_bytes(seed=13))
    assert len(evidence.original_name) == 150
    assert evidence.original_name == "a" * 146 + ".pdf"


def test_sanitize_filename_leaves_no_path_separators_or_control_characters() -> None:
    for raw in ["../../x\x00.pdf", "C:\\x\\y.pdf", "\u202e\u200bx.pdf", "a/b/../c.pdf", "", "////", "\x7f\x85"]:
        clean = sanitize_filename(raw)
        assert clean
        assert "/" not in clean and "\\" not in clean
        assert not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F or ch in "\u202e\u200b" for ch in clean)
        assert not clean.startswith(".")


# --- per-request limits and duplicates ----------------------------------------------------------------


def test_the_same_file_twice_in_one_request_is_refused_naming_both(draft, customer, evidence_root) -> None:
    data = samples.pdf_bytes(seed=14)
    first = add_file(draft, customer, "incorporation.pdf", data)

    with pytest.raises(InvalidInput) as excinfo:
        add_file(draft, customer, "incorporation (1).pdf", data)

    assert refusal(excinfo) == (
        "“incorporation (1).pdf” is already attached to this request (the same file as “incorporation.pdf”)."
    )
    assert list(Evidence.objects.filter(request=draft)) == [first]
    assert stored_files(evidence_root) == [first.file.name]


def test_the_same_file_may_be_attached_to_two_different_requests(account, customer) -> None:
    from tests import factories

    data = samples.pdf_bytes(seed=15)
    one, two = factories.draft_for(account, customer), factories.draft_for(account, customer)
    add_file(one, customer, "c.pdf", data)
    add_file(two, customer, "c.pdf", data)
    assert Evidence.objects.filter(sha256=Evidence.objects.first().sha256).count() == 2


def test_a_duplicate_that_races_past_the_checks_is_refused_by_the_constraint_and_leaves_no_file(
    draft, customer, evidence_root, monkeypatch
) -> None:
    data = samples.png_bytes(seed=16)
    first = add_file(draft, customer, "a.png", data)
    real_check = evidence_module._check_not_duplicate
    calls = {"n": 0}

    def blind_for_two_calls(*args):
        # The pre-check and the locked check both miss the twin (as with two concurrent uploads).
        calls["n"] += 1
        if calls["n"] > 2:
            real_check(*args)

    monkeypatch.setattr(evidence_module, "_check_not_duplicate", blind_for_two_calls)
    with pytest.raises(InvalidInput) as excinfo:
        add_file(draft, customer, "b.png", data)
    assert "“b.png” is already attached" in refusal(excinfo)
    assert Evidence.objects.filter(request=draft).count() == 1
    assert stored_files(evidence_root) == [first.file.name]


def test_the_21st_item_is_refused_naming_the_file(submitted_request, customer, evidence_root) -> None:
    for number in range(19):
        evidence_add_link(
            request_id=submitted_request.pk,
            actor=customer,
            kind="press_mention",
            url=f"https://news.example/acme-{number}",
        )
    twentieth = add_file(submitted_request, customer, "twentieth.png", samples.png_bytes(seed=17))

    with pytest.raises(InvalidInput) as excinfo:
        add_file(submitted_request, customer, "twenty-first.pdf", samples.pdf_bytes(seed=18))
    assert refusal(excinfo) == (
        "“twenty-first.pdf” was not added: a request can have at most 20 evidence items, and this one already has 20."
    )
    with pytest.raises(InvalidInput) as excinfo:
        evidence_add_link(request_id=submitted_request.pk, actor=customer, kind="other", url="https://acme.example/x")
    assert refusal(excinfo, "url").startswith(
        "The link “https://acme.example/x” was not added: a request can have at most 20"
    )

    assert Evidence.objects.filter(request=submitted_request).count() == 20
    assert RequestTransition.objects.filter(request=submitted_request, transition="add_evidence").count() == 20
    assert stored_files(evidence_root) == [twentieth.file.name]


def test_a_file_that_would_pass_the_total_size_limit_is_refused(draft, customer, evidence_root, settings) -> None:
    first_data, second_data = samples.pdf_bytes(seed=19), samples.jpeg_bytes(seed=19)
    settings.EVIDENCE_MAX_REQUEST_BYTES = len(first_data) + len(second_data) - 1
    first = add_file(draft, customer, "first.pdf", first_data)

    with pytest.raises(InvalidInput) as excinfo:
        add_file(draft, customer, "second.jpg", second_data)
    message = refusal(excinfo)
    assert message.startswith("“second.jpg” was not added: the evidence of one request can total at most")
    assert f"the file is {evidence_module._human_size(len(second_data))}" in message
    assert stored_files(evidence_root) == [first.file.name]
    assert Evidence.objects.filter(request=draft).count() == 1


# --- links -------------------------------------------------------------------------------------------


def test_an_https_link_is_recorded_with_an_audit_row(submitted_request, customer) -> None:
    evidence = evidence_add_link(
        request_id=submitted_request.pk,
        actor=customer,
        kind="bbb_membership",
        url="  https://www.bbb.org/us/tx/austin/profile/acme-logistics  ",
    )
    assert evidence.url == "https://www.bbb.org/us/tx/austin/profile/acme-logistics"
    assert not evidence.file
    audit = RequestTransition.objects.get(request=submitted_request, transition="add_evidence")
    assert audit.actor == customer
    assert audit.note.endswith("https://www.bbb.org/us/tx/austin/profile/acme-logistics")


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("http://acme.example/certificate", "only https:// links are"),
        ("ftp://acme.example/certificate.pdf", "only https:// links are"),
        ("javascript:alert(document.cookie)", "only https:// links are"),
        ("https://" + "a" * 1990 + ".example/", "is 2,007 characters long; at most 2,000 are accepted"),
        ("https://paypal.com@evil.example/login", "contains a user name or password"),
        ("https://not a host/", "is not a valid https:// address"),
        ("", "Enter the link"),
    ],
)
def test_bad_links_are_refused_with_their_reason(submitted_request, customer, url, fragment) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        evidence_add_link(request_id=submitted_request.pk, actor=customer, kind="other", url=url)
    message = refusal(excinfo, "url")
    assert fragment in message, message
    if url and len(url) < 80:
        assert f"“{url}”" in message
    assert not Evidence.objects.filter(request=submitted_request).exists()
    assert not RequestTransition.objects.filter(request=submitted_request, transition="add_evidence").exists()


def test_the_same_link_twice_is_refused(draft, customer) -> None:
    evidence_add_link(request_id=draft.pk, actor=customer, kind="other", url="https://acme.example/about")
    with pytest.raises(InvalidInput) as excinfo:
        evidence_add_link(request_id=draft.pk, actor=customer, kind="other", url="https://acme.example/about")
    assert refusal(excinfo, "url") == "The link “https://acme.example/about” is already attached to this request."


# --- who and when: append-only until final ------------------------------------------------------------

OPEN_SITUATIONS = [
    ("draft", State.DRAFT),
    ("submitted_request", State.SUBMITTED),
    ("request_in_review", State.IN_REVIEW),
    ("awaiting_customer_request", State.AWAITING_CUSTOMER),
    ("rejected_request", State.REJECTED),
    ("reevaluation_requested_request", State.REEVALUATION_REQUESTED),
    ("request_in_reevaluation", State.IN_REEVALUATION),
]


@pytest.fixture
def rejected_final_request(request_in_reevaluation, senior):
    from tickets.services import request_reject_final

    return request_reject_final(
        request_id=request_in_reevaluation.pk, actor=senior, reason_code="unverifiable_business", note="Still parked."
    )


@pytest.fixture
def withdrawn_request(submitted_request, customer):
    from tickets.services import request_withdraw

    return request_withdraw(request_id=submitted_request.pk, actor=customer)


@pytest.mark.parametrize(("situation", "state"), OPEN_SITUATIONS)
def test_evidence_can_be_added_in_every_open_state_and_each_addition_is_audited(
    request, customer, situation, state
) -> None:
    req = request.getfixturevalue(situation)
    assert req.state == state
    before = RequestTransition.objects.filter(request=req).count()

    evidence = add_file(req, customer, "filing.pdf", samples.pdf_bytes(seed=20), kind="certificate_of_incorporation")
    link = evidence_add_link(request_id=req.pk, actor=customer, kind="press_mention", url="https://news.example/acme")

    audits = list(RequestTransition.objects.filter(request=req, transition="add_evidence").order_by("pk"))
    assert RequestTransition.objects.filter(request=req).count() == before + 2
    assert [(a.from_state, a.to_state, a.actor_id) for a in audits] == [(state, state, customer.pk)] * 2
    assert audits[0].note == "Certificate of incorporation: filing.pdf"
    assert audits[0].created_at == evidence.uploaded_at
    assert audits[1].note == "Press mention: https://news.example/acme"
    assert ReassessmentRequest.objects.get(pk=req.pk).state == state
    assert {e.pk for e in Evidence.objects.filter(request=req)} == {evidence.pk, link.pk}


@pytest.mark.parametrize("situation", ["approved_request", "rejected_final_request", "withdrawn_request"])
def test_evidence_is_refused_once_the_request_is_final(request, customer, evidence_root, situation) -> None:
    req = request.getfixturevalue(situation)
    state = req.state
    with pytest.raises(StateConflict, match="closed; evidence can no longer be added"):
        add_file(req, customer, "late.pdf", samples.pdf_bytes(seed=21))
    with pytest.raises(StateConflict):
        evidence_add_link(request_id=req.pk, actor=customer, kind="other", url="https://acme.example/late")
    # A closed request says so even when the file itself would be refused too.
    with pytest.raises(StateConflict):
        add_file(req, customer, "late.pdf", samples.EXE_BYTES)
    assert_nothing_recorded(req, evidence_root, state=state)


def test_an_outsider_gets_not_found_whatever_they_upload(submitted_request, outsider, evidence_root) -> None:
    for data in (samples.pdf_bytes(seed=22), samples.EXE_BYTES, b""):
        with pytest.raises(RequestNotFound):
            add_file(submitted_request, outsider, "x.pdf", data)
    with pytest.raises(RequestNotFound):
        evidence_add_link(request_id=submitted_request.pk, actor=outsider, kind="other", url="http://bad")
    with pytest.raises(RequestNotFound):
        add_file(ReassessmentRequest(pk=987654), outsider, "x.pdf", samples.pdf_bytes())
    assert_nothing_recorded(submitted_request, evidence_root)


def test_staff_do_not_add_evidence_for_the_customer(request_in_review, agent, manager, evidence_root) -> None:
    for staff in (agent, manager):
        with pytest.raises(ActorNotAllowed, match="added by the customer"):
            add_file(request_in_review, staff, "x.pdf", samples.pdf_bytes(seed=23))
    assert_nothing_recorded(request_in_review, evidence_root)


def test_evidence_can_be_removed_from_a_draft_and_its_file_goes_after_commit(
    draft, customer, evidence_root, django_capture_on_commit_callbacks
) -> None:
    evidence = add_file(draft, customer, "wrong.pdf", samples.pdf_bytes(seed=24))
    with django_capture_on_commit_callbacks(execute=True):
        evidence_delete_draft(evidence_id=evidence.pk, actor=customer)
    assert not Evidence.objects.filter(pk=evidence.pk).exists()
    assert stored_files(evidence_root) == []


@pytest.mark.parametrize(("situation", "state"), OPEN_SITUATIONS[1:])
def test_evidence_is_never_deleted_after_submit(request, customer, evidence_root, situation, state) -> None:
    req = request.getfixturevalue(situation)
    evidence = add_file(req, customer, "keep.pdf", samples.pdf_bytes(seed=25))
    with pytest.raises(StateConflict, match="cannot be removed once the request is submitted"):
        evidence_delete_draft(evidence_id=evidence.pk, actor=customer)
    assert Evidence.objects.filter(pk=evidence.pk).exists()
    assert stored_files(evidence_root) == [evidence.file.name]


def test_evidence_of_a_submitted_request_survives_the_draft_being_submitted(draft, customer) -> None:
    from tickets.services import request_submit

    evidence = add_file(draft, customer, "keep.pdf", samples.pdf_bytes(seed=26))
    request_submit(request_id=draft.pk, actor=customer)
    with pytest.raises(StateConflict):
        evidence_delete_draft(evidence_id=evidence.pk, actor=customer)


def test_outsiders_cannot_delete_draft_evidence(draft, customer, outsider) -> None:
    evidence = add_file(draft, customer, "mine.pdf", samples.pdf_bytes(seed=27))
    with pytest.raises(RequestNotFound):
        evidence_delete_draft(evidence_id=evidence.pk, actor=outsider)
    assert Evidence.objects.filter(pk=evidence.pk).exists()


# --- failures half-way ----------------------------------------------------------------------------------


def test_a_storage_outage_gives_a_clear_error_and_keeps_the_request_intact(
    submitted_request, customer, settings, evidence_root
) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {"BACKEND": f"{__name__}.BrokenStorage", "OPTIONS": {"location": str(evidence_root)}},
    }
    before = ReassessmentRequest.objects.filter(pk=submitted_request.pk).values().get()

    with pytest.raises(EvidenceStorageError) as excinfo:
        add_file(submitted_request, customer, "filing.pdf", samples.pdf_bytes(seed=28))

    assert str(excinfo.value) == (
        "“filing.pdf” could not be stored: the file store is not reachable right now. "
        "Nothing was saved and your request is unchanged; please try again in a few minutes."
    )
    assert ReassessmentRequest.objects.filter(pk=submitted_request.pk).values().get() == before
    assert_nothing_recorded(submitted_request, evidence_root, state=State.SUBMITTED)


def test_a_database_error_after_storing_deletes_the_stored_object(
    submitted_request, customer, evidence_root, monkeypatch
) -> None:
    def failing_audit(*args):
        assert len(stored_files(evidence_root)) == 1  # the object was stored before the failure
        raise DatabaseError("connection lost while recording")

    monkeypatch.setattr(evidence_module, "_audit", failing_audit)
    with pytest.raises(DatabaseError):
        add_file(submitted_request, customer, "filing.pdf", samples.pdf_bytes(seed=29))
    assert_nothing_recorded(submitted_request, evidence_root, state=State.SUBMITTED)


def test_a_request_closed_while_the_file_was_being_stored_keeps_no_file(
    submitted_request, customer, evidence_root, monkeypatch
) -> None:
    from tickets.models import evidence_storage
    from tickets.services import request_withdraw

    storage = evidence_storage()
    real_save = storage.save

    def save_then_withdraw(name, content, **kwargs):
        key = real_save(name, content, **kwargs)
        request_withdraw(request_id=submitted_request.pk, actor=customer)  # the customer, in another tab
        return key

    monkeypatch.setattr(storage, "save", save_then_withdraw)
    with pytest.raises(StateConflict):
        add_file(submitted_request, customer, "filing.pdf", samples.pdf_bytes(seed=30))
    assert_nothing_recorded(submitted_request, evidence_root, state=State.WITHDRAWN)


def test_the_orphan_sweep_removes_only_old_unreferenced_objects(draft, customer, evidence_root) -> None:
    kept = add_file(draft, customer, "kept.pdf", samples.pdf_bytes(seed=31))
    old_orphan = evidence_root / str(draft.pk) / ("a" * 32 + ".pdf")
    young_orphan = evidence_root / str(draft.pk) / ("b" * 32 + ".pdf")
    old_orphan.write_bytes(b"%PDF-left behind")
    young_orphan.write_bytes(b"%PDF-being recorded")
    two_hours_ago = time.time() - 7200
    os.utime(old_orphan, (two_hours_ago, two_hours_ago))
    os.utime(evidence_root / kept.file.name, (two_hours_ago, two_hours_ago))

    removed = evidence_remove_orphans()

    assert removed == [f"{draft.pk}/{'a' * 32}.pdf"]
    assert stored_files(evidence_root) == sorted([kept.file.name, f"{draft.pk}/{'b' * 32}.pdf"])


def test_the_orphan_sweep_copes_with_an_empty_store(db, evidence_root) -> None:
    assert evidence_remove_orphans() == []


# --- concurrency (PostgreSQL row locks) -------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("race", ["same-file", "last-free-slot"])
def test_two_concurrent_uploads_cannot_both_win_and_the_loser_leaves_no_file(
    draft, customer, evidence_root, settings, monkeypatch, race
) -> None:
    import threading

    from django.db import connection

    from tickets.models import evidence_storage

    if race == "last-free-slot":
        settings.EVIDENCE_MAX_ITEMS = 1
    storage = evidence_storage()
    real_save = storage.save
    both_stored = threading.Barrier(2, timeout=30)

    def save_and_wait(name, content, **kwargs):
        # Both uploads pass the cheap checks and store their object before either records it.
        key = real_save(name, content, **kwargs)
        both_stored.wait()
        return key

    monkeypatch.setattr(storage, "save", save_and_wait)
    payloads = (
        [samples.pdf_bytes(seed=40)] * 2
        if race == "same-file"
        else [samples.pdf_bytes(seed=41), samples.pdf_bytes(seed=42)]
    )
    outcomes: list[object] = []

    def upload(data: bytes, name: str) -> None:
        try:
            outcomes.append(add_file(draft, customer, name, data))
        except InvalidInput as refused:
            outcomes.append(refused)
        finally:
            connection.close()

    threads = [threading.Thread(target=upload, args=(data, f"{i}.pdf")) for i, data in enumerate(payloads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    winners = [o for o in outcomes if isinstance(o, Evidence)]
    losers = [o for o in outcomes if isinstance(o, InvalidInput)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    expected = "already attached" if race == "same-file" else "at most 1 evidence item,"
    assert expected in losers[0].errors["file"][0]
    assert stored_files(evidence_root) == [winners[0].file.name]
    assert Evidence.objects.filter(request=draft).count() == 1


def test_a_decompression_bomb_is_refused_as_too_large(draft, customer, evidence_root) -> None:
    from PIL import Image

    # 400 megapixels of one colour: a few hundred KB on disk, over a gigabyte once decoded.
    buffer = io.BytesIO()
    Image.new("L", (20_000, 20_000)).save(buffer, "PNG")
    with pytest.raises(InvalidInput) as excinfo:
        add_file(draft, customer, "bomb.png", buffer.getvalue())
    assert refusal(excinfo) == "“bomb.png” is too large: more than 50,000,000 pixels."
    assert_nothing_recorded(draft, evidence_root)


def test_the_orphan_command_reports_what_it_removed(draft, customer, evidence_root) -> None:
    from django.core.management import call_command

    add_file(draft, customer, "kept.pdf", samples.pdf_bytes(seed=32))
    orphan = evidence_root / str(draft.pk) / ("d" * 32 + ".png")
    orphan.write_bytes(b"\x89PNG left behind")
    three_hours_ago = time.time() - 3 * 3600
    os.utime(orphan, (three_hours_ago, three_hours_ago))
    out = io.StringIO()

    call_command("evidence_remove_orphans", "--older-than-minutes", "120", stdout=out)

    assert out.getvalue().splitlines() == [
        f"removed {draft.pk}/{'d' * 32}.png",
        "Removed 1 orphaned evidence object(s).",
    ]
    assert not orphan.exists()
    assert len(stored_files(evidence_root)) == 1


# --- uploads as Django receives them -----------------------------------------------------------------


def _parse_multipart(data: bytes, name: str):
    """request.FILES["file"] of a real multipart body, parsed with the configured upload handlers."""
    from django.test import RequestFactory

    request = RequestFactory().post("/upload/", {"kind": "other", "file": samples.upload(name, data)})
    return request.FILES["file"]


def test_an_oversized_multipart_upload_is_counted_not_kept_and_refused_with_its_size(
    draft, customer, evidence_root, settings
) -> None:
    settings.EVIDENCE_MAX_FILE_BYTES = 64 * 1024
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024  # past this Django would spool to a temporary file
    data = samples.pdf_bytes(seed=33) + b"\n%" + os.urandom(200 * 1024)  # ~200 KB

    received = _parse_multipart(data, "scan.pdf")

    assert received.size == len(data)
    assert received.read() == b""  # nothing of it was kept, in memory or on disk
    with pytest.raises(InvalidInput) as excinfo:
        evidence_add_file(request_id=draft.pk, actor=customer, kind="other", upload=received)
    assert refusal(excinfo) == (
        f"“scan.pdf” is {evidence_module._human_size(len(data))}, over the 64 KB limit for one file."
    )
    assert_nothing_recorded(draft, evidence_root)


@pytest.mark.parametrize("size_kb", [4, 40])  # in memory, and spooled to a temporary file
def test_a_multipart_upload_within_the_limit_is_accepted(draft, customer, settings, size_kb) -> None:
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024
    from PIL import Image

    side = {4: 24, 40: 120}[size_kb]
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, "PNG")
    received = _parse_multipart(buffer.getvalue(), "photo.png")
    evidence = evidence_add_file(request_id=draft.pk, actor=customer, kind="app_screenshot", upload=received)
    assert evidence.size == len(buffer.getvalue())


def test_the_configured_local_folder_keeps_files_readable_by_the_app_user_only(tmp_path, monkeypatch) -> None:
    import runpy
    import stat

    from django.core.files.base import ContentFile
    from django.utils.module_loading import import_string

    monkeypatch.delenv("EVIDENCE_S3_BUCKET", raising=False)  # the default: a local folder
    configured = runpy.run_path(str(Path(__file__).resolve().parents[2] / "casemgr" / "settings.py"))
    options = {**configured["STORAGES"]["evidence"]["OPTIONS"], "location": str(tmp_path / "evidence")}
    storage = import_string(configured["STORAGES"]["evidence"]["BACKEND"])(**options)

    key = storage.save("12/" + "e" * 32 + ".pdf", ContentFile(b"%PDF-private"))

    assert stat.S_IMODE((tmp_path / "evidence" / key).stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "evidence" / "12").stat().st_mode) == 0o700
