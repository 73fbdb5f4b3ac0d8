"""Create the four role groups. Their permissions are granted by accounts.roles in post_migrate,
because permission rows do not exist yet while migrations run."""

from __future__ import annotations

from django.db import migrations

ROLES = ("Accounts team", "Senior reviewers", "Managers", "Compliance")


def create_groups(apps, schema_editor):  # noqa: ANN001, ANN201
    Group = apps.get_model("auth", "Group")  # noqa: N806
    for name in ROLES:
        Group.objects.using(schema_editor.connection.alias).get_or_create(name=name)


def remove_groups(apps, schema_editor):  # noqa: ANN001, ANN201
    Group = apps.get_model("auth", "Group")  # noqa: N806
    Group.objects.using(schema_editor.connection.alias).filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create_groups, remove_groups)]
