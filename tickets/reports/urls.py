from __future__ import annotations

from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("sla/", views.sla_report, name="sla"),
    path("sla/<slug:table>.csv", views.sla_csv, name="sla_csv"),
]
