"""Charts drawn on the server as inline SVG (no chart library, no script, no style attributes: the
strict CSP allows SVG presentation attributes). Every chart is paired with a data table in the page."""

from __future__ import annotations

from markupsafe import Markup, escape

ROW_HEIGHT = 28
LABEL_WIDTH = 190
BAR_AREA = 330
VALUE_GAP = 8
WIDTH = LABEL_WIDTH + BAR_AREA + 90


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def bar_chart(chart_id: str, title: str, items: list[tuple[str, float]], unit: str = "") -> Markup:
    """A horizontal bar chart. The SVG is an image with a title and a description; the numbers are in
    the data table beside it, which screen-reader users can read cell by cell."""
    description = "; ".join(f"{label}: {_fmt(value)}{unit}" for label, value in items) or "No data"
    height = max(1, len(items)) * ROW_HEIGHT + 12
    top = max((v for _, v in items), default=0) or 1
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" role="img" aria-labelledby="{escape(chart_id)}-t '
        f'{escape(chart_id)}-d" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-d">{escape(description)}</desc>',
        f'<line class="axis" x1="{LABEL_WIDTH}" y1="4" x2="{LABEL_WIDTH}" y2="{height - 4}" stroke="#4a5560"/>',
    ]
    for i, (label, value) in enumerate(items):
        y = 6 + i * ROW_HEIGHT
        width = round(BAR_AREA * (value / top), 1) if value > 0 else 0
        short = label if len(label) <= 24 else label[:23] + "…"  # 13 px text: 24 characters fit LABEL_WIDTH
        parts.append(f'<text x="{LABEL_WIDTH - 6}" y="{y + 17}" text-anchor="end">{escape(short)}</text>')
        parts.append(f'<rect class="bar" x="{LABEL_WIDTH}" y="{y + 3}" width="{width}" height="{ROW_HEIGHT - 8}" '
                     'fill="#0b5d7a"/>')
        parts.append(f'<text x="{LABEL_WIDTH + width + VALUE_GAP}" y="{y + 17}">{escape(_fmt(value))}{escape(unit)}'
                     "</text>")
    if not items:
        parts.append(f'<text x="{LABEL_WIDTH + 8}" y="22">No data for this period</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated value above is escaped


LINE_HEIGHT = 220
LINE_LEFT = 40


def line_chart(chart_id: str, title: str, points: list[tuple[str, float]], top: float = 10) -> Markup:
    """Scores over time as a line with a dot per score (0 to `top`), oldest on the left. As with bar_chart,
    the numbers are in a data table beside it."""
    description = "; ".join(f"{label}: {_fmt(value)}" for label, value in points) or "No data"
    width = WIDTH
    plot_w, plot_h = width - LINE_LEFT - 20, LINE_HEIGHT - 40
    step = plot_w / max(1, len(points) - 1)
    coords = [(round(LINE_LEFT + (i * step if len(points) > 1 else plot_w / 2), 1),
               round(10 + plot_h * (1 - value / top), 1)) for i, (_, value) in enumerate(points)]
    cid = escape(chart_id)
    parts = [
        f'<svg class="chart" id="{cid}" role="img" aria-labelledby="{cid}-t {cid}-d" viewBox="0 0 {width} '
        f'{LINE_HEIGHT}" width="{width}" height="{LINE_HEIGHT}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{cid}-t">{escape(title)}</title>',
        f'<desc id="{cid}-d">{escape(description)}</desc>',
    ]
    for tick in (0, top / 2, top):
        y = round(10 + plot_h * (1 - tick / top), 1)
        parts.append(f'<line x1="{LINE_LEFT}" y1="{y}" x2="{width - 20}" y2="{y}" stroke="#c5ccd3"/>')
        parts.append(f'<text x="{LINE_LEFT - 6}" y="{y + 5}" text-anchor="end">{escape(_fmt(tick))}</text>')
    if len(coords) > 1:
        path = " ".join(f"{x},{y}" for x, y in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#0b5d7a" stroke-width="3"/>')
    for x, y in coords:
        parts.append(f'<circle cx="{x}" cy="{y}" r="5" fill="#0b5d7a"/>')
    if points:
        parts.append(f'<text x="{LINE_LEFT}" y="{LINE_HEIGHT - 8}">{escape(points[0][0])}</text>')
        parts.append(f'<text x="{width - 20}" y="{LINE_HEIGHT - 8}" text-anchor="end">{escape(points[-1][0])}</text>')
    else:
        parts.append(f'<text x="{LINE_LEFT + 8}" y="{LINE_HEIGHT / 2}">No scores yet</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated value above is escaped


SPARK_W, SPARK_H, SPARK_PAD = 200, 48, 6


def sparkline(chart_id: str, title: str, points: list[tuple[str, float]], top: float = 10) -> Markup:
    """A small line of scores (0 to `top`) for beside a goal: an image with a title; the page lists the
    numbers beside it, for screen readers and for anyone who wants them."""
    cid = escape(chart_id)
    inner_w, inner_h = SPARK_W - 2 * SPARK_PAD, SPARK_H - 2 * SPARK_PAD
    step = inner_w / max(1, len(points) - 1)
    coords = [(round(SPARK_PAD + (i * step if len(points) > 1 else inner_w / 2), 1),
               round(SPARK_PAD + inner_h * (1 - min(max(value, 0), top) / top), 1))
              for i, (_, value) in enumerate(points)]
    parts = [
        f'<svg class="sparkline" id="{cid}" role="img" aria-labelledby="{cid}-t" viewBox="0 0 {SPARK_W} {SPARK_H}" '
        f'width="{SPARK_W}" height="{SPARK_H}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{cid}-t">{escape(title)}</title>',
        f'<line x1="{SPARK_PAD}" y1="{SPARK_H - SPARK_PAD}" x2="{SPARK_W - SPARK_PAD}" y2="{SPARK_H - SPARK_PAD}" '
        'stroke="#c5ccd3"/>',
    ]
    if len(coords) > 1:
        parts.append(f'<polyline points="{" ".join(f"{x},{y}" for x, y in coords)}" fill="none" stroke="#0b5d7a" '
                     'stroke-width="2.5"/>')
    for x, y in coords:
        parts.append(f'<circle cx="{x}" cy="{y}" r="3.5" fill="#0b5d7a"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated value above is escaped
