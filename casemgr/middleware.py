"""Cross-cutting HTTP behaviour: the Content-Security-Policy header and one structured log line
per request (with a request id that is also sent back, so a user's report can be found)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

request_logger = logging.getLogger("casemgr.request")

# Accept a proxy's request id only if it looks like one (it ends up in logs and a header).
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class ContentSecurityPolicyMiddleware:
    """Adds the configured Content-Security-Policy header unless a view set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY
        return response


class RequestLogMiddleware:
    """Logs method, path, status, duration and user id as fields of one record (JSON in
    production), tagged with a request id taken from X-Request-ID or made up, and echoed back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        if request.path == "/healthz" and response.status_code == 200:
            return response  # probes every few seconds would drown the log
        user = getattr(request, "user", None)
        request_logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "user_id": user.pk if user is not None and user.is_authenticated else None,
                "remote_addr": request.META.get("REMOTE_ADDR", ""),
            },
        )
        return response
