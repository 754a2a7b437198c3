"""Server-side SVG charts (pygal): no JavaScript, styled to match tandem.css."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import cache

import pygal
from babel.dates import format_skeleton
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from pygal.style import Style

from tandem.usage.selectors import UsageWeekly
from tandem.web.templatetags.tandem_format import babel_locale

# The palette of tandem.css (--chart-1 ...), kept in sync by hand: pygal needs literal colours.
PALETTE = (
    "#4f46e5",
    "#0ea5e9",
    "#10b981",
    "#f59e0b",
    "#ef4444",
    "#8b5cf6",
    "#14b8a6",
    "#ec4899",
    "#94a3b8",
)
FONT_STACK = (
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'Noto Sans Arabic', "
    "'Noto Sans CJK SC', 'Noto Sans CJK JP', sans-serif"
)

STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#475569",
    foreground_strong="#0f172a",
    foreground_subtle="#e2e8f0",
    opacity="0.85",
    opacity_hover="1",
    colors=PALETTE,
    font_family=FONT_STACK,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=12,
    title_font_size=13,
    value_font_size=11,
    tooltip_font_size=12,
)


# pygal always writes its config (labels included) into a <script> element, even with js=[].
# Nothing reads it without pygal.js, and series names from event data must not reach a script
# context, so it is cut out. The config is JSON and cannot contain a literal "</script>".
_SCRIPT_RE = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL)
# The Content-Security-Policy allows no inline styles (settings.CONTENT_SECURITY_POLICY), so the <style>
# pygal writes into each SVG is cut out too: it is the same for every chart but for the chart's own
# id, and web/charts.css (chart_css() below) carries it once for all charts. The tooltip group's
# style="opacity: 0" only serves pygal.js, which is not loaded; charts.css hides the group instead.
_STYLE_RE = re.compile(r"<style\b[^>]*>(.*?)</style>", re.DOTALL)
_TOOLTIP_STYLE = ' style="opacity: 0"'


def _svg(chart: pygal.graph.graph.Graph) -> SafeString:
    svg = _STYLE_RE.sub("", _SCRIPT_RE.sub("", chart.render(is_unicode=True)))
    svg = svg.replace(_TOOLTIP_STYLE, "")
    # Everything else in the SVG is built by pygal's XML serialiser, which escapes text.
    return mark_safe(svg)


# Series past the palette reuse its colours, as the HTML legends do (pygal would darken them).
CSS_SERIES = 3 * len(PALETTE)


@cache
def chart_css() -> str:
    """The stylesheet of every chart: pygal's own CSS for STYLE, for ``svg.pygal-chart`` instead of one id.

    Shipped as static/web/charts.css (a test keeps the file equal to this), and written into the
    printable report's own <style>. Legend swatches get ``.swatch.series-N``.
    """
    chart = pygal.Line(**_base_config(height=100))
    chart.x_labels = ["0"]
    for n in range(len(PALETTE)):
        chart.add(str(n), [n])
    match = _STYLE_RE.search(chart.render(is_unicode=True))
    assert match is not None, "pygal wrote no <style>"
    # pygal serialises the stylesheet as XML text ("&gt;"); in a .css file or an HTML <style> it is
    # read as written, so the child combinators must be unescaped or those rules (the transparent
    # plot background among them) are dropped and the plot turns dark.
    css = html.unescape(match.group(1)).replace(f"#chart-{chart.uuid}", "svg.pygal-chart")
    extra = ["svg.pygal-chart .tooltip{display:none}"]
    for n in range(CSS_SERIES):
        color = PALETTE[n % len(PALETTE)]
        if n >= len(PALETTE):
            extra.append(
                f"svg.pygal-chart .color-{n},svg.pygal-chart .color-{n} a:visited{{stroke:{color};fill:{color}}}"
            )
        extra.append(f".swatch.series-{n}{{background:{color}}}")
    return css.strip() + "\n" + "\n".join(extra) + "\n"


@dataclass(frozen=True)
class LegendEntry:
    label: str
    series: int  # position of the series in the chart: its swatch is styled by ``.swatch.series-N``

    @property
    def color(self) -> str:
        return PALETTE[self.series % len(PALETTE)]

    @property
    def css_class(self) -> str:
        return f"series-{self.series % CSS_SERIES}"


@dataclass(frozen=True)
class Chart:
    title: str
    svg: SafeString
    # Drawn in HTML under the chart: it wraps and mirrors with the page, where pygal's legend
    # neither reserves room for a second row nor follows right-to-left layout.
    legend: tuple[LegendEntry, ...] = ()


def _base_config(*, height: int, width: int = 820) -> dict:
    """``width``: close to the width the chart is shown at (820 for a full-width card, about 360 for
    a card in a three-column grid), so that pygal's font sizes come out as set above instead of being
    scaled down to a few pixels."""
    return {
        "style": STYLE,
        "width": width,
        "height": height,
        # Inline SVG inside HTML: no XML prolog, no pygal.js tooltips (no third-party JS).
        "disable_xml_declaration": True,
        "js": [],
        "explicit_size": False,
        "legend_at_bottom": True,
        "truncate_legend": -1,
        "truncate_label": -1,
        "include_x_axis": True,
        # Few y labels: the charts are for trends, exact values are in the tables.
        "min_scale": 3,
        "max_scale": 6,
        "show_minor_x_labels": False,
        "x_labels_major_every": 4,
        "margin": 6,
        "spacing": 8,
        "show_y_guides": True,
        "show_x_guides": False,
        "print_values": False,
    }


def _week_labels(usage: UsageWeekly) -> list[str]:
    locale = babel_locale()
    return [format_skeleton("MMMd", week, locale=locale) for week in usage.weeks]


def usage_charts(usage: UsageWeekly) -> list[Chart]:
    """Weekly events per feature (stacked bars) and weekly active users (line)."""
    labels = _week_labels(usage)

    events = pygal.StackedBar(**_base_config(height=260), show_legend=False)
    events.x_labels = labels
    series = list(usage.events_by_feature.items())
    if usage.other_events:
        series.append((_("Other features"), usage.other_events))
    for name, values in series:
        events.add(name, values)

    users = pygal.Line(**_base_config(height=200), show_legend=False, fill=True, dots_size=2)
    users.x_labels = labels
    users.add(_("Active users"), usage.active_users)

    return [
        Chart(
            title=_("Weekly events by feature"),
            svg=_svg(events),
            legend=tuple(LegendEntry(label=name, series=index) for index, (name, _values) in enumerate(series)),
        ),
        Chart(title=_("Weekly active users"), svg=_svg(users)),
    ]
