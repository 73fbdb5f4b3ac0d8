from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from . import views

admin.site.site_header = "Reassessment desk"
admin.site.site_title = "Reassessment desk"
admin.site.index_title = "Triage"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("evidence/", include("tickets.evidence_urls")),
    path("api/", include("tickets.api.urls")),
    path("reports/", include("tickets.reports.urls")),
    path("", include("tickets.portal.urls")),
]
