from __future__ import annotations

from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("account/switch/", views.switch_account, name="switch_account"),
    path("requests/new/", views.request_new, name="request_new"),
    path("requests/<str:reference>/", views.request_detail, name="request_detail"),
    path("requests/<str:reference>/edit/", views.request_edit, name="request_edit"),
    path("requests/<str:reference>/review/", views.request_review, name="request_review"),
    path("requests/<str:reference>/evidence/", views.evidence_add, name="evidence_add"),
    path("requests/<str:reference>/evidence/<int:pk>/delete/", views.evidence_delete, name="evidence_delete"),
    path("requests/<str:reference>/reply/", views.request_reply, name="request_reply"),
    path("requests/<str:reference>/message/", views.request_message, name="request_message"),
    path("requests/<str:reference>/reevaluate/", views.request_reevaluate, name="request_reevaluate"),
    path("requests/<str:reference>/withdraw/", views.request_withdraw_view, name="request_withdraw"),
]
