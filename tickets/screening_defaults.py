"""The default content-screening rules from the ISV compliance rules (seed 003): the prohibited
categories and the public URL shorteners. Compliance edits them in the admin."""

from __future__ import annotations

from typing import Any

KEYWORDS = {
    "financial": [
        "mortgage",
        "loan",
        "payday loan",
        "credit repair",
        "debt collection",
        "debt relief",
        "debt consolidation",
        "cash advance",
        "credit score",
    ],
    "investment": [
        "stock alert",
        "stock tip",
        "crypto",
        "cryptocurrency",
        "bitcoin",
        "forex",
        "high-risk investment",
        "trading signal",
        "penny stock",
    ],
    "marketing": ["lead generation", "affiliate marketing", "MLM", "multi-level marketing", "network marketing"],
    "employment": ["work from home", "job posting", "hiring now", "earn money from home", "be your own boss"],
    "real_estate": ["real estate", "homes for sale", "property for sale", "realtor", "property management"],
    "gambling": ["gambling", "casino", "sweepstakes", "betting", "lottery", "poker", "jackpot"],
    "regulated": [
        "tobacco",
        "vape",
        "vaping",
        "e-cigarette",
        "cannabis",
        "marijuana",
        "CBD",
        "THC",
        "illegal drugs",
        "alcohol",
        "beer",
        "liquor",
        "firearm",
        "ammunition",
        "guns",
        "adult content",
        "escort",
        "hate speech",
    ],
}
PUBLIC_SHORTENERS = [
    "bit.ly",
    "tinyurl.com",
    "t.co",
    "goo.gl",
    "ow.ly",
    "is.gd",
    "buff.ly",
    "rebrand.ly",
    "cutt.ly",
    "shorturl.at",
    "tiny.cc",
    "bl.ink",
    "t.ly",
    "rb.gy",
    "s.id",
    "v.gd",
    "shorte.st",
]


def ensure_default_rules(sender: Any = None, **kwargs: Any) -> None:
    """post_migrate: put the defaults back when the rule table is empty (a fresh database, or a
    test runner that flushed it). A table with any rule is left exactly as compliance keeps it."""
    from .models import ScreeningRule

    using = kwargs.get("using", "default")
    if ScreeningRule.objects.using(using).exists():
        return
    rows = [
        ScreeningRule(category=category, match_type="keyword", pattern=pattern)
        for category, words in KEYWORDS.items()
        for pattern in words
    ]
    rows += [
        ScreeningRule(
            category="public_shortener",
            match_type="domain",
            pattern=domain,
            description="Public URL shorteners are not allowed.",
        )
        for domain in PUBLIC_SHORTENERS
    ]
    ScreeningRule.objects.using(using).bulk_create(rows, ignore_conflicts=True)
