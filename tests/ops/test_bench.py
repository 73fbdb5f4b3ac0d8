"""The benchmark harness: refuses SQLite clearly, and runs end to end on PostgreSQL at toy size."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pypdf import PdfReader

from tests.conftest import is_postgres
from tickets import bench


def test_bench_refuses_sqlite_with_a_clear_message(db, monkeypatch) -> None:
    if is_postgres():
        # The same check, seen from a SQLite connection (the PostgreSQL pass runs it too).
        monkeypatch.setattr(bench, "connection", type("SQLite", (), {"vendor": "sqlite"})())
    with pytest.raises(CommandError, match=r"make bench needs PostgreSQL: .* Set DATABASE_URL=postgres://"):
        call_command("bench", "--requests", "10")


def test_bench_rejects_nonsense_options(db) -> None:
    with pytest.raises(CommandError, match="--runs must be at least 1"):
        call_command("bench", "--runs", "0")


def test_percentiles_and_medians() -> None:
    values = [float(n) for n in range(1, 101)]
    assert bench.percentile(values, 50) == 50.0
    assert bench.percentile(values, 95) == 95.0
    assert bench.median([3.0, 1.0, 2.0]) == 2.0


def test_benchmark_evidence_files_parse_and_differ() -> None:
    import io

    from PIL import Image

    first, second = bench.unique_pdf(), bench.unique_pdf()
    assert first != second
    assert len(PdfReader(io.BytesIO(first)).pages) == 1
    png = bench.unique_png()
    assert Image.open(io.BytesIO(png)).format == "PNG"
    assert png != bench.unique_png()


@pytest.mark.postgres
@pytest.mark.slow
def test_bench_runs_end_to_end_at_toy_size_and_marks_missing_pages(agent) -> None:
    lines: list[str] = []
    report = bench.run_bench(
        target=60, runs=1, http_runs=1, http_submissions=1, http_clients=1, workers=1,
        busy_events=30, busy_runs=1, skip_http=True, write=lines.append,
    )  # fmt: skip
    table = report.table()
    assert report.machine[0].startswith("machine: ") and "PostgreSQL" in report.machine[1]
    assert "| data | requests in the database |" in table
    sweep_rows = {f.metric: f.value for f in report.figures if f.section == "SLA sweep"}
    assert sweep_rows["idle"].endswith("queries")
    assert "firing 30 events" in sweep_rows
    assert "expected" not in next(f.note for f in report.figures if f.metric == "firing 30 events")
    for figure in report.figures:
        if figure.section.startswith("staff queue") or figure.section == "SLA report":
            assert figure.value == bench.MISSING or figure.value.endswith("queries")
