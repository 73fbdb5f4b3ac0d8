"""Default content-screening rules from the ISV compliance rules (seed 003): the prohibited
categories and the public URL shorteners. Compliance edits them in the admin."""

from __future__ import annotations

from django.db import migrations

from tickets.screening_defaults import KEYWORDS, PUBLIC_SHORTENERS


def add_rules(apps, schema_editor):  # noqa: ANN001, ANN201
    Rule = apps.get_model("tickets", "ScreeningRule")  # noqa: N806
    rows = [Rule(category=c, match_type="keyword", pattern=p) for c, words in KEYWORDS.items() for p in words]
    rows += [Rule(category="public_shortener", match_type="domain", pattern=d,
                  description="Public URL shorteners are not allowed.") for d in PUBLIC_SHORTENERS]
    Rule.objects.bulk_create(rows, ignore_conflicts=True)


def remove_rules(apps, schema_editor):  # noqa: ANN001, ANN201
    apps.get_model("tickets", "ScreeningRule").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_finality_triggers")]
    operations = [migrations.RunPython(add_rules, remove_rules)]
