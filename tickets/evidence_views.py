"""The one download view for evidence (portal and admin): access is checked before anything else."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from .evidence import EvidenceStorageError, can_download, evidence_download_response
from .models import Evidence


@require_GET
def evidence_download(request: HttpRequest, pk: int) -> HttpResponse:
    # Anonymous visitors go to login before any lookup, so the redirect says nothing about whether
    # the id exists.
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    evidence = Evidence.objects.select_related("request__account").filter(pk=pk).first()
    # Outsiders get the same 404 as for evidence that does not exist.
    if evidence is None or not can_download(request.user, evidence):
        raise Http404("No such evidence.")
    try:
        return evidence_download_response(request, evidence, inline=request.GET.get("inline") == "1")
    except EvidenceStorageError as exc:
        response = HttpResponse(str(exc), status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = "60"
        response["Cache-Control"] = "no-store"
        return response
