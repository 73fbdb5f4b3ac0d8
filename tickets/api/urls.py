"""/api/: v1 endpoints, the OpenAPI schema and its interactive docs (assets served locally)."""

from __future__ import annotations

from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import pages, views

app_name = "api"

_ref = "v1/requests/<str:reference>"
_staff_ref = "v1/staff/requests/<str:reference>"

urlpatterns = [
    path("v1/me/", views.MeView.as_view(), name="me"),
    path("v1/tokens/", views.TokenListView.as_view(), name="tokens"),
    path("v1/tokens/<int:pk>/", views.TokenDetailView.as_view(), name="token-detail"),
    path("v1/requests/", views.RequestListView.as_view(), name="requests"),
    path(f"{_ref}/", views.RequestDetailView.as_view(), name="request-detail"),
    path(f"{_ref}/evidence/", views.RequestEvidenceView.as_view(), name="request-evidence"),
    path(f"{_ref}/evidence/<int:pk>/download/", views.EvidenceDownloadView.as_view(), name="evidence-download"),
    path(f"{_ref}/messages/", views.RequestMessagesView.as_view(), name="request-messages"),
    path(f"{_ref}/submit/", views.RequestSubmitView.as_view(), name="request-submit"),
    path(f"{_ref}/provide-info/", views.RequestProvideInfoView.as_view(), name="request-provide-info"),
    path(
        f"{_ref}/request-reevaluation/",
        views.RequestRequestReevaluationView.as_view(),
        name="request-request-reevaluation",
    ),
    path(f"{_ref}/withdraw/", views.RequestWithdrawView.as_view(), name="request-withdraw"),
    path("v1/staff/requests/", views.StaffRequestListView.as_view(), name="staff-requests"),
    path(f"{_staff_ref}/", views.StaffRequestDetailView.as_view(), name="staff-request-detail"),
    path(f"{_staff_ref}/messages/", views.StaffMessagesView.as_view(), name="staff-request-messages"),
    path(
        f"{_staff_ref}/evidence/<int:pk>/download/",
        views.StaffEvidenceDownloadView.as_view(),
        name="staff-evidence-download",
    ),
    path(f"{_staff_ref}/claim/", views.StaffClaimView.as_view(), name="staff-request-claim"),
    path(f"{_staff_ref}/request-info/", views.StaffRequestInfoView.as_view(), name="staff-request-request-info"),
    path(f"{_staff_ref}/approve/", views.StaffApproveView.as_view(), name="staff-request-approve"),
    path(f"{_staff_ref}/reject/", views.StaffRejectView.as_view(), name="staff-request-reject"),
    path(
        f"{_staff_ref}/claim-reevaluation/",
        views.StaffClaimReevaluationView.as_view(),
        name="staff-request-claim-reevaluation",
    ),
    path(f"{_staff_ref}/reject-final/", views.StaffRejectFinalView.as_view(), name="staff-request-reject-final"),
    path("tokens/", pages.tokens_page, name="tokens-page"),
    path("tokens/<int:pk>/revoke/", pages.token_revoke_page, name="token-revoke-page"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    # Last: anything else under v1 is a JSON 404 (csrf_exempt: it changes nothing).
    re_path(r"^v1/(?P<rest>.*)$", csrf_exempt(pages.api_not_found), name="not-found"),
]
