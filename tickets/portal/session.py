"""Which customer account the portal is showing: the user's own accounts only, the current one
kept in the session (ISV users act for several sub-accounts)."""

from __future__ import annotations

from django.http import HttpRequest

from accounts.models import Account, accounts_for_user

SESSION_KEY = "portal_account_id"


def portal_accounts(request: HttpRequest) -> list[Account]:
    """The signed-in user's accounts, loaded once per request."""
    cached = getattr(request, "_portal_accounts", None)
    if cached is None:
        cached = list(accounts_for_user(request.user).order_by("name", "pk")) if request.user.is_authenticated else []
        request._portal_accounts = cached  # type: ignore[attr-defined]
    return cached


def current_account(request: HttpRequest) -> Account | None:
    """The account chosen in the session, if it is still one of the user's, else the first."""
    accounts = portal_accounts(request)
    if not accounts:
        return None
    chosen = request.session.get(SESSION_KEY)
    for account in accounts:
        if account.pk == chosen:
            return account
    return accounts[0]


def set_current_account(request: HttpRequest, account_id: int | str | None) -> Account | None:
    """Switch to `account_id` when it is one of the user's accounts; returns it, or None."""
    try:
        wanted = int(account_id) if account_id not in (None, "") else None
    except (TypeError, ValueError):
        return None
    for account in portal_accounts(request):
        if account.pk == wanted:
            request.session[SESSION_KEY] = account.pk
            return account
    return None
