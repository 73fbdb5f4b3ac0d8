"""The manager SLA report, checked against figures computed by hand.

The fixture below builds fourteen requests through the services, travelling in time with
`clock.frozen`, in April 2026 (no US public holiday, no DST change: every business day is a plain
24-hour Monday–Friday in America/Chicago). The report is read at NOW = Thursday 30 April 12:00 for
the range Monday 6 April – Sunday 3 May (weeks W1 Apr 6, W2 Apr 13, W3 Apr 20, W4 Apr 27).
Targets are 5 business days, breaches 7; "bd" = business days.

  A  Mon 6 09:00 submit; alice claims; approves Wed 8 09:00 (lift nothing: limited)
     cycle 1 used 2 bd, met (target Mon 13 09:00), first response 2 bd               -> W1 met
  B  Tue 7 09:00 submit; arthur claims; asks for info Thu 9 09:00 (used 2, first response 2);
     customer answers Mon 13 09:00 (paused 2 bd = 4 calendar days; target moves to Thu 16 09:00,
     breach Mon 20 09:00); arthur rejects Fri 17 09:00: used 2 + 4 = 6 bd, late            -> W2 late
     re-evaluation Mon 20 09:00 (target Mon 27, breach Wed 29); sam claims, approves Wed 22 15:00
     lifting both restrictions (lifted): used 2.25 bd, met, first response 2.25           -> W3 c2 met
  C  Wed 8 09:00 submit; alice claims; rejects Fri 10 09:00: 2 bd, met                  -> W1 met
     re-evaluation Mon 13 09:00 (target Mon 20, breach Wed 22); sofia claims; reject_final
     Thu 23 09:00: 8 bd, missed, first response 8                                         -> W3 c2 missed
  D  Mon 13 09:00 submit; customer withdraws Tue 14 09:00: 1 bd, met                    -> W2 met
  E  Tue 14 12:00 submit on an account with a risk signal; auto-rejected at once: 0, met -> W2 met
  F  Wed 15 09:00 submit; arthur claims; rejects with a zero-tolerance reason Wed 22 12:00:
     5.125 bd, late (target Wed 22 09:00, breach Fri 24 09:00); rejected final             -> W3 late
  G  Mon 20 09:00 submit; alice claims; open. Breach Wed 29 09:00 < NOW: breached, still open,
     used 8.125 bd                                                                        -> W4 breached
  H  Wed 22 09:00 submit (ISV account), unclaimed; target Wed 29 09:00 < NOW < breach Fri May 1:
     overdue, used 6.125 bd (1.125 past target)
  I  Fri 24 08:00 submit; arthur claims; target Fri May 1 08:00, at risk from Thu 30 08:00:
     at risk, used 4.1667 bd (0.8333 left)
  J  Mon 27 09:00 submit; alice claims; asks for info Tue 28 15:00: paused, used 1.25,
     first response 1.25
  K  Wed 29 09:00 submit (ISV account), unclaimed: running, used 1.125 bd
  L  Mon 6 12:00 submit; arthur claims; rejects Tue 7 12:00: 1 bd, met                  -> W1 met
     re-evaluation Fri 24 14:00; sam claims Mon 27: running, used 3.9167 bd
  M  Mon Mar 30 09:00 submit; alice approves Thu Apr 2 09:00: stopped before the range (excluded)
  N  Tue 21 09:00 submit (SMS only); sam claims; rejects Thu 23 09:00: 2 bd, met         -> W3 met

Compliance, first review: W1 3 met (100%); W2 2 met 1 late (66.7%); W3 1 met 1 late (50%);
W4 1 breached (0%); total 6 met, 2 late, 0 missed, 1 breached = 6/9 = 66.7%.
Re-evaluation: W3 1 met 1 missed (50%); total 50%.
Aging now: 0–2: K; 2–5: I, L; 5–7: H; over 7: G; paused: J.
Decisions (staff, stopped in range), bd: cycle 1 A 2, B 6, C 2, F 5.125, L 1, N 2 ->
median 2, p90 = 5.125 + 0.5 × 0.875 = 5.5625; cycle 2 B 2.25, C 8 -> median 5.125,
p90 2.25 + 0.9 × 5.75 = 7.425; all eight -> median 2.125, p90 6 + 0.3 × 2 = 6.6.
First responses in range: cycle 1 A 2, B 2, C 2, F 5.125, J 1.25, L 1, N 2 -> median 2,
p90 = 2 + 0.4 × 3.125 = 3.25; cycle 2 as decisions; all nine -> median 2, p90 5.125 + 0.2 × 2.875 = 5.7.
Agents: alice decided A, C (2 met) + G breached open -> 2/3; median 2; open G, J.
arthur decided B (late), F (late), L (met) -> 1/3; median 5.125; open I.
sam decided B2, N (2 met) -> 100%; median 2.125; open L. sofia decided C2 (missed) -> 0%; median 8.
Unassigned: open H, K.
Mix (10 cycles stopped in range): lifted 1 (B2), limited 1 (A), rejected 4 (B, C, L, N),
final 2 (F, C2), automatic 1 (E), withdrawn 1 (D). Re-evaluation rate 3/4 (B, C, L of B, C, L, N);
overturn rate 1/2 (B2 approved, C2 rejected).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories
from tickets import clock, services
from tickets.models import ReassessmentRequest
from tickets.reports import selectors
from tickets.reports.selectors import ReportParams
from tickets.screening import screen_request

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 4, 30, 12, 0, tzinfo=CHICAGO)
RANGE = {"date_from": "2026-04-06", "date_to": "2026-05-03"}
URL = "/reports/sla/"

pytestmark = pytest.mark.django_db


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=CHICAGO)


@dataclass
class World:
    requests: dict[str, ReassessmentRequest]
    alice: Any
    arthur: Any
    sam: Any
    sofia: Any


def _name(user: Any) -> str:
    return user.get_full_name() or user.get_username()


def step(when: datetime, fn: Any, **kwargs: Any) -> ReassessmentRequest:
    with clock.frozen(when):
        return fn(**kwargs)


def submitted(account: Any, owner: Any, when: datetime, **details: Any) -> ReassessmentRequest:
    with clock.frozen(when):
        draft = factories.draft_for(account, owner, **details)
        return services.request_submit(request_id=draft.pk, actor=owner)


@pytest.fixture
def world(customer, account, agent, agent2, senior, senior2) -> World:
    alice, arthur, sam, sofia = agent, agent2, senior, senior2
    r1 = factories.RestrictionFactory(account=account, kind="sms_blocked")
    r2 = factories.RestrictionFactory(account=account, kind="voice_blocked")
    isv_owner = factories.UserFactory(username="isaac")
    isv = factories.AccountFactory(name="Brandly", owner=isv_owner, is_isv=True)
    zero_owner = factories.UserFactory(username="zed")
    zero = factories.AccountFactory(name="Zero Deals", owner=zero_owner)
    factories.RiskSignalFactory(account=zero, kind="payment_flagged")
    s = services
    reqs: dict[str, ReassessmentRequest] = {}

    # M: before the range.
    m = submitted(account, customer, at(3, 30, 9), company_name="M")
    step(at(3, 30, 10), s.request_claim, request_id=m.pk, actor=alice)
    reqs["M"] = step(at(4, 2, 9), s.request_approve, request_id=m.pk, actor=alice, lift=[])

    a = submitted(account, customer, at(4, 6, 9), company_name="A")
    step(at(4, 6, 10), s.request_claim, request_id=a.pk, actor=alice)
    reqs["A"] = step(at(4, 8, 9), s.request_approve, request_id=a.pk, actor=alice, lift=[])

    b = submitted(account, customer, at(4, 7, 9), company_name="B")
    step(at(4, 7, 10), s.request_claim, request_id=b.pk, actor=arthur)
    step(at(4, 9, 9), s.request_request_info, request_id=b.pk, actor=arthur, message="Send your EIN, please.")
    step(at(4, 13, 9), s.request_provide_info, request_id=b.pk, actor=customer, message="Attached.")
    step(at(4, 17, 9), s.request_reject, request_id=b.pk, actor=arthur, reason_code="insufficient_details")
    step(at(4, 20, 9), s.request_request_reevaluation, request_id=b.pk, actor=customer, details="More proof.")
    step(at(4, 20, 10), s.request_claim_reevaluation, request_id=b.pk, actor=sam)

    c = submitted(account, customer, at(4, 8, 9), company_name="C")
    step(at(4, 8, 10), s.request_claim, request_id=c.pk, actor=alice)
    step(at(4, 10, 9), s.request_reject, request_id=c.pk, actor=alice, reason_code="unverifiable_business")
    step(at(4, 13, 9), s.request_request_reevaluation, request_id=c.pk, actor=customer, details="Website is live.")
    step(at(4, 13, 10), s.request_claim_reevaluation, request_id=c.pk, actor=sofia)
    reqs["C"] = step(at(4, 23, 9), s.request_reject_final, request_id=c.pk, actor=sofia,
                     reason_code="unverifiable_business")

    # B's re-evaluation approves after A's approval (outcomes depend on the account's restrictions).
    reqs["B"] = step(at(4, 22, 15), s.request_approve, request_id=b.pk, actor=sam, lift=[r1.pk, r2.pk])

    d = submitted(account, customer, at(4, 13, 9), company_name="D")
    reqs["D"] = step(at(4, 14, 9), s.request_withdraw, request_id=d.pk, actor=customer)

    e = submitted(zero, zero_owner, at(4, 14, 12), company_name="E")
    with clock.frozen(at(4, 14, 12)):
        screen_request(request_id=e.pk)
    reqs["E"] = e

    f = submitted(account, customer, at(4, 15, 9), company_name="F")
    step(at(4, 15, 10), s.request_claim, request_id=f.pk, actor=arthur)
    reqs["F"] = step(at(4, 22, 12), s.request_reject, request_id=f.pk, actor=arthur,
                     reason_code="zt_carrier_complaint")

    g = submitted(account, customer, at(4, 20, 9), company_name="G")
    reqs["G"] = step(at(4, 20, 10), s.request_claim, request_id=g.pk, actor=alice)

    reqs["H"] = submitted(isv, isv_owner, at(4, 22, 9), company_name="H")

    i = submitted(account, customer, at(4, 24, 8), company_name="I")
    reqs["I"] = step(at(4, 24, 9), s.request_claim, request_id=i.pk, actor=arthur)

    j = submitted(account, customer, at(4, 27, 9), company_name="J")
    step(at(4, 27, 10), s.request_claim, request_id=j.pk, actor=alice)
    reqs["J"] = step(at(4, 28, 15), s.request_request_info, request_id=j.pk, actor=alice, message="Which brand?")

    reqs["K"] = submitted(isv, isv_owner, at(4, 29, 9), company_name="K")

    lr = submitted(account, customer, at(4, 6, 12), company_name="L")
    step(at(4, 6, 13), s.request_claim, request_id=lr.pk, actor=arthur)
    step(at(4, 7, 12), s.request_reject, request_id=lr.pk, actor=arthur, reason_code="unverifiable_business")
    step(at(4, 24, 14), s.request_request_reevaluation, request_id=lr.pk, actor=customer, details="New filing.")
    reqs["L"] = step(at(4, 27, 9), s.request_claim_reevaluation, request_id=lr.pk, actor=sam)

    n = submitted(account, customer, at(4, 21, 9), company_name="N", services=["sms"])
    step(at(4, 21, 10), s.request_claim, request_id=n.pk, actor=sam)
    reqs["N"] = step(at(4, 23, 9), s.request_reject, request_id=n.pk, actor=sam, reason_code="high_risk_use_case")

    for key in reqs:
        reqs[key].refresh_from_db()
    return World(requests=reqs, alice=alice, arthur=arthur, sam=sam, sofia=sofia)


def params(**overrides: Any) -> ReportParams:
    values: dict[str, Any] = {"date_from": date(2026, 4, 6), "date_to": date(2026, 5, 3), "now": NOW}
    values.update(overrides)
    return ReportParams(**values)


# --- reading the page -------------------------------------------------------------------------------


class _Tables(HTMLParser):
    """Every <table id=...> as rows of cell texts; plus texts of elements with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.ids: dict[str, str] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._id_stack: list[tuple[str, str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "table":
            self._table = attributes.get("id") or f"table-{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" | ")
        if attributes.get("id") and tag in ("dd", "p", "span"):
            self._id_stack.append((tag, attributes["id"] or "", []))
        if tag == "p" and attributes.get("data-card"):
            self._id_stack.append((tag, f"card-{attributes['data-card']}", []))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(re.sub(r"\s+", " ", "".join(self._cell)).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            if self._row:
                self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        if self._id_stack and self._id_stack[-1][0] == tag:
            _, name, parts = self._id_stack.pop()
            self.ids[name] = re.sub(r"\s+", " ", "".join(parts)).strip()

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        for _, _, parts in self._id_stack:
            parts.append(data)


def read_page(html: str) -> _Tables:
    parser = _Tables()
    parser.feed(html)
    return parser


def get_page(client: Any, user: Any, **query: Any) -> Any:
    client.force_login(user)
    with clock.frozen(NOW):
        return client.get(URL, {**RANGE, **query})


def get_csv(client: Any, user: Any, table: str, **query: Any) -> list[list[str]]:
    client.force_login(user)
    with clock.frozen(NOW):
        response = client.get(f"/reports/sla/{table}.csv", {**RANGE, **query})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode())))


# --- the selectors ---------------------------------------------------------------------------------


def test_compliance_counts_each_week_for_first_reviews_and_reevaluations(world: World) -> None:
    first, second = selectors.compliance(params())
    assert [(w.week, w.met, w.late, w.missed, w.breached_open) for w in first.weeks] == [
        (date(2026, 4, 6), 3, 0, 0, 0),
        (date(2026, 4, 13), 2, 1, 0, 0),
        (date(2026, 4, 20), 1, 1, 0, 0),
        (date(2026, 4, 27), 0, 0, 0, 1),
    ]
    assert [w.success_rate for w in first.weeks] == [1.0, pytest.approx(2 / 3), 0.5, 0.0]
    assert (first.total.met, first.total.late, first.total.missed, first.total.breached_open) == (6, 2, 0, 1)
    assert first.total.success_rate == pytest.approx(6 / 9)
    assert [(w.met, w.late, w.missed, w.breached_open) for w in second.weeks] == [
        (0, 0, 0, 0), (0, 0, 0, 0), (1, 0, 1, 0), (0, 0, 0, 0)
    ]
    assert [w.success_rate for w in second.weeks] == [None, None, 0.5, None]
    assert second.total.success_rate == 0.5


def test_aging_buckets_open_requests_by_business_days_used_with_paused_apart(world: World) -> None:
    data = selectors.aging(params())
    assert [(key, n) for key, _, n in data.buckets] == [("0-2", 1), ("2-5", 2), ("5-7", 1), ("7+", 1), ("paused", 1)]
    assert data.total == 6


def test_attention_lists_requests_at_risk_overdue_and_breached_now(world: World) -> None:
    blocks = {b.status: b for b in selectors.attention(params())}
    r = world.requests
    assert [i.request.pk for i in blocks["at_risk"].items] == [r["I"].pk]
    assert [i.request.pk for i in blocks["overdue"].items] == [r["H"].pk]
    assert [i.request.pk for i in blocks["breached"].items] == [r["G"].pk]
    assert [b.count for b in blocks.values()] == [1, 1, 1]
    assert blocks["at_risk"].items[0].business_days_past_target == pytest.approx(-20 / 24)
    assert blocks["overdue"].items[0].business_days_past_target == pytest.approx(1.125)
    assert blocks["breached"].items[0].business_days_past_target == pytest.approx(3.125)
    assert blocks["breached"].items[0].admin_url == f"/admin/tickets/reassessmentrequest/{r['G'].pk}/change/"


def test_timing_gives_median_and_p90_business_days_per_cycle(world: World) -> None:
    rows = {(row.metric, row.cycle): (row.n, row.median_days, row.p90_days) for row in selectors.timing(params())}
    assert rows[("decision", 1)] == (6, pytest.approx(2.0), pytest.approx(5.5625))
    assert rows[("decision", 2)] == (2, pytest.approx(5.125), pytest.approx(7.425))
    assert rows[("decision", None)] == (8, pytest.approx(2.125), pytest.approx(6.6))
    assert rows[("first_response", 1)] == (7, pytest.approx(2.0), pytest.approx(3.25))
    assert rows[("first_response", 2)] == (2, pytest.approx(5.125), pytest.approx(7.425))
    assert rows[("first_response", None)] == (9, pytest.approx(2.0), pytest.approx(5.7))


def test_agents_table_counts_decisions_success_and_open_work(world: World) -> None:
    rows = {row.name: row for row in selectors.agents(params())}
    expected = {
        _name(world.alice): (2, 2, 1, pytest.approx(2 / 3), pytest.approx(2.0), 2),
        _name(world.arthur): (3, 1, 0, pytest.approx(1 / 3), pytest.approx(5.125), 1),
        _name(world.sam): (2, 2, 0, 1.0, pytest.approx(2.125), 1),
        _name(world.sofia): (1, 0, 0, 0.0, pytest.approx(8.0), 0),
        "Unassigned": (0, 0, 0, None, None, 2),
    }
    assert {
        name: (r.decided, r.met, r.breached_open, r.success_rate, r.median_days_to_decision, r.open_assigned)
        for name, r in rows.items()
    } == expected
    assert list(rows)[-1] == "Unassigned"


def test_decision_mix_and_reevaluation_and_overturn_rates(world: World) -> None:
    mix = selectors.decision_mix(params())
    assert [(key, n) for key, _, n in mix.rows] == [
        ("approved_lifted", 1), ("approved_limited", 1), ("rejected", 4), ("rejected_final", 2),
        ("auto_rejected", 1), ("withdrawn", 1),
    ]
    assert mix.total == 10
    assert (mix.reevaluated, mix.rejections_reevaluable, mix.reevaluation_rate) == (3, 4, 0.75)
    assert (mix.overturned, mix.reevaluations_decided, mix.overturn_rate) == (1, 2, 0.5)


def test_filters_narrow_every_figure(world: World) -> None:
    isv = params(isv=True)
    first, second = selectors.compliance(isv)
    assert first.total.counted == second.total.counted == 0
    assert [(k, n) for k, _, n in selectors.aging(isv).buckets] == [
        ("0-2", 1), ("2-5", 0), ("5-7", 1), ("7+", 0), ("paused", 0)
    ]
    assert [b.count for b in selectors.attention(isv)] == [0, 1, 0]

    voice = params(services=("voice",))  # N names SMS only
    first, _ = selectors.compliance(voice)
    assert (first.weeks[2].met, first.weeks[2].late) == (0, 1)
    assert selectors.decision_mix(voice).rejections_reevaluable == 3

    arthur = params(assignee=world.arthur.pk)
    first, second = selectors.compliance(arthur)
    assert (first.total.met, first.total.late, first.total.counted) == (1, 2, 3)
    assert second.total.counted == 0
    assert [(k, n) for k, _, n in selectors.aging(arthur).buckets][1] == ("2-5", 1)
    assert [r.name for r in selectors.agents(arthur)] == [_name(world.arthur)]

    nobody = params(assignee=selectors.UNASSIGNED)
    first, _ = selectors.compliance(nobody)
    assert (first.total.met, first.total.counted) == (2, 2)  # D withdrawn, E auto-rejected
    assert selectors.aging(nobody).total == 2  # H and K


# --- the page --------------------------------------------------------------------------------------


def test_page_shows_every_hand_computed_figure(client, manager, world: World) -> None:
    response = get_page(client, manager)
    assert response.status_code == 200
    page = read_page(response.content.decode())
    t = page.tables
    assert page.ids["card-1"] == "66.7%"
    assert page.ids["card-2"] == "50.0%"
    assert page.ids["card-3"] == "6"
    assert page.ids["card-4"] == "2.12"  # 2.125, rounded half to even
    assert t["compliance-table-1"] == [
        ["Week of", "Met", "Late", "Missed", "Breached, still open", "Counted", "Success rate"],
        ["Mon 6 Apr", "3", "0", "0", "0", "3", "100.0%"],
        ["Mon 13 Apr", "2", "1", "0", "0", "3", "66.7%"],
        ["Mon 20 Apr", "1", "1", "0", "0", "2", "50.0%"],
        ["Mon 27 Apr", "0", "0", "0", "1", "1", "0.0%"],
        ["Total", "6", "2", "0", "1", "9", "66.7%"],
    ]
    assert t["compliance-table-2"][1:] == [
        ["Mon 6 Apr", "0", "0", "0", "0", "0", "—"],
        ["Mon 13 Apr", "0", "0", "0", "0", "0", "—"],
        ["Mon 20 Apr", "1", "0", "1", "0", "2", "50.0%"],
        ["Mon 27 Apr", "0", "0", "0", "0", "0", "—"],
        ["Total", "1", "0", "1", "0", "2", "50.0%"],
    ]
    assert t["aging-table"][1:] == [
        ["0–2 business days", "1"],
        ["2–5 business days", "2"],
        ["5–7 business days", "1"],
        ["Over 7 business days", "1"],
        ["Paused (awaiting the customer)", "1"],
        ["All open requests", "6"],
    ]
    assert t["timing-table"][1:] == [
        ["Business days to decision: first review", "6", "2.00", "5.56"],
        ["Business days to decision: re-evaluation", "2", "5.12", "7.42"],
        ["Business days to decision: all cycles", "8", "2.12", "6.60"],
        ["Business days to first response: first review", "7", "2.00", "3.25"],
        ["Business days to first response: re-evaluation", "2", "5.12", "7.42"],
        ["Business days to first response: all cycles", "9", "2.00", "5.70"],
    ]
    team = {row[0]: row[1:] for row in t["team-table"][1:]}
    assert team == {
        _name(world.alice): ["2", "2", "1", "66.7%", "2.00", "2"],
        _name(world.arthur): ["3", "1", "0", "33.3%", "5.12", "1"],
        _name(world.sam): ["2", "2", "0", "100.0%", "2.12", "1"],
        _name(world.sofia): ["1", "0", "0", "0.0%", "8.00", "0"],
        "Unassigned": ["0", "0", "0", "—", "—", "2"],
    }
    assert t["decisions-table"][1:] == [
        ["Approved, restrictions lifted", "1", "10.0%"],
        ["Approved, restrictions limited", "1", "10.0%"],
        ["Rejected (re-evaluation possible)", "4", "40.0%"],
        ["Rejected, final", "2", "20.0%"],
        ["Rejected automatically (zero tolerance)", "1", "10.0%"],
        ["Withdrawn by the customer", "1", "10.0%"],
        ["All", "10", ""],
    ]
    assert page.ids["reevaluation-rate"] == "75.0%"
    assert page.ids["overturn-rate"] == "50.0%"
    r = world.requests
    assert t["attention-at_risk"][1:] == [
        [f"{r['I'].reference} | I", _name(world.arthur), "Fri May 01, 08:00 | 0.83 business days left"]
    ]
    assert t["attention-overdue"][1:] == [
        [f"{r['H'].reference} | H", "Unassigned", "Fri May 01, 09:00 | 1.12 business days past target"]
    ]
    assert t["attention-breached"][1:] == [
        [f"{r['G'].reference} | G", _name(world.alice), "Wed Apr 29, 09:00 | 3.12 business days past target"]
    ]
    html = response.content.decode()
    for key in ("G", "H", "I"):
        assert f'href="/admin/tickets/reassessmentrequest/{r[key].pk}/change/"' in html
    # Two compliance charts and the aging histogram, as inline SVG with a text alternative.
    assert html.count('<svg class="chart"') == 3
    assert "First review: 6 met, 2 late, 0 missed and 1 breached still open over 4 weeks" in html
    assert "0–2 business days: 1; 2–5 business days: 2; 5–7 business days: 1" in html


def test_csv_exports_match_the_hand_computed_figures(client, manager, world: World) -> None:
    assert get_csv(client, manager, "compliance") == [
        ["cycle", "week_start", "met", "late", "missed", "breached_still_open", "counted", "success_rate"],
        ["First review", "2026-04-06", "3", "0", "0", "0", "3", "1"],
        ["First review", "2026-04-13", "2", "1", "0", "0", "3", "0.6667"],
        ["First review", "2026-04-20", "1", "1", "0", "0", "2", "0.5"],
        ["First review", "2026-04-27", "0", "0", "0", "1", "1", "0"],
        ["First review", "total", "6", "2", "0", "1", "9", "0.6667"],
        ["Re-evaluation", "2026-04-06", "0", "0", "0", "0", "0", ""],
        ["Re-evaluation", "2026-04-13", "0", "0", "0", "0", "0", ""],
        ["Re-evaluation", "2026-04-20", "1", "0", "1", "0", "2", "0.5"],
        ["Re-evaluation", "2026-04-27", "0", "0", "0", "0", "0", ""],
        ["Re-evaluation", "total", "1", "0", "1", "0", "2", "0.5"],
    ]
    assert get_csv(client, manager, "aging") == [
        ["bucket", "label", "open_requests"],
        ["0-2", "0–2 business days", "1"],
        ["2-5", "2–5 business days", "2"],
        ["5-7", "5–7 business days", "1"],
        ["7+", "Over 7 business days", "1"],
        ["paused", "Paused (awaiting the customer)", "1"],
        ["total", "All open requests", "6"],
    ]
    assert get_csv(client, manager, "timing") == [
        ["metric", "cycle", "count", "median_business_days", "p90_business_days"],
        ["decision", "first_review", "6", "2", "5.5625"],
        ["decision", "reevaluation", "2", "5.125", "7.425"],
        ["decision", "all", "8", "2.125", "6.6"],
        ["first_response", "first_review", "7", "2", "3.25"],
        ["first_response", "reevaluation", "2", "5.125", "7.425"],
        ["first_response", "all", "9", "2", "5.7"],
    ]
    agents = get_csv(client, manager, "agents")
    assert agents[0] == [
        "agent", "decided", "met", "breached_still_open", "success_rate", "median_business_days_to_decision",
        "open_assigned",
    ]
    assert {row[0]: row[1:] for row in agents[1:]} == {
        _name(world.alice): ["2", "2", "1", "0.6667", "2", "2"],
        _name(world.arthur): ["3", "1", "0", "0.3333", "5.125", "1"],
        _name(world.sam): ["2", "2", "0", "1", "2.125", "1"],
        _name(world.sofia): ["1", "0", "0", "0", "8", "0"],
        "Unassigned": ["0", "0", "0", "", "", "2"],
    }
    assert get_csv(client, manager, "decisions") == [
        ["kind", "label", "count", "share"],
        ["approved_lifted", "Approved, restrictions lifted", "1", "0.1"],
        ["approved_limited", "Approved, restrictions limited", "1", "0.1"],
        ["rejected", "Rejected (re-evaluation possible)", "4", "0.4"],
        ["rejected_final", "Rejected, final", "2", "0.2"],
        ["auto_rejected", "Rejected automatically (zero tolerance)", "1", "0.1"],
        ["withdrawn", "Withdrawn by the customer", "1", "0.1"],
        ["total", "All decisions and withdrawals", "10", "1"],
        ["reevaluation_rate", "Re-evaluable rejections that were re-evaluated", "3", "0.75"],
        ["overturn_rate", "Re-evaluations decided that approved", "1", "0.5"],
    ]
    r = world.requests
    attention = get_csv(client, manager, "attention")
    assert [(row[0], row[1], row[6], row[10]) for row in attention[1:]] == [
        ("at_risk", r["I"].reference, _name(world.arthur), "-0.8333"),
        ("overdue", r["H"].reference, "", "1.125"),
        ("breached", r["G"].reference, _name(world.alice), "3.125"),
    ]
    assert attention[3][2] == f"/admin/tickets/reassessmentrequest/{r['G'].pk}/change/"
    assert attention[3][9] == "2026-04-29T09:00:00-05:00"


def test_per_request_csv_has_one_row_per_cycle_active_in_the_range(client, manager, world: World) -> None:
    rows = get_csv(client, manager, "requests")
    header, body = rows[0], rows[1:]
    col = {name: index for index, name in enumerate(header)}
    by_ref = {r.reference: key for key, r in world.requests.items()}
    found = {
        (by_ref[row[col["reference"]]], int(row[col["cycle"]])): (
            row[col["status_now"]],
            row[col["business_days_used"]],
            row[col["business_days_to_first_response"]],
            row[col["paused_business_days"]],
            row[col["paused_calendar_days"]],
            row[col["agent"]],
            row[col["decision_outcome"]],
        )
        for row in body
    }
    alice, arthur, sam, sofia = (_name(u) for u in (world.alice, world.arthur, world.sam, world.sofia))
    assert found == {
        ("A", 1): ("met", "2", "2", "0", "0", alice, "limited"),
        ("B", 1): ("late", "6", "2", "2", "4", arthur, ""),
        ("B", 2): ("met", "2.25", "2.25", "0", "0", sam, "lifted"),
        ("C", 1): ("met", "2", "2", "0", "0", alice, ""),
        ("C", 2): ("missed", "8", "8", "0", "0", sofia, ""),
        ("D", 1): ("met", "1", "", "0", "0", "", ""),
        ("E", 1): ("met", "0", "", "0", "0", "", ""),
        ("F", 1): ("late", "5.125", "5.125", "0", "0", arthur, ""),
        ("G", 1): ("breached", "8.125", "", "0", "0", alice, ""),
        ("H", 1): ("overdue", "6.125", "", "0", "0", "", ""),
        ("I", 1): ("at_risk", "4.1667", "", "0", "0", arthur, ""),
        ("J", 1): ("paused", "1.25", "1.25", "0", "0", alice, ""),
        ("K", 1): ("running", "1.125", "", "0", "0", "", ""),
        ("L", 1): ("met", "1", "1", "0", "0", arthur, ""),
        ("L", 2): ("running", "3.9167", "", "0", "0", sam, ""),
        ("N", 1): ("met", "2", "2", "0", "0", sam, ""),
    }
    assert len(body) == 16  # M stopped before the range
    b_ref = world.requests["B"].reference
    b1 = next(row for row in body if row[col["reference"]] == b_ref and row[col["cycle"]] == "1")
    assert b1[col["started_at"]] == "2026-04-07T09:00:00-05:00"
    assert b1[col["target_at"]] == "2026-04-16T09:00:00-05:00"
    assert b1[col["breach_at"]] == "2026-04-20T09:00:00-05:00"
    assert b1[col["stop_transition"]] == "reject"


def test_filters_apply_to_the_page_and_the_csv(client, manager, world: World) -> None:
    page = read_page(get_page(client, manager, isv="yes").content.decode())
    assert page.ids["card-3"] == "2"
    assert page.tables["compliance-table-1"][-1] == ["Total", "0", "0", "0", "0", "0", "—"]
    rows = get_csv(client, manager, "requests", isv="yes")
    assert sorted(row[0] for row in rows[1:]) == sorted([world.requests["H"].reference, world.requests["K"].reference])
    page = read_page(get_page(client, manager, assignee=str(world.arthur.pk), services=["voice"]).content.decode())
    assert page.tables["compliance-table-1"][-1] == ["Total", "1", "2", "0", "0", "3", "33.3%"]


def test_an_invalid_range_shows_an_error_and_the_default_report(client, manager, world: World) -> None:
    response = get_page(client, manager, date_from="2026-05-03", date_to="2026-04-06")
    assert response.status_code == 200
    assert "The end of the range must not be before its start." in response.content.decode()
    assert response.context["params"].date_to == date(2026, 4, 30)  # the default range ends today


def test_the_page_runs_a_fixed_number_of_queries_whatever_the_row_count(
    client, manager, world: World, customer, account, agent
) -> None:
    client.force_login(manager)

    def count() -> int:
        with clock.frozen(NOW), CaptureQueriesContext(connection) as queries:
            assert client.get(URL, RANGE).status_code == 200
        return len(queries)

    before = count()
    # Twenty more requests in every kind of situation.
    for day in range(6, 26):
        req = submitted(account, customer, at(4, day if day % 7 not in (4, 5) else day - 2, 9), company_name=f"X{day}")
        if day % 3 == 0:
            step(at(4, 28, 9), services.request_claim, request_id=req.pk, actor=agent)
        if day % 3 == 1:
            step(at(4, 28, 9), services.request_claim, request_id=req.pk, actor=agent)
            step(at(4, 28, 10), services.request_reject, request_id=req.pk, actor=agent, reason_code="other")
    after = count()
    assert before == after
    assert after <= 25


def test_csv_export_runs_a_fixed_number_of_queries(client, manager, world: World, customer, account) -> None:
    client.force_login(manager)

    def count(table: str) -> int:
        with clock.frozen(NOW), CaptureQueriesContext(connection) as queries:
            response = client.get(f"/reports/sla/{table}.csv", RANGE)
            b"".join(response.streaming_content) if response.streaming else response.content
        return len(queries)

    before = {table: count(table) for table in ("requests", "attention", "agents")}
    for day in (6, 7, 8, 9, 10):
        submitted(account, customer, at(4, day, 9), company_name=f"Y{day}")
    assert {table: count(table) for table in ("requests", "attention", "agents")} == before


def test_csv_cells_that_look_like_formulas_are_neutralised(client, manager, customer, account) -> None:
    submitted(account, customer, at(4, 27, 9), company_name="=HYPERLINK(\"http://evil.example\")")
    rows = get_csv(client, manager, "attention")
    assert len(rows) == 1  # nothing needs attention; the per-request file carries the company via account
    account.name = "@SUM(A1)"
    account.save()
    rows = get_csv(client, manager, "requests")
    assert rows[1][2] == "'@SUM(A1)"


def test_unknown_csv_table_is_not_found(client, manager) -> None:
    client.force_login(manager)
    assert client.get("/reports/sla/nope.csv").status_code == 404


# --- permissions -------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client) -> None:
    for url in (URL, "/reports/sla/requests.csv"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("persona", ["customer", "outsider", "agent", "senior", "compliance"])
def test_only_managers_may_read_the_report(client, request, persona: str) -> None:
    user = request.getfixturevalue(persona)
    client.force_login(user)
    for url in (URL, "/reports/sla/requests.csv", "/reports/sla/agents.csv"):
        response = client.get(url)
        assert response.status_code == 403, (persona, url)
        assert b"RR-" not in response.content


def test_a_manager_without_the_staff_flag_is_refused(client, manager) -> None:
    manager.is_staff = False
    manager.save()
    client.force_login(manager)
    assert client.get(URL).status_code == 403


def test_superusers_and_managers_may_read_the_report(client, manager) -> None:
    admin = get_user_model().objects.create_superuser("root", "root@desk.example", "pw-root-123456")
    for user in (manager, admin):
        client.force_login(user)
        assert client.get(URL).status_code == 200
        assert client.get("/reports/sla/requests.csv").status_code == 200


def test_percentiles_interpolate_like_percentile_cont(world: World) -> None:
    from django.db.models import F

    from tickets.models import SlaCycle
    from tickets.reports.percentiles import percentiles

    # Business seconds used of the stopped cycles, grouped by cycle number: the same definition on
    # PostgreSQL (percentile_cont) and SQLite (window functions).
    qs = SlaCycle.objects.filter(stopped_at__isnull=False, request__company_name__in=["A", "B", "C", "L"])
    day = 86_400
    result = percentiles(qs, F("business_seconds_used"), {"grp": F("number")})
    # cycle 1: A 2, B 6, C 2, L 1 -> sorted 1, 2, 2, 6: median 2, p90 at 2.7 -> 2 + 0.7 * 4 = 4.8
    assert result[(1,)] == {"n": 4, "p50": pytest.approx(2 * day), "p90": pytest.approx(4.8 * day)}
    # cycle 2: B 2.25, C 8 (L's is still running: NULL, left out)
    assert result[(2,)]["n"] == 2
    assert percentiles(qs.filter(number=2, request__company_name="B"), F("business_seconds_used")) == {
        (): {"n": 1, "p50": pytest.approx(2.25 * day), "p90": pytest.approx(2.25 * day)}
    }
    assert percentiles(qs.none(), F("business_seconds_used")) == {}


def test_the_header_links_managers_to_the_report_and_not_agents(client, manager, agent) -> None:
    client.force_login(manager)
    page = client.get("/reports/sla/").content.decode()
    assert 'href="/reports/sla/">SLA report</a>' in page and "Triage desk" in page
    client.force_login(agent)
    page = client.get("/accounts/password_change/").content.decode()
    assert "Triage desk" in page and "SLA report</a>" not in page
