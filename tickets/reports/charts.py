"""Server-side SVG charts: no JavaScript, no network, readable without colour (every bar is labelled
and the same numbers are in a table under each chart)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

from .selectors import Aging, Compliance

SERIES = (
    ("met", "Met", "#2e7d32"),
    ("late", "Late", "#e8a317"),
    ("missed", "Missed", "#c62828"),
    ("breached_open", "Breached, still open", "#6a1b9a"),
)
BUCKET_COLOUR = "#1f5f99"
PAUSED_COLOUR = "#8a8f98"


@dataclass(frozen=True)
class _Frame:
    width: int = 720
    height: int = 260
    left: int = 44
    right: int = 12
    top: int = 28
    bottom: int = 46

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom


def _scale(value: int) -> tuple[int, int]:
    """(axis maximum, tick step) for counts: whole-number ticks of 1, 2, 5 × 10^k, at most five."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if max(value, 1) <= factor * step * 5:
                tick = factor * step
                return max(tick, -(-max(value, 1) // tick) * tick), tick
        step *= 10


def _axis(frame: _Frame, maximum: int, tick: int) -> list[str]:
    parts = []
    for value in range(0, maximum + 1, tick):
        y = frame.top + frame.plot_height * (1 - value / maximum)
        parts.append(
            f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{frame.left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{value}</text>'
        )
    return parts


def _svg(frame: _Frame, title: str, description: str, chart_id: str, body: Sequence[str]) -> SafeString:
    return mark_safe(  # noqa: S308 - every interpolated text is escaped above
        f'<svg class="chart" viewBox="0 0 {frame.width} {frame.height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(description)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def compliance_chart(data: Compliance, chart_id: str) -> SafeString:
    """Stacked weekly bars (met, late, missed, breached still open) with the success rate on top."""
    frame = _Frame()
    weeks = data.weeks
    maximum, tick = _scale(max((w.counted for w in weeks), default=0))
    body = _axis(frame, maximum, tick)
    slot = frame.plot_width / max(len(weeks), 1)
    bar = min(48.0, slot * 0.7)
    for index, week in enumerate(weeks):
        x = frame.left + slot * index + (slot - bar) / 2
        y = frame.top + frame.plot_height
        label = week.week.strftime("%b %d") if week.week else ""
        for key, name, colour in SERIES:
            count = getattr(week, key)
            if not count:
                continue
            height = frame.plot_height * count / maximum
            y -= height
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}" fill="{colour}">'
                f"<title>{escape(label)}: {count} {escape(name.lower())}</title></rect>"
            )
        rate = week.success_rate
        if rate is not None:
            body.append(
                f'<text x="{x + bar / 2:.1f}" y="{y - 5:.1f}" text-anchor="middle" class="value">{rate:.0%}</text>'
            )
        if len(weeks) <= 16 or index % 2 == 0:
            body.append(
                f'<text x="{x + bar / 2:.1f}" y="{frame.height - frame.bottom + 16}" text-anchor="middle" '
                f'class="tick">{escape(label)}</text>'
            )
    legend_x = frame.left
    for _, name, colour in SERIES:
        body.append(
            f'<rect x="{legend_x}" y="{frame.height - 16}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{legend_x + 14}" y="{frame.height - 7}" class="legend">{escape(name)}</text>'
        )
        legend_x += 24 + 7 * len(name)
    total = data.total
    rate_text = "no cycles counted" if total.success_rate is None else f"success rate {total.success_rate:.1%}"
    description = (
        f"{data.label}: {total.met} met, {total.late} late, {total.missed} missed and {total.breached_open} "
        f"breached still open over {len(weeks)} weeks; {rate_text}. The table below has the weekly numbers."
    )
    return _svg(frame, f"Weekly SLA compliance: {data.label.lower()}", description, chart_id, body)


def aging_chart(data: Aging, chart_id: str) -> SafeString:
    frame = _Frame(width=520, height=240, bottom=40)
    maximum, tick = _scale(max((n for _, _, n in data.buckets), default=0))
    body = _axis(frame, maximum, tick)
    slot = frame.plot_width / len(data.buckets)
    bar = slot * 0.62
    for index, (key, label, count) in enumerate(data.buckets):
        # The paused bucket stands apart: a gap before it and a neutral colour.
        gap = 14 if key == "paused" else 0
        x = frame.left + slot * index + (slot - bar) / 2 + gap
        height = frame.plot_height * count / maximum
        y = frame.top + frame.plot_height - height
        colour = PAUSED_COLOUR if key == "paused" else BUCKET_COLOUR
        short = "Paused" if key == "paused" else label.replace(" business days", " days")
        body.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}" fill="{colour}">'
            f"<title>{escape(label)}: {count}</title></rect>"
            f'<text x="{x + bar / 2:.1f}" y="{y - 5:.1f}" text-anchor="middle" class="value">{count}</text>'
            f'<text x="{x + bar / 2:.1f}" y="{frame.height - frame.bottom + 16}" text-anchor="middle" '
            f'class="tick">{escape(short)}</text>'
        )
    description = "; ".join(f"{label}: {count}" for _, label, count in data.buckets)
    return _svg(frame, "Open requests by business days used", description + ".", chart_id, body)
