from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tickets.models import ReassessmentRequest


@login_required
def home(request: HttpRequest) -> HttpResponse:
    requests = ReassessmentRequest.objects.for_customer(request.user).select_related("account")
    return render(request, "portal/home.html", {"requests": requests})
