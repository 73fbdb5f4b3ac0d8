from __future__ import annotations

from django.http import HttpRequest

from .models import Restriction, accounts_for_user


def restriction_alerts(request: HttpRequest) -> dict[str, object]:
    """Active restrictions of the signed-in customer's accounts, for the alert on every page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or request.path.startswith(("/admin/", "/api/")):
        return {}

    def load() -> list[Restriction]:
        return list(
            Restriction.objects.filter(
                account__in=accounts_for_user(user), status=Restriction.Status.ACTIVE
            ).select_related("account")
        )

    # Lazy: pages that never render the alert pay nothing.
    from django.utils.functional import SimpleLazyObject

    return {"active_restrictions": SimpleLazyObject(load)}
