"""Hardening: login lockout, CSRF on every form, throttles configured, user text always escaped."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import NoReverseMatch

from tests import factories
from tickets import services

PASSWORD = "correct horse battery staple"  # the factories' password
HOSTILE = "<script>alert(1)</script>"


# --- login lockout (django-axes) ------------------------------------------------------------


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    return settings


def _sign_in(client: Client, username: str, password: str, ip: str = "203.0.113.7"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_five_failed_sign_ins_lock_the_username_from_that_address(axes_on, customer) -> None:
    client = Client()
    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
        response = _sign_in(client, "carla", "wrong password")
        assert response.status_code == 200  # the form again, with its error
        assert "Please enter a correct username and password" in response.content.decode()
    locked = _sign_in(client, "carla", "wrong password")
    assert locked.status_code == 429
    # Now even the right password is refused, with a page that says what happened.
    refused = _sign_in(client, "carla", PASSWORD)
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "Too many failed sign-ins" in page
    assert "try again in a few minutes" in page.lower()
    assert "_auth_user_id" not in client.session


def test_a_lockout_is_per_username_and_address(axes_on, customer, teammate) -> None:
    client = Client()
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "carla", "wrong password")
    # Another user from the same address, and the same user from another address, still sign in.
    assert _sign_in(Client(), "tom", PASSWORD).status_code == 302
    assert _sign_in(Client(), "carla", PASSWORD, ip="198.51.100.9").status_code == 302


def test_a_successful_sign_in_resets_the_failure_count(axes_on, customer) -> None:
    client = Client()
    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(client, "carla", "wrong password")
    assert _sign_in(client, "carla", PASSWORD).status_code == 302
    client.logout()
    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
        assert _sign_in(client, "carla", "wrong password").status_code == 200
    assert _sign_in(client, "carla", PASSWORD).status_code == 302


# --- throttles ------------------------------------------------------------------------------


def test_per_user_throttles_for_submissions_and_uploads_are_configured() -> None:
    rates = django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    for scope in ("writes", "uploads"):
        count, _, period = rates[scope].partition("/")
        assert int(count) > 0 and period in {"second", "minute", "hour", "day"}


# --- CSRF -----------------------------------------------------------------------------------


def test_sign_in_form_without_a_csrf_token_is_refused(customer) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "carla", "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_portal_and_sign_out_forms_without_a_csrf_token_are_refused(customer, draft) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer)
    posts = ["/accounts/logout/", "/"]
    for name, kwargs in [
        ("portal:request_create", {}),
        ("portal:request_submit", {"reference": draft.reference}),
        ("portal:request_withdraw", {"reference": draft.reference}),
    ]:
        try:
            posts.append(reverse(name, kwargs=kwargs))
        except NoReverseMatch:
            pass  # that portal page is not built in this branch yet
    for path in posts:
        assert client.post(path, {"company_name": "x"}).status_code == 403, path
    assert client.get("/").status_code == 200  # still signed in: the refused logout did nothing
    draft.refresh_from_db()
    assert draft.state == "draft"


def _walk(patterns: list, prefix: str = "") -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found += _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            found.append((prefix + str(pattern.pattern), pattern.callback))
    return found


def test_no_view_opts_out_of_csrf_except_api_views_that_enforce_it_for_sessions() -> None:
    from rest_framework.authentication import SessionAuthentication

    exempt = []
    for route, callback in _walk(get_resolver().url_patterns):
        if not getattr(callback, "csrf_exempt", False):
            continue
        view_class = getattr(callback, "cls", None)
        if view_class is not None:
            # DRF views are csrf_exempt at Django's level and check CSRF in SessionAuthentication.
            auth = [cls for cls in view_class.authentication_classes if issubclass(cls, SessionAuthentication)]
            if all(cls.enforce_csrf is SessionAuthentication.enforce_csrf for cls in auth):
                continue
        if getattr(callback, "__name__", "") == "api_not_found":
            continue  # the API's JSON 404 for unknown paths: it reads and changes nothing
        exempt.append(route)
    assert exempt == []


# --- escaping -------------------------------------------------------------------------------


def test_hostile_company_and_account_names_are_escaped_on_the_portal(customer) -> None:
    account = factories.AccountFactory(name=HOSTILE, owner=customer)
    factories.RestrictionFactory(account=account)
    factories.draft_for(account, customer, company_name=HOSTILE)
    client = Client()
    client.force_login(customer)
    page = client.get("/").content.decode()
    assert HOSTILE not in page
    assert "<script>" not in page.lower().replace('<script src="', "")


def test_hostile_company_name_is_escaped_in_the_admin_change_page(customer, account) -> None:
    req = factories.draft_for(account, customer, company_name=HOSTILE)
    services.request_submit(request_id=req.pk, actor=customer)  # staff see submitted requests, not drafts
    admin_user = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    try:
        url = reverse("admin:tickets_reassessmentrequest_change", args=[req.pk])
    except NoReverseMatch:
        pytest.skip("the request admin is not registered in this branch (triage desk issue)")
    client = Client()
    client.force_login(admin_user)
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_hostile_names_are_escaped_in_html_emails(customer) -> None:
    from tickets import notifications

    account = factories.AccountFactory(name=HOSTILE, owner=customer)
    req = factories.draft_for(account, customer, company_name=HOSTILE)
    email = notifications.render("request_received", to=["carla@acme.example"], request=req)
    assert HOSTILE not in email.body_html
