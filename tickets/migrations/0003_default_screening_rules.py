"""Default content-screening rules from the ISV compliance rules (seed 003): the prohibited
categories and the public URL shorteners. Compliance edits them in the admin."""

from __future__ import annotations

from django.db import migrations

KEYWORDS = {
    "financial": ["mortgage", "loan", "payday loan", "credit repair", "debt collection", "debt relief",
                  "debt consolidation", "cash advance", "credit score"],
    "investment": ["stock alert", "stock tip", "crypto", "cryptocurrency", "bitcoin", "forex",
                   "high-risk investment", "trading signal", "penny stock"],
    "marketing": ["lead generation", "affiliate marketing", "MLM", "multi-level marketing", "network marketing"],
    "employment": ["work from home", "job posting", "hiring now", "earn money from home", "be your own boss"],
    "real_estate": ["real estate", "homes for sale", "property for sale", "realtor", "property management"],
    "gambling": ["gambling", "casino", "sweepstakes", "betting", "lottery", "poker", "jackpot"],
    "regulated": ["tobacco", "vape", "vaping", "e-cigarette", "cannabis", "marijuana", "CBD", "THC",
                  "illegal drugs", "alcohol", "beer", "liquor", "firearm", "ammunition", "guns",
                  "adult content", "escort", "hate speech"],
}
PUBLIC_SHORTENERS = ["bit.ly", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly", "rebrand.ly",
                     "cutt.ly", "shorturl.at", "tiny.cc", "bl.ink", "t.ly", "rb.gy", "s.id", "v.gd", "shorte.st"]


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
