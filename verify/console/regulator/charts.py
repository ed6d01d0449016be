"""Charts for the regulator's dashboard, drawn on the server as inline SVG from the figures.

No script and no inline style (the console's Content-Security-Policy allows neither): shapes carry
presentation attributes only. Every chart has a title and an accessible label, and its figures are
also in a table on the same page, so nothing is shown only as a picture.

Must not: query anything (the views pass the figures in) or put personal data in a chart.
"""
from __future__ import annotations

from html import escape

from markupsafe import Markup

OPEN, CONFIRMED, AXIS, TEXT, MUTED = "#e0a458", "#b3261e", "#9aa3b2", "#1d2330", "#5b6475"


def _svg(label: str, width: int, height: int, body: list[str], kind: str = "bars") -> Markup:
    return Markup(f'<svg class="chart {kind}" role="img" aria-label="{escape(label)}" viewBox="0 0 {width} {height}" '
                  f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
                  f'<title>{escape(label)}</title>{"".join(body)}</svg>')


def _legend(x: int, y: int, legend: tuple[str, str]) -> str:
    return (f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{CONFIRMED}"/>'
            f'<text x="{x + 14}" y="{y}" font-size="11" fill="{TEXT}">{escape(legend[1])}</text>'
            f'<rect x="{x + 120}" y="{y - 9}" width="10" height="10" fill="{OPEN}"/>'
            f'<text x="{x + 134}" y="{y}" font-size="11" fill="{TEXT}">{escape(legend[0])}</text>')


def bar_chart(rows, label: str, legend=("", ""), left: int = 150) -> Markup:
    """Horizontal bars: rows of (label, open, confirmed); the confirmed part drawn darker first."""
    width, bar_h, gap = 460, 18, 9
    top = max((a + b for _, a, b in rows), default=0) or 1
    span = width - left - 50
    height = max(len(rows), 1) * (bar_h + gap) + 34
    body = []
    for i, (name, a, b) in enumerate(rows):
        y = i * (bar_h + gap) + 4
        wb, wa = span * b / top, span * a / top
        name = str(name)
        short = name if len(name) <= 10 else name[:9] + "…"
        body.append(f'<text x="{left - 8}" y="{y + 13}" text-anchor="end" font-size="13" fill="{TEXT}">'
                    f'<title>{escape(name)}</title>{escape(short)}</text>'
                    f'<rect x="{left}" y="{y}" width="{wb:.1f}" height="{bar_h}" fill="{CONFIRMED}"/>'
                    f'<rect x="{left + wb:.1f}" y="{y}" width="{wa:.1f}" height="{bar_h}" fill="{OPEN}"/>'
                    f'<text x="{left + wa + wb + 6:.1f}" y="{y + 13}" font-size="12" fill="{TEXT}">{a + b}</text>')
    if not rows:
        body.append(f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="13" fill="{MUTED}">—</text>')
    body.append(_legend(left, height - 10, legend))
    return _svg(label, width, height, body)


def column_chart(rows, label: str, legend=("", "")) -> Markup:
    """Columns over time: rows of (label, raised, of which confirmed)."""
    width, height, base, left, room = 960, 244, 176, 34, 140
    top = max((a for _, a, _ in rows), default=0) or 1
    step = (width - left - 10) / max(len(rows), 1)
    body = [f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="{AXIS}"/>']
    for n in sorted({0, top // 2, top}):  # a light scale: zero, half and the top
        y = base - room * n / top
        body.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="10" fill="{MUTED}">{n}</text>')
        if n:
            body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#e6e9ef"/>')
    for i, (name, total, confirmed) in enumerate(rows):
        x, h, hc = left + i * step + 4, room * total / top, room * confirmed / top
        mid = x + (step - 8) / 2
        body.append(f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{step - 8:.1f}" height="{h:.1f}" fill="{OPEN}"/>'
                    f'<rect x="{x:.1f}" y="{base - hc:.1f}" width="{step - 8:.1f}" height="{hc:.1f}" fill="{CONFIRMED}"/>'
                    f'<text x="{mid:.1f}" y="{base - h - 4:.1f}" text-anchor="middle" font-size="11" fill="{TEXT}">'
                    f'{total or ""}</text><text x="{mid:.1f}" y="{base + 14}" text-anchor="middle" font-size="10" '
                    f'fill="{MUTED}">{escape(name)}</text>')
    body.append(_legend(left, height - 8, legend))
    return _svg(label, width, height, body, "columns")
