"""One error format for the whole API, and the mapping of domain errors to HTTP.

- 400: `{field: [messages]}` (a body-level problem uses `non_field_errors`);
- 401, 403, 404, 409, 429, 503: `{"detail": message}`.

Domain errors (tickets.errors) map as DESIGN §8 says; the database refusing a write (the finality
trigger, a lost race, a deadlock) is a 409, never a 500.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import DatabaseError, IntegrityError, OperationalError
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from tickets.errors import ActorNotAllowed, InvalidInput, RequestNotFound, StateConflict, TransitionRefused
from tickets.evidence import EvidenceStorageError
from tickets.models import FinalRequestError

logger = logging.getLogger(__name__)

CONCURRENT_CHANGE = "This request was changed at the same time by someone else; reload it and try again."
STORAGE_RETRY_SECONDS = 30
_LOCK_WORDS = ("deadlock", "lock", "serializ", "could not obtain")


def _detail(message: str, code: int, headers: dict[str, str] | None = None) -> Response:
    return Response({"detail": message}, status=code, headers=headers)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, InvalidInput):
        return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RequestNotFound):
        return _detail(exc.message, status.HTTP_404_NOT_FOUND)
    if isinstance(exc, ActorNotAllowed):
        return _detail(exc.message, status.HTTP_403_FORBIDDEN)
    if isinstance(exc, (StateConflict, TransitionRefused)):
        return _detail(exc.message, status.HTTP_409_CONFLICT)
    if isinstance(exc, FinalRequestError):
        return _detail(str(exc), status.HTTP_409_CONFLICT)
    if isinstance(exc, EvidenceStorageError):
        return _detail(str(exc), status.HTTP_503_SERVICE_UNAVAILABLE, {"Retry-After": str(STORAGE_RETRY_SECONDS)})
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"non_field_errors": ["The request body is too large. Send files as multipart uploads (`file`)."]},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, SuspiciousOperation):
        return Response({"non_field_errors": ["The request could not be read."]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, IntegrityError):
        # The finality trigger or a constraint hit by a concurrent change: nothing was written.
        logger.warning("API write refused by the database: %s", exc)
        return _detail(CONCURRENT_CHANGE, status.HTTP_409_CONFLICT)
    if isinstance(exc, OperationalError) and any(word in str(exc).lower() for word in _LOCK_WORDS):
        logger.warning("API write lost a race: %s", exc)
        return _detail(CONCURRENT_CHANGE, status.HTTP_409_CONFLICT)
    if isinstance(exc, DatabaseError):
        logger.exception("database unavailable during an API call")
        return _detail(
            "The service is temporarily unavailable; nothing was changed. Please try again shortly.",
            status.HTTP_503_SERVICE_UNAVAILABLE,
            {"Retry-After": str(STORAGE_RETRY_SECONDS)},
        )

    response = exception_handler(exc, context)
    if response is None:
        return None
    if response.status_code == status.HTTP_400_BAD_REQUEST:
        response.data = _field_errors(response.data)
    elif isinstance(exc, exceptions.Throttled):
        response.data = {"detail": f"Too many requests; try again in {exc.wait or 1:.0f} seconds."}
    elif not (isinstance(response.data, dict) and set(response.data) == {"detail"}):
        response.data = {"detail": str(response.data)}
    return response


def _field_errors(data: Any) -> dict[str, list[str]]:
    """Flatten DRF's error shapes into `{field: [messages]}`."""
    if isinstance(data, dict):
        if set(data) == {"detail"}:
            return {"non_field_errors": [str(data["detail"])]}
        flat: dict[str, list[str]] = {}
        for field, messages in data.items():
            if isinstance(messages, (list, tuple)):
                flat[str(field)] = [str(m) for m in _leaves(messages)]
            elif isinstance(messages, dict):
                flat[str(field)] = [str(m) for m in _leaves(list(messages.values()))]
            else:
                flat[str(field)] = [str(messages)]
        return flat
    if isinstance(data, (list, tuple)):
        return {"non_field_errors": [str(m) for m in _leaves(list(data))]}
    return {"non_field_errors": [str(data)]}


def _leaves(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if isinstance(item, dict):
            out.extend(_leaves(list(item.values())))
        elif isinstance(item, (list, tuple)):
            out.extend(_leaves(list(item)))
        else:
            out.append(item)
    return out


# --- the documented shapes ---------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """401, 403, 404, 409, 429 and 503 answers."""

    detail = serializers.CharField(help_text="What went wrong, in words a person can act on.")


# 400 answers: each key is a field name (or `non_field_errors`), each value its messages. A raw
# schema, because the shape is an object whose keys are the fields of the input.
FIELD_ERRORS = {
    "type": "object",
    "description": "Each key is a field name (or `non_field_errors`); each value lists what is wrong with it.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
