from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .models import Restriction


def restriction_alerts(request: HttpRequest) -> dict[str, Any]:
    """For every portal page: the user's accounts (for the switcher), the current one, and the
    active restrictions of the user's accounts (for the alert). Lazy, so pages that never render
    them pay nothing; loaded once per request."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or request.path.startswith(("/admin/", "/api/")):
        return {}

    # The portal owns the session's notion of the current account; import late to keep
    # accounts free of a hard dependency on the tickets app at import time.
    from tickets.portal.session import current_account, portal_accounts

    def load_restrictions() -> list[Restriction]:
        accounts = portal_accounts(request)
        if not accounts:
            return []
        return list(
            Restriction.objects.filter(account_id__in=[a.pk for a in accounts], status=Restriction.Status.ACTIVE)
            .select_related("account")
            .order_by("account__name", "-applied_at", "-pk")
        )

    return {
        "active_restrictions": SimpleLazyObject(load_restrictions),
        "portal_accounts": SimpleLazyObject(lambda: portal_accounts(request)),
        "current_account": SimpleLazyObject(lambda: current_account(request) or ""),
        "sla_timezone": settings.SLA_TIMEZONE,
    }


def staff_links(request: HttpRequest) -> dict[str, object]:
    """Which staff pages the header links to."""
    from .roles import is_manager

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {}
    return {"can_see_sla_report": is_manager(user)}
