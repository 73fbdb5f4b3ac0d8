"""API authentication: per-user tokens (hashed at rest) and the portal's session.

A key is shown once, when it is created; the database keeps only its sha256 and a short prefix
that lets a person tell their tokens apart. Clients send `Authorization: Token <key>` (or
`Bearer <key>`). The token class comes first in DEFAULT_AUTHENTICATION_CLASSES so that an
unauthenticated request gets a 401 with `WWW-Authenticate` rather than a 403.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts.models import ApiToken

KEY_PREFIX = "cmk_"
PREFIX_LENGTH = 12  # "cmk_" + 8 characters of the secret: enough to recognise a token in a list
KEYWORDS = ("token", "bearer")
# Writing last_used_at on every call would turn each read into a write; once a minute is enough
# to tell a person which tokens are still in use.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def token_create(*, user: Any, name: str) -> tuple[ApiToken, str]:
    """Create a token for `user`; returns (token, key). The key is never stored or shown again."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=key[:PREFIX_LENGTH], key_hash=hash_key(key))
    return token, key


def token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke a token (kept, for the record of when it was used)."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Token <key>` or `Authorization: Bearer <key>`."""

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts:
            return None
        try:
            keyword = parts[0].decode("ascii").lower()
        except UnicodeError:
            return None
        if keyword not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send the header as `Authorization: Token <key>`.")
        try:
            key = parts[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed("This API token is not valid.") from None
        token = ApiToken.objects.select_related("user").filter(key_hash=hash_key(key)).first()
        if token is None:
            raise exceptions.AuthenticationFailed("This API token is not valid.")
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This API token was revoked.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("This user account is disabled.")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Token realm="api"'


def is_session_request(request: Request) -> bool:
    """True when the caller signed in to the portal (not a token)."""
    return isinstance(request.successful_authenticator, SessionAuthentication)
