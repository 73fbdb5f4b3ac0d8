"""Screening on submit (DESIGN §6).

Zero tolerance: any risk signal of the account (payment flagged, carrier complaint, phishing or
spam, number hoarding) auto-rejects the request, finally. Content screening: the sample message,
use case details and website are matched against the editable ScreeningRule lists (the ISV
prohibited categories and URL shorteners); each match becomes a ScreeningFlag that reviewers see
with the matched text. Flags never reject by themselves and are never shown to the customer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlparse

from django.conf import settings
from django.db import transaction

from accounts.models import RiskSignal

from . import clock
from .models import RISK_SIGNAL_REASONS, ReassessmentRequest, ScreeningFlag, ScreeningRule, State

logger = logging.getLogger(__name__)

SCREENED_FIELDS = ("sample_message", "use_case_details", "company_website")
# Order of precedence when an account has several signals: the first found decides the reason.
SIGNAL_ORDER = ("phishing_or_spam", "carrier_complaint", "payment_flagged", "number_hoarding")

_LINK = re.compile(
    r"(?:(?:https?://)?(?P<host>(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}))(?::\d+)?(?P<path>/[^\s\"'<>]*)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Finding:
    category: str
    field: str
    matched_text: str
    rule_id: int | None


def keyword_pattern(phrase: str) -> re.Pattern[str]:
    """Whole words, any case, flexible spaces/hyphens, with an optional plural ending."""
    words = [re.escape(word) for word in re.split(r"[\s-]+", phrase.strip()) if word]
    body = r"[\s-]+".join(words)
    return re.compile(rf"(?<!\w){body}(?:s|es)?(?!\w)", re.IGNORECASE)


def links_in(text: str) -> Iterable[tuple[str, str]]:
    """(host, matched text) for every link-like token, e.g. bit.ly/x or https://a.example/b."""
    for match in _LINK.finditer(text or ""):
        yield match.group("host").lower().rstrip("."), match.group(0)


def host_matches(host: str, domain: str) -> bool:
    domain = domain.lower().strip().lstrip(".")
    return host == domain or host.endswith("." + domain)


def find_matches(values: dict[str, str], rules: Iterable[ScreeningRule]) -> list[Finding]:
    findings: list[Finding] = []
    seen: set[tuple[str, str, str]] = set()
    rules = list(rules)
    for field, text in values.items():
        if not text:
            continue
        if field == "company_website":
            host = (urlparse(text).hostname or "").lower()
            links = [(host, text)] if host else []
        else:
            links = list(links_in(text))
        for rule in rules:
            matches: list[str] = []
            if rule.match_type == ScreeningRule.MatchType.DOMAIN:
                matches = [matched for host, matched in links if host_matches(host, rule.pattern)]
            elif field != "company_website":
                if rule.match_type == ScreeningRule.MatchType.KEYWORD:
                    pattern = keyword_pattern(rule.pattern)
                else:
                    try:
                        pattern = re.compile(rule.pattern, re.IGNORECASE)
                    except re.error:
                        logger.warning("screening rule %s has an invalid regex; skipped", rule.pk)
                        continue
                matches = [m.group(0) for m in pattern.finditer(text) if m.group(0)]
            for matched in matches:
                key = (rule.category, field, matched.lower())
                if key not in seen:
                    seen.add(key)
                    findings.append(Finding(rule.category, field, matched[:500], rule.pk))
    return findings


def content_findings(req: ReassessmentRequest) -> list[Finding]:
    values = {field: getattr(req, field) or "" for field in SCREENED_FIELDS}
    return find_matches(values, ScreeningRule.objects.filter(is_active=True).order_by("pk"))


def zero_tolerance_signal(req: ReassessmentRequest) -> RiskSignal | None:
    signals = {s.kind: s for s in RiskSignal.objects.filter(account_id=req.account_id).order_by("recorded_at")}
    for kind in SIGNAL_ORDER:
        if kind in signals:
            return signals[kind]
    return None


@transaction.atomic
def screen_request(*, request_id: int) -> ReassessmentRequest | None:
    """Screen a submitted request once: record content flags, then auto-reject on a zero-tolerance
    risk signal. Safe to run twice (the second run does nothing)."""
    from .services import request_auto_reject

    req = ReassessmentRequest.objects.select_for_update().filter(pk=request_id).first()
    if req is None or req.screened_at is not None or req.state == State.DRAFT or req.is_final:
        return req
    findings = content_findings(req)
    ScreeningFlag.objects.bulk_create(
        ScreeningFlag(request=req, category=f.category, field=f.field, matched_text=f.matched_text, rule_id=f.rule_id)
        for f in findings
    )
    req.screened_at = clock.now()
    req.save(update_fields=["screened_at", "updated_at"])
    signal = zero_tolerance_signal(req)
    if signal is not None and req.state == State.SUBMITTED:
        return request_auto_reject(
            request_id=req.pk,
            reason_code=RISK_SIGNAL_REASONS[signal.kind],
            note=f"Risk signal #{signal.pk}: {signal.get_kind_display()}.",
        )
    return req


def enqueue_screening(request_id: int) -> None:
    """After the submit commits: screen on a worker, or inline when SCREENING_INLINE is set.
    If the broker is unreachable the sweep screens the request later."""
    if settings.SCREENING_INLINE:
        screen_request(request_id=request_id)
        return
    from .tasks import screen_request_task

    try:
        screen_request_task.delay(request_id)
    except Exception:  # noqa: BLE001 - any broker failure; the sweep picks unscreened requests up
        logger.warning("could not enqueue screening of request %s; the sweep will do it", request_id)
