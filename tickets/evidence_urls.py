from __future__ import annotations

from django.urls import path

from . import evidence_views

app_name = "evidence"
urlpatterns = [
    path("<int:pk>/download/", evidence_views.evidence_download, name="download"),
]
