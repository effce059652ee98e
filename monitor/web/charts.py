"""SVG charts drawn by the server: a story's spread, daily lines, horizontal bars.

Every string that reaches the SVG (outlet names, topics, dates) is escaped here; the functions
return `Markup` only after that. No script, no external resource: the charts render with
JavaScript off, and each page prints the same numbers as a table next to its chart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape

from markupsafe import Markup

from storage.reader import Sighting
from storage.records import parse_iso

PALETTE = ("#1f5fa8", "#c2410c", "#15803d", "#7e22ce", "#b91c1c", "#0f766e", "#a16207")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2", "4 4", "10 2")
FIRST = "#c2410c"
INK = "#374151"
GRID = "#e5e7eb"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{_e(label)}" class="chart">'
        f"<title>{_e(label)}</title>{''.join(body)}</svg>")


def _short(moment: datetime, seconds: bool = False) -> str:
    return moment.strftime("%d %b %H:%M:%S" if seconds else "%d %b %H:%M")


def _joining(sightings: Sequence[Sighting]) -> list[tuple[datetime, str, int]]:
    """(time, outlet, outlets so far) for each outlet's first sighting; the first reporter
    (listed first by storage.reader.story) stays first even if another copy was seen earlier."""
    points: list[tuple[datetime, str]] = []
    seen: set[str] = set()
    for s in sightings:
        at = parse_iso(s.first_seen_at)
        if at is None or s.outlet in seen:
            continue
        seen.add(s.outlet)
        points.append((max(at, points[0][0]) if points else at, s.outlet))
    points[1:] = sorted(points[1:])
    return [(at, outlet, n + 1) for n, (at, outlet) in enumerate(points)]


def spread(sightings: Sequence[Sighting], label: str = "Spread across outlets") -> Markup:
    """Outlets carrying the story over time: a step line, one dot per newly joining outlet,
    the first reporter marked."""
    points = _joining(sightings)
    if not points:
        return _svg(600, 40, label, [f'<text x="8" y="24" fill="{INK}">no sightings</text>'])
    left, right, top, step = 48, 200, 16, 22
    width, height = 760, top + step * len(points) + 40
    t0, t1 = points[0][0], points[-1][0]
    span = max((t1 - t0).total_seconds(), 1.0)
    fine = span < 3600
    plot_w = width - left - right

    def x(at: datetime) -> float:
        return left + (plot_w * (at - t0).total_seconds() / span if t1 > t0 else plot_w / 2)

    def y(n: int) -> float:
        return top + step * (len(points) - n) + step / 2

    body = [f'<line x1="{left}" y1="{height - 28}" x2="{width - right}" y2="{height - 28}" '
            f'stroke="{INK}"/>',
            f'<text x="{left}" y="{height - 10}" fill="{INK}" font-size="12">{_e(_short(t0, fine))}'
            " UTC</text>",
            f'<text x="{width - right}" y="{height - 10}" fill="{INK}" font-size="12" '
            f'text-anchor="end">{_e(_short(t1, fine))} UTC</text>',
            f'<text x="{left - 8}" y="{y(len(points)) + 4}" fill="{INK}" font-size="12" '
            f'text-anchor="end">{len(points)}</text>',
            f'<text x="{left - 8}" y="{y(1) + 4}" fill="{INK}" font-size="12" '
            'text-anchor="end">1</text>']
    path = [f"M{x(t0):.1f},{y(1):.1f}"]
    for at, _outlet, count in points[1:]:
        path += [f"H{x(at):.1f}", f"V{y(count):.1f}"]
    path.append(f"H{width - right:.1f}")
    body.append(f'<path d="{" ".join(path)}" fill="none" stroke="{PALETTE[0]}" '
                'stroke-width="2"/>')
    for n, (at, outlet, count) in enumerate(points):
        first = n == 0
        colour = FIRST if first else PALETTE[0]
        text = f"first: {outlet}" if first else outlet
        weight = ' font-weight="bold"' if first else ""
        body.append(
            f'<g class="{"first-reporter" if first else "sighting"}">'
            f'<circle cx="{x(at):.1f}" cy="{y(count):.1f}" r="{7 if first else 4.5}" '
            f'fill="{colour}"><title>{_e(outlet)}, {_e(_short(at, True))} UTC</title></circle>'
            f'<text x="{x(at) + 8:.1f}" y="{y(count) - 7:.1f}" font-size="12" fill="{INK}"'
            f"{weight}>{_e(text)}</text></g>")
    return _svg(width, height, label, body)


def daily_lines(days: Sequence[str], series: Mapping[str, Sequence[int]], label: str) -> Markup:
    """One line per series over consecutive days, with a legend; dashes tell lines apart
    without colour."""
    width, height, left, right, top, bottom = 760, 240, 40, 150, 14, 34
    peak = max([1, *(max(v, default=0) for v in series.values())])
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(days) - 1, 1)

    def xy(i: int, v: int) -> str:
        return f"{left + plot_w * i / n:.1f},{top + plot_h * (1 - v / peak):.1f}"

    body = []
    for tick in sorted({0, peak // 2, peak}):
        ty = top + plot_h * (1 - tick / peak)
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}" '
                    f'stroke="{GRID}"/><text x="{left - 6}" y="{ty + 4:.1f}" font-size="11" '
                    f'text-anchor="end" fill="{INK}">{tick}</text>')
    if days:
        for i in sorted({0, len(days) // 2, len(days) - 1}):
            anchor = "start" if i == 0 else "end" if i == len(days) - 1 else "middle"
            body.append(f'<text x="{left + plot_w * i / n:.1f}" y="{height - 12}" '
                        f'font-size="11" text-anchor="{anchor}" fill="{INK}">{_e(days[i])}'
                        "</text>")
    for k, (name, values) in enumerate(series.items()):
        colour, dash = PALETTE[k % len(PALETTE)], DASHES[k % len(DASHES)]
        pts = " ".join(xy(i, v) for i, v in enumerate(values))
        total = sum(values)
        dots = []
        for i, v in enumerate(values):
            if v:
                cx, cy = xy(i, v).split(",")
                dots.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{colour}"><title>'
                            f"{_e(days[i])} {_e(name)}: {v}</title></circle>")
        body.append(f'<g class="series"><title>{_e(name)}: {total} stories</title>'
                    f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2" '
                    f'stroke-dasharray="{dash}"/>{"".join(dots)}</g>')
        ly = top + 16 * k + 6
        body.append(f'<line x1="{width - right + 12}" x2="{width - right + 36}" y1="{ly}" '
                    f'y2="{ly}" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>'
                    f'<text x="{width - right + 42}" y="{ly + 4}" font-size="12" '
                    f'fill="{INK}">{_e(name)} ({total})</text>')
    if not series:
        body.append(f'<text x="{left + 10}" y="{top + 30}" fill="{INK}">nothing yet</text>')
    return _svg(width, height, label, body)


def bars(rows: Sequence[tuple[str, int]], label: str, rtl_labels: bool = False) -> Markup:
    """Horizontal bars with their values printed at the end."""
    left, bar_h, width = 190, 22, 760
    height = max(bar_h * len(rows) + 12, 40)
    peak = max([1, *(v for _, v in rows)])
    direction = ' direction="rtl"' if rtl_labels else ""
    body = []
    for i, (name, value) in enumerate(rows):
        y = 6 + i * bar_h
        w = (width - left - 60) * value / peak
        body.append(f'<text x="{left - 8}" y="{y + 15}" font-size="12" text-anchor="end" '
                    f'fill="{INK}"{direction}>{_e(name)}'
                    f'</text><rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{bar_h - 6}" '
                    f'fill="{PALETTE[0]}"><title>{_e(name)}: {value}</title></rect>'
                    f'<text x="{left + w + 6:.1f}" y="{y + 15}" font-size="12" fill="{INK}">'
                    f"{value}</text>")
    if not rows:
        body.append(f'<text x="8" y="24" fill="{INK}">nothing yet</text>')
    return _svg(width, height, label, body)
