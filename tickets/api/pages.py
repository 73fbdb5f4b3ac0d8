"""The API tokens page (/api/tokens/): signed-in customers create and revoke their tokens without
calling the API by hand. A new key is rendered in the response to the POST that created it and
never again (it is not kept in the session or anywhere else)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, resolve
from django.views.decorators.common import no_append_slash
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import ApiToken

from .authentication import token_create, token_revoke
from .views import MAX_ACTIVE_TOKENS

MAX_NAME_LENGTH = 100


@login_required
@require_http_methods(["GET", "POST"])
def tokens_page(request: HttpRequest) -> HttpResponse:
    context: dict[str, object] = {"new_key": None, "error": None, "name": ""}
    if request.method == "POST":
        name = (request.POST.get("name") or "").strip()
        active = ApiToken.objects.filter(user=request.user, revoked_at__isnull=True).count()
        if not name:
            context["error"] = "Give the token a name, e.g. “billing console”."
        elif len(name) > MAX_NAME_LENGTH or "\x00" in name:
            context["error"] = f"The name must be at most {MAX_NAME_LENGTH} characters."
        elif active >= MAX_ACTIVE_TOKENS:
            context["error"] = f"You have {active} active tokens; revoke one before creating another."
        else:
            token, key = token_create(user=request.user, name=name)
            context["new_key"] = key
            context["new_token"] = token
        context["name"] = name if context["error"] else ""
    context["tokens"] = ApiToken.objects.filter(user=request.user)
    response = render(request, "api/tokens.html", context, status=400 if context["error"] else 200)
    # The page may show a key: never cache it.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke_page(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    token_revoke(token=token)
    messages.success(request, f"The token “{token.name}” was revoked.")
    return redirect("api:tokens-page")


@no_append_slash
def api_not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Unknown /api/v1/ paths answer JSON, not the site's HTML 404. Without this, a path missing its
    final slash would be redirected (a POST would lose its body) or, with DEBUG, crash."""
    detail = "No such endpoint; see /api/docs/."
    candidate = f"{request.path}/"
    if not request.path.endswith("/"):
        try:
            match = resolve(candidate)
        except Resolver404:
            match = None
        if match is not None and match.url_name != "not-found":
            detail = f"No such endpoint: API paths end with a slash ({candidate})."
    return JsonResponse({"detail": detail}, status=404)
