from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "Accounts and restrictions"

    def ready(self) -> None:
        from . import roles

        # Permission rows only exist after every app's migrations ran, so grants happen here.
        post_migrate.connect(roles.grant_role_permissions, dispatch_uid="accounts.grant_role_permissions")
