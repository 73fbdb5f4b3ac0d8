"""The benchmark harness behind `make bench` (`manage.py bench`).

It seeds PostgreSQL up to a million requests (tickets.demo.bulk_requests), then measures, each
figure the median of several runs:

- customer submissions through HTTP against gunicorn on 127.0.0.1: create a draft, upload two
  evidence files, submit (the DESIGN §8 API paths in SUBMISSION_FLOW; change them there if the API
  moves), as submissions/s with the p50/p95 latency of the whole flow;
- the staff queue at 25 and 100 rows a page: the admin changelist and the staff API list, latency
  and query count (in-process, so queries can be counted);
- an idle SLA sweep, and a sweep that fires 10,000 events, with query counts;
- the SLA report page.

A page or endpoint that does not exist yet prints "n/a (endpoint missing)" instead of failing.
"""

from __future__ import annotations

import io
import logging
import math
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from accounts.models import Account, Restriction
from accounts.roles import ACCOUNTS_TEAM, MANAGERS

from . import demo, sweep
from .models import Notification, ReassessmentRequest

ROOT = Path(__file__).resolve().parent.parent
MISSING = "n/a (endpoint missing)"
BENCH_PASSWORD = "bench-" + "pass-2026-xZ"

# The customer's HTTP flow. {ref} is the reference the create call returns.
SUBMISSION_FLOW = {
    "login": "/accounts/login/",
    "create": "/api/v1/requests/",
    "evidence": "/api/v1/requests/{ref}/evidence/",
    "submit": "/api/v1/requests/{ref}/submit/",
}
STAFF_PAGES = {
    "admin changelist": "/admin/tickets/reassessmentrequest/",
    "staff API list": "/api/v1/staff/requests/",
}
SLA_REPORT = "/reports/sla/"
DRAFT_DETAILS: dict[str, Any] = {
    "company_name": "Bench Logistics LLC",
    "company_website": "https://bench-logistics.example",
    "use_case": "order_tracking",
    "services": ["sms"],
    "sample_message": "Bench: your order 4411 is out for delivery today. Reply STOP to opt out.",
    "destination_countries": ["US"],
    "estimated_monthly_units": 25000,
    "estimated_monthly_spend": "420.00",
}


class BenchError(Exception):
    """A benchmark that cannot run (not PostgreSQL, gunicorn does not start, ...)."""


@dataclass
class Figure:
    section: str
    metric: str
    value: str
    note: str = ""


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)
    machine: list[str] = field(default_factory=list)

    def add(self, section: str, metric: str, value: str, note: str = "") -> None:
        self.figures.append(Figure(section, metric, value, note))

    def table(self) -> str:
        lines = ["| what | measure | median | notes |", "|---|---|---|---|"]
        lines += [f"| {f.section} | {f.metric} | {f.value} | {f.note} |" for f in self.figures]
        return "\n".join(lines)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    # Nearest rank: the smallest value with at least pct% of the values at or below it.
    index = min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))
    return ordered[index]


# --- machine -------------------------------------------------------------------------------------


def machine_lines() -> list[str]:
    mem_gb = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = f"{int(line.split()[1]) / 1024 / 1024:.1f}"
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return [
        f"machine: {os.cpu_count()} cores, {mem_gb} GB RAM, {platform.platform()}",
        f"PostgreSQL {pg_version}, Python {platform.python_version()}, Django {django.get_version()}",
        f"load average at start: {load} (the box may be shared: compare runs on the same machine)",
        f"in-process figures with DEBUG={settings.DEBUG}; gunicorn always runs with DEBUG=False",
    ]


# --- data --------------------------------------------------------------------------------------


def ensure_postgres() -> None:
    if connection.vendor != "postgresql":
        raise BenchError(
            "make bench needs PostgreSQL: it seeds 1,000,000 requests and measures the production "
            "database. Set DATABASE_URL=postgres://user@host:5432/dbname (SQLite is for make run and "
            "the tests)."
        )


def ensure_requests(target: int, write: Callable[[str], None]) -> tuple[int, float | None]:
    """Top the database up to `target` requests. Returns (count, seconds spent seeding or None)."""
    have = ReassessmentRequest.objects.count()
    elapsed = None
    if have < target:
        write(f"Seeding {target - have:,} requests (have {have:,}) ...")
        started = time.perf_counter()
        demo.bulk_requests(target - have, write=write)
        elapsed = time.perf_counter() - started
    # Fresh planner statistics, as autovacuum would have them on a live system: bulk loads and
    # earlier bench runs leave them stale, and stale estimates pick sequential scans.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return ReassessmentRequest.objects.count(), elapsed


def bench_user(username: str, *, groups: list[str] = (), staff: bool = False) -> Any:  # type: ignore[assignment]
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(username=username, defaults={"email": f"{username}@bench.local"})
    user.is_staff = staff
    user.set_password(BENCH_PASSWORD)
    user.save()
    if groups:
        user.groups.set(Group.objects.filter(name__in=groups))
    return user


def bench_customers(count: int) -> list[str]:
    """Customers with one restricted account each, so each can file requests."""
    names = []
    for n in range(count):
        user = bench_user(f"bench-customer-{n}")
        account, created = Account.objects.get_or_create(name=f"Bench account {n}", defaults={"owner": user})
        if created:
            Restriction.objects.create(account=account, kind="sms_blocked", source="signup_risk")
        names.append(user.username)
    return names


# --- evidence files ----------------------------------------------------------------------------


def unique_pdf() -> bytes:
    """A small PDF that parses, unique per call (evidence with the same sha256 is refused)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    writer.add_metadata({"/Title": f"Certificate {uuid.uuid4()}"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def unique_png() -> bytes:
    from PIL import Image

    image = Image.new("RGB", (64, 48), tuple(secrets.token_bytes(3)))
    image.putpixel((0, 0), tuple(secrets.token_bytes(3)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# --- gunicorn --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn_server(workers: int, write: Callable[[str], None]) -> Iterator[str]:
    """gunicorn with the production settings (DEBUG off, WhiteNoise manifest) on 127.0.0.1."""
    port = free_port()
    var_dir = Path(tempfile.mkdtemp(prefix="casemgr-bench-"))
    env = {
        **os.environ,
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "False",
        "CASEMGR_VAR_DIR": str(var_dir),
        "EMAIL_URL": "dummy://",
        "LOG_LEVEL": "WARNING",
        # The bench measures throughput, not the per-user throttles.
        "API_WRITE_THROTTLE": "1000000/hour",
        "API_UPLOAD_THROTTLE": "1000000/hour",
        "AXES_ENABLED": "False",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
    }
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if collect.returncode != 0:
        raise BenchError(f"collectstatic failed: {collect.stderr[-2000:]}")
    log = (var_dir / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        import requests

        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise BenchError(f"gunicorn exited: see {var_dir / 'gunicorn.log'}")
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise BenchError(f"gunicorn did not answer /healthz within 60 s: see {var_dir / 'gunicorn.log'}")
            time.sleep(0.3)
        write(f"gunicorn: {workers} workers on {base}")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


# --- the customer's HTTP flow -------------------------------------------------------------------


class EndpointMissing(Exception):
    pass


def signed_in_session(base: str, username: str) -> Any:
    """A signed-in client that talks to gunicorn as the TLS proxy would: plain HTTP with
    X-Forwarded-Proto: https, so the production settings (secure cookies, strict CSRF referer
    checks) apply unchanged."""
    import requests

    class ProxiedSession(requests.Session):
        def send(self, request: Any, **kwargs: Any) -> Any:
            response = super().send(request, **kwargs)
            for cookie in self.cookies:
                cookie.secure = False  # the proxy, not this client, holds the TLS connection
            return response

    session = ProxiedSession()
    session.headers["X-Forwarded-Proto"] = "https"
    session.headers["Referer"] = base.replace("http://", "https://") + "/"
    session.get(base + SUBMISSION_FLOW["login"], timeout=30)
    response = session.post(
        base + SUBMISSION_FLOW["login"],
        data={"username": username, "password": BENCH_PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        timeout=30,
        allow_redirects=False,
    )
    if response.status_code != 302:
        raise BenchError(f"could not sign in {username}: HTTP {response.status_code}")
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
    return session


def submission_flow(session: Any, base: str, files: tuple[bytes, bytes]) -> float:
    """Create, upload two files, submit. Returns seconds; raises EndpointMissing on a 404/405."""
    started = time.perf_counter()
    created = session.post(base + SUBMISSION_FLOW["create"], json=DRAFT_DETAILS, timeout=60)
    if created.status_code in (404, 405):
        raise EndpointMissing(SUBMISSION_FLOW["create"])
    if created.status_code != 201:
        raise BenchError(f"create: HTTP {created.status_code} {created.text[:300]}")
    reference = created.json()["reference"]
    for kind, name, content, mime in (
        ("certificate_of_incorporation", "certificate.pdf", files[0], "application/pdf"),
        ("app_screenshot", "screenshot.png", files[1], "image/png"),
    ):
        uploaded = session.post(
            base + SUBMISSION_FLOW["evidence"].format(ref=reference),
            data={"kind": kind},
            files={"file": (name, content, mime)},
            timeout=60,
        )
        if uploaded.status_code in (404, 405):
            raise EndpointMissing(SUBMISSION_FLOW["evidence"])
        if uploaded.status_code != 201:
            raise BenchError(f"evidence: HTTP {uploaded.status_code} {uploaded.text[:300]}")
    submitted = session.post(base + SUBMISSION_FLOW["submit"].format(ref=reference), json={}, timeout=60)
    if submitted.status_code in (404, 405):
        raise EndpointMissing(SUBMISSION_FLOW["submit"])
    if submitted.status_code != 200:
        raise BenchError(f"submit: HTTP {submitted.status_code} {submitted.text[:300]}")
    return time.perf_counter() - started


def http_run(base: str, sessions: list[Any], submissions: int) -> tuple[float, list[float]]:
    """One run: the signed-in clients, concurrently, share `submissions` flows. (flows/s, latencies)."""
    files = [(unique_pdf(), unique_png()) for _ in range(submissions)]
    return concurrent_run(sessions, submissions, lambda session, index: submission_flow(session, base, files[index]))


def home_page(session: Any, base: str) -> float:
    started = time.perf_counter()
    response = session.get(base + "/", timeout=60)
    if response.status_code != 200:
        raise BenchError(f"portal home: HTTP {response.status_code}")
    return time.perf_counter() - started


def concurrent_run(sessions: list[Any], total: int, action: Callable[[Any, int], float]) -> tuple[float, list[float]]:
    """Each session in its own thread takes the next of `total` actions until none are left."""
    next_index = iter(range(total))
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def client(session: Any) -> None:
        while True:
            with lock:
                index = next(next_index, None)
            if index is None or errors:
                return
            try:
                seconds = action(session, index)
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread
                with lock:
                    errors.append(exc)
                return
            with lock:
                latencies.append(seconds)

    threads = [threading.Thread(target=client, args=(session,)) for session in sessions]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return len(latencies) / elapsed, latencies


def measure_http(report: Report, *, runs: int, submissions: int, clients: int, workers: int, write: Callable) -> None:
    customers = bench_customers(clients)
    try:
        with gunicorn_server(workers, write) as base:
            sessions = [signed_in_session(base, name) for name in customers]
            # A page every signed-in customer loads: gunicorn's baseline on this machine.
            rates, p50s, p95s = [], [], []
            for _ in range(runs):
                rate, latencies = concurrent_run(sessions, submissions * 2, lambda s, _: home_page(s, base))
                rates.append(rate)
                p50s.append(percentile(latencies, 50) * 1000)
                p95s.append(percentile(latencies, 95) * 1000)
            note = f"{clients} clients, signed in, through gunicorn ({workers} workers)"
            report.add("portal home (HTTP)", "pages/s", f"{median(rates):.1f}", note)
            report.add("portal home (HTTP)", "latency p50 / p95", f"{median(p50s):.0f} / {median(p95s):.0f} ms")
            rates, p50s, p95s = [], [], []
            for run in range(runs):
                rate, latencies = http_run(base, sessions, submissions)
                rates.append(rate)
                p50s.append(percentile(latencies, 50) * 1000)
                p95s.append(percentile(latencies, 95) * 1000)
                write(f"  HTTP run {run + 1}: {rate:.1f} submissions/s")
    except EndpointMissing as missing:
        note = f"{missing} answered 404/405 in this branch"
        for metric in ("submissions/s", "flow latency p50", "flow latency p95"):
            report.add("customer submit (HTTP)", metric, MISSING, note)
        return
    note = f"{clients} clients, {submissions} flows a run, gunicorn {workers} workers; create + 2 files + submit"
    report.add("customer submit (HTTP)", "submissions/s", f"{median(rates):.1f}", note)
    report.add("customer submit (HTTP)", "flow latency p50", f"{median(p50s):.0f} ms", "4 HTTP requests a flow")
    report.add("customer submit (HTTP)", "flow latency p95", f"{median(p95s):.0f} ms", "")


# --- in-process pages ----------------------------------------------------------------------------


def timed_get(client: Client, path: str, runs: int) -> tuple[float, int, Any] | None:
    """(median ms, queries of the last run, last response), or None when the page is missing."""
    client.get(path)  # warm caches and the connection; not counted
    times, queries, response = [], 0, None
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
        queries = len(captured.captured_queries)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise BenchError(f"GET {path}: HTTP {response.status_code}")
    return median(times), queries, response


@contextmanager
def admin_rows_per_page(rows: int) -> Iterator[None]:
    from django.contrib import admin

    model_admin = admin.site._registry.get(ReassessmentRequest)
    if model_admin is None:
        yield
        return
    saved = model_admin.list_per_page
    model_admin.list_per_page = rows
    try:
        yield
    finally:
        model_admin.list_per_page = saved


def measure_staff_queue(report: Report, *, runs: int) -> None:
    agent = bench_user("bench-agent", groups=[ACCOUNTS_TEAM], staff=True)
    client = Client()
    client.force_login(agent)
    for rows in (25, 100):
        with admin_rows_per_page(rows):
            found = timed_get(client, STAFF_PAGES["admin changelist"], runs)
        if found is None:
            report.add(f"staff queue, {rows} rows", "admin changelist", MISSING)
        else:
            ms, queries, _ = found
            report.add(f"staff queue, {rows} rows", "admin changelist", f"{ms:.0f} ms, {queries} queries")
        found = timed_get(client, f"{STAFF_PAGES['staff API list']}?page_size={rows}", runs)
        if found is None:
            report.add(f"staff queue, {rows} rows", "staff API list", MISSING)
        else:
            ms, queries, response = found
            returned = len(response.json().get("results", []))
            note = "" if returned == rows else f"returned {returned} rows (page_size not honoured?)"
            report.add(f"staff queue, {rows} rows", "staff API list", f"{ms:.0f} ms, {queries} queries", note)


def measure_sla_report(report: Report, *, runs: int) -> None:
    manager = bench_user("bench-manager", groups=[MANAGERS], staff=True)
    client = Client()
    client.force_login(manager)
    found = timed_get(client, SLA_REPORT, runs)
    if found is None:
        report.add("SLA report", SLA_REPORT, MISSING)
        return
    ms, queries, _ = found
    report.add("SLA report", SLA_REPORT, f"{ms:.0f} ms, {queries} queries", "default period")


def measure_sweeps(report: Report, *, runs: int, busy_events: int, busy_runs: int, write: Callable) -> None:
    # Emails the catch-up and idle sweeps deliver go nowhere: the bench measures the sweep.
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        _measure_sweeps(report, runs=runs, busy_events=busy_events, busy_runs=busy_runs, write=write)


def last_notification_id() -> int:
    return Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def retire_synthetic_outbox(after_id: int) -> int:
    """Mark the outbox rows the bench's sweeps wrote (ids above `after_id`, for synthetic bulk
    requests) as sent: delivering them would only mail demo addresses, and left unsent they would
    make every later "idle" sweep busy retrying them."""
    return Notification.objects.filter(pk__gt=after_id, sent_at__isnull=True).update(
        sent_at=timezone.now(), last_error="bench: synthetic, not delivered"
    )


def _measure_sweeps(report: Report, *, runs: int, busy_events: int, busy_runs: int, write: Callable) -> None:
    before = last_notification_id()
    catch_up = sweep.run_sweep(deliver=False)  # whatever came due since seeding; not measured
    retire_synthetic_outbox(before)
    sweep.run_sweep()
    write(f"  catch-up sweep: {catch_up.as_dict()}")
    times, queries = [], 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            result = sweep.run_sweep()
            times.append((time.perf_counter() - started) * 1000)
        queries = len(captured.captured_queries)
        if result.events:
            write(f"  (an idle sweep fired {result.events} events that just came due)")
    report.add("SLA sweep", "idle", f"{median(times):.0f} ms, {queries} queries", "nothing due; includes outbox retry")

    times, query_counts, fired = [], [], []
    for run in range(busy_runs):
        now = timezone.now()
        demo.bulk_due_requests(busy_events, now=now, seed=1000 + run)
        before = last_notification_id()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            result = sweep.run_sweep(now=now + timedelta(seconds=1), deliver=False)
            times.append(time.perf_counter() - started)
        query_counts.append(len(captured.captured_queries))
        fired.append(result.events)
        retire_synthetic_outbox(before)
        write(f"  busy sweep {run + 1}: {result.events:,} events in {times[-1]:.1f} s")
    note = (
        f"{settings.SLA_SWEEP_BATCH_SIZE}-row batches; events + outbox rows written, email delivery left to the workers"
    )
    if set(fired) != {busy_events}:
        note += f"; fired {fired} (expected {busy_events} each)"
    report.add(
        "SLA sweep",
        f"firing {busy_events:,} events",
        f"{median(times):.1f} s ({busy_events / median(times):,.0f} events/s), {int(median(query_counts))} queries",
        note,
    )


# --- the whole bench ---------------------------------------------------------------------------


def run_bench(
    *,
    target: int,
    runs: int,
    http_runs: int,
    http_submissions: int,
    http_clients: int,
    workers: int,
    busy_events: int,
    busy_runs: int,
    skip_http: bool,
    write: Callable[[str], None],
) -> Report:
    ensure_postgres()
    # The per-request access log and the sweep's summary line would drown the table.
    for name in ("casemgr.request", "tickets.sweep", "django.request"):
        logging.getLogger(name).setLevel(logging.WARNING)
    report = Report(machine=machine_lines())
    for line in report.machine:
        write(line)
    demo.seed_demo(write=lambda _: None)
    count, seeded = ensure_requests(target, write)
    report.add("data", "requests in the database", f"{count:,}", f"seeded now in {seeded:.0f} s" if seeded else "")
    if skip_http:
        report.add("customer submit (HTTP)", "submissions/s", "skipped (--skip-http)")
    else:
        write("Customer submissions through HTTP ...")
        measure_http(
            report, runs=http_runs, submissions=http_submissions, clients=http_clients, workers=workers, write=write
        )
    write("Staff queue ...")
    measure_staff_queue(report, runs=runs)
    write("SLA sweeps ...")
    measure_sweeps(report, runs=runs, busy_events=busy_events, busy_runs=busy_runs, write=write)
    write("SLA report ...")
    measure_sla_report(report, runs=runs)
    return report
