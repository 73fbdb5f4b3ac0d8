"""Per-user throttles of writes (API_WRITE_THROTTLE) and uploads (API_UPLOAD_THROTTLE).

DRF answers a throttled call with 429 and a `Retry-After` header. The rate is read from the
settings at each call (DRF's class attribute is frozen at import), so a changed setting applies.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle


class _SettingsRateThrottle(UserRateThrottle):
    def get_rate(self) -> str | None:
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError:
            raise ImproperlyConfigured(f"REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'] has no rate for {self.scope!r}.")


class WriteThrottle(_SettingsRateThrottle):
    """Every write (POST, PATCH, DELETE) of one user counts; reads are free."""

    scope = "writes"

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)


class UploadThrottle(WriteThrottle):
    """Evidence uploads, on top of the write throttle: storage is the expensive part."""

    scope = "uploads"
